"""Kokoro's text side: the PL-BERT (ALBERT) encoder, the phoneme text encoder, and the
prosody predictor (durations, then F0 and energy curves). All take padded batches of phoneme
ids. (Cutting a request's text into chunks is ``workers.gpu_tts.chunking``.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from workers.gpu_tts.kokoro_torch.layers import AdainResBlk1d, AdaLayerNorm, Span, run_lstm


class AlbertLayer(nn.Module):
    """The one transformer layer ALBERT shares across all its passes."""

    def __init__(self, hidden: int, heads: int, intermediate: int) -> None:
        super().__init__()
        self.heads = heads
        self.attention = nn.ModuleDict(
            {
                "query": nn.Linear(hidden, hidden),
                "key": nn.Linear(hidden, hidden),
                "value": nn.Linear(hidden, hidden),
                "dense": nn.Linear(hidden, hidden),
                "LayerNorm": nn.LayerNorm(hidden, eps=1e-12),
            }
        )
        self.ffn = nn.Linear(hidden, intermediate)
        self.ffn_output = nn.Linear(intermediate, hidden)
        self.full_layer_layer_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, h: Tensor, key_mask: Tensor | None) -> Tensor:
        att = self.attention
        b, t, c = h.shape

        def heads(x: Tensor) -> Tensor:
            return x.view(b, t, self.heads, c // self.heads).transpose(1, 2)

        q, k, v = heads(att["query"](h)), heads(att["key"](h)), heads(att["value"](h))
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
        ctx = ctx.transpose(1, 2).reshape(b, t, c)
        h = att["LayerNorm"](h + att["dense"](ctx))
        ffn = self.ffn_output(F.gelu(self.ffn(h), approximate="tanh"))
        return self.full_layer_layer_norm(ffn + h)


class Albert(nn.Module):
    def __init__(
        self, vocab: int, embedding: int, hidden: int, heads: int, intermediate: int, layers: int, max_len: int
    ):
        super().__init__()
        self.passes = layers
        self.embeddings = nn.ModuleDict(
            {
                "word_embeddings": nn.Embedding(vocab, embedding),
                "position_embeddings": nn.Embedding(max_len, embedding),
                "token_type_embeddings": nn.Embedding(2, embedding),
                "LayerNorm": nn.LayerNorm(embedding, eps=1e-12),
            }
        )
        self.embedding_hidden_mapping_in = nn.Linear(embedding, hidden)
        self.layer = AlbertLayer(hidden, heads, intermediate)

    def forward(self, ids: Tensor, tokens: Span) -> Tensor:
        emb = self.embeddings
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = emb["word_embeddings"](ids) + emb["position_embeddings"](positions) + emb["token_type_embeddings"].weight[0]
        h = self.embedding_hidden_mapping_in(emb["LayerNorm"](x))
        key_mask = None if tokens.mask is None else tokens.mask.unsqueeze(1)  # [B, 1, 1, T]: padded keys ignored
        for _ in range(self.passes):
            h = self.layer(h, key_mask)
        return h


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of a [B, C, T] tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x.transpose(1, -1), self.gamma.shape, self.gamma, self.beta, 1e-5).transpose(1, -1)


class TextEncoder(nn.Module):
    """Phoneme embeddings -> 3 convolutions -> BiLSTM: what the decoder reads, per phoneme."""

    def __init__(self, channels: int, kernel: int, depth: int, vocab: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in range(depth)
        )
        self.norms = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(depth))
        self.lstm = nn.LSTM(channels, channels // 2, batch_first=True, bidirectional=True)

    def forward(self, ids: Tensor, span: Span) -> Tensor:
        x = span.zero_padding(self.embedding(ids).transpose(1, 2))
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = span.zero_padding(F.leaky_relu(norm(conv(x)), 0.2))
        x = run_lstm(self.lstm, x.transpose(1, 2), span).transpose(1, 2)
        return span.zero_padding(x)


class DurationEncoder(nn.Module):
    """BiLSTMs interleaved with style-conditioned layer norms; output is [B, T, hidden + style]."""

    def __init__(self, style_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.lstms = nn.ModuleList()
        for _ in range(layers):
            self.lstms.append(nn.LSTM(hidden + style_dim, hidden // 2, batch_first=True, bidirectional=True))
            self.lstms.append(AdaLayerNorm(style_dim, hidden))

    def forward(self, x: Tensor, style: Tensor, span: Span) -> Tensor:
        styles = style.unsqueeze(1).expand(-1, x.shape[1], -1)
        x = span.zero_padding_rows(torch.cat([x, styles], dim=-1))
        for lstm, norm in zip(self.lstms[0::2], self.lstms[1::2], strict=True):
            x = span.zero_padding_rows(run_lstm(lstm, x, span))
            x = span.zero_padding_rows(torch.cat([norm(x, style), styles], dim=-1))
        return x


class ProsodyPredictor(nn.Module):
    def __init__(self, style_dim: int, hidden: int, layers: int, max_dur: int) -> None:
        super().__init__()
        self.text_encoder = DurationEncoder(style_dim, hidden, layers)
        self.lstm = nn.LSTM(hidden + style_dim, hidden // 2, batch_first=True, bidirectional=True)
        self.duration_proj = nn.Linear(hidden, max_dur)
        self.shared = nn.LSTM(hidden + style_dim, hidden // 2, batch_first=True, bidirectional=True)
        half = hidden // 2

        def curve_blocks() -> nn.ModuleList:  # frame rate, then doubled, then refined
            return nn.ModuleList(
                [
                    AdainResBlk1d(hidden, hidden, style_dim),
                    AdainResBlk1d(hidden, half, style_dim, upsample=True),
                    AdainResBlk1d(half, half, style_dim),
                ]
            )

        self.F0 = curve_blocks()
        self.N = curve_blocks()
        self.F0_proj = nn.Conv1d(half, 1, 1)
        self.N_proj = nn.Conv1d(half, 1, 1)

    def durations(self, d: Tensor, speed: Tensor, span: Span) -> Tensor:
        """Frames per phoneme, [B, T] int64; 0 on padding, at least 1 on real phonemes."""
        x = run_lstm(self.lstm, d, span)
        logits = self.duration_proj(x)
        frames = torch.round(torch.sigmoid(logits).sum(-1) / speed[:, None]).clamp(min=1)
        return span.zero_padding(frames.long().unsqueeze(1)).squeeze(1)

    def curves(self, en: Tensor, style: Tensor, frames: Span) -> tuple[Tensor, Tensor]:
        """F0 and energy at twice the frame rate, [B, 2F] each."""
        x = run_lstm(self.shared, en.transpose(1, 2), frames).transpose(1, 2)
        spans = (frames, frames, frames.scaled(2))  # the middle block doubles the time axis
        f0, n = x, x
        for f0_block, n_block, span in zip(self.F0, self.N, spans, strict=True):
            f0, n = f0_block(f0, style, span), n_block(n, style, span)
        return self.F0_proj(f0).squeeze(1), self.N_proj(n).squeeze(1)


def expand_to_frames(per_token: Tensor, durations: Tensor) -> tuple[Tensor, Span]:
    """Repeat each phoneme's column ``durations`` times: [B, C, T] -> [B, C, F] and its span."""
    ends = durations.cumsum(1)  # [B, T], non-decreasing
    host_lengths = ends[:, -1].cpu()  # the one wait for the GPU: the frame count sets every shape after
    span = Span.of(host_lengths, durations.device, max(int(host_lengths.max()), 1))
    steps = torch.arange(span.size, device=durations.device).expand(durations.shape[0], -1).contiguous()
    token = torch.searchsorted(ends, steps, right=True).clamp(max=durations.shape[1] - 1)
    gathered = per_token.gather(2, token.unsqueeze(1).expand(-1, per_token.shape[1], -1))
    return span.zero_padding(gathered), span


def albert_dims(plbert: dict) -> dict:
    return {
        "embedding": 128,
        "hidden": plbert["hidden_size"],
        "heads": plbert["num_attention_heads"],
        "intermediate": plbert["intermediate_size"],
        "layers": plbert["num_hidden_layers"],
        "max_len": plbert["max_position_embeddings"],
    }
