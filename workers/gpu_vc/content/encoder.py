"""The content encoder: a small Conformer from log-mel frames to Kokoro's decoder inputs.

Pairs of mel frames are stacked into one step per decoder frame (40 a second); six Conformer
blocks (self-attention for context, depthwise convolution for locality, no absolute positions,
so any length works) feed four heads: the phoneme each frame belongs to (``tokens``: the
converter runs Kokoro's own text encoder on the recognised phonemes, which gives the decoder
features it knows; regressing those 512-d features directly, ``asr``, blurred them into mumbling),
and F0 (Hz) and energy at twice the frame rate, as Kokoro's prosody predictor makes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from workers.gpu_vc.content.mel import N_MELS

ASR_DIM = 512
VOCAB = 178  # Kokoro's phoneme tokens (0 is the boundary/silence token)
F0_SCALE = 100.0  # the F0 head predicts Hz / 100


@dataclass
class Content:
    asr: Tensor  # [B, 512, F]
    f0: Tensor  # [B, 2F] Hz
    energy: Tensor  # [B, 2F]
    tokens: Tensor  # [B, VOCAB, F] logits: which phoneme each frame belongs to


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__(
            nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.SiLU(), nn.Dropout(dropout), nn.Linear(hidden, dim)
        )


class ConvModule(nn.Module):
    def __init__(self, dim: int, kernel: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pointwise_in = nn.Linear(dim, 2 * dim)
        self.depthwise = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.depth_norm = nn.LayerNorm(dim)
        self.pointwise_out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, pad: Tensor) -> Tensor:
        """x [B, T, D]; pad [B, T] True on padding (zeroed so it never leaks into real steps)."""
        x = F.glu(self.pointwise_in(self.norm(x)), dim=-1).masked_fill(pad[..., None], 0.0)
        x = self.depthwise(x.transpose(1, 2)).transpose(1, 2)
        return self.pointwise_out(F.silu(self.depth_norm(x)))


class ConformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.ff1 = FeedForward(dim, 4 * dim, dropout)
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.conv = ConvModule(dim, kernel)
        self.ff2 = FeedForward(dim, 4 * dim, dropout)
        self.out_norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, pad: Tensor) -> Tensor:
        x = x + 0.5 * self.dropout(self.ff1(x))
        h = self.attn_norm(x)
        x = x + self.dropout(self.attn(h, h, h, key_padding_mask=pad, need_weights=False)[0])
        x = x + self.dropout(self.conv(x, pad))
        x = x + 0.5 * self.dropout(self.ff2(x))
        return self.out_norm(x)


class ContentEncoder(nn.Module):
    def __init__(self, dim: int = 256, layers: int = 6, heads: int = 4, kernel: int = 15, dropout: float = 0.1) -> None:
        super().__init__()
        self.config = {"dim": dim, "layers": layers, "heads": heads, "kernel": kernel}
        self.input = nn.Sequential(nn.Linear(2 * N_MELS, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.position = nn.Conv1d(dim, dim, 31, padding=15, groups=dim)  # relative position, as in wav2vec 2.0
        self.blocks = nn.ModuleList(ConformerBlock(dim, heads, kernel, dropout) for _ in range(layers))
        self.asr = nn.Linear(dim, ASR_DIM)
        self.curves = nn.Linear(dim, 4)  # F0 and energy, two steps each per frame
        self.tokens = nn.Linear(dim, VOCAB)

    def forward(self, mel: Tensor, frames: Tensor) -> Content:
        """mel [B, N_MELS, 2F] (``LogMel``), real frames per row [B] -> the decoder's inputs."""
        b, _, steps = mel.shape
        size = steps // 2
        pad = torch.arange(size, device=mel.device)[None, :] >= frames[:, None]  # [B, F]
        x = mel[..., : 2 * size].reshape(b, N_MELS, size, 2).permute(0, 2, 3, 1).reshape(b, size, 2 * N_MELS)
        x = self.input(x).masked_fill(pad[..., None], 0.0)
        x = x + self.position(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x, pad)
        x = x.masked_fill(pad[..., None], 0.0)
        curves = self.curves(x).reshape(b, size, 2, 2).permute(0, 2, 1, 3).reshape(b, 2, 2 * size)
        tokens = self.tokens(x).transpose(1, 2)
        return Content(self.asr(x).transpose(1, 2), curves[:, 0] * F0_SCALE, curves[:, 1], tokens)


def save_encoder(encoder: ContentEncoder, path: Path) -> None:
    """Weights in float16 with their architecture: what ships (``load_encoder`` reads it)."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in encoder.state_dict().items()}
    torch.save({"config": encoder.config, "state": state}, path)


def load_encoder(path: Path, device: str | torch.device = "cpu", strict: bool = True) -> ContentEncoder:
    """The shipped weights in float32 (``strict=False``: a head added since may be missing)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    encoder = ContentEncoder(**saved["config"], dropout=0.0)
    state = {k: v.float() if v.is_floating_point() else v for k, v in saved["state"].items()}
    encoder.load_state_dict(state, strict=strict)
    return encoder.to(device).eval()
