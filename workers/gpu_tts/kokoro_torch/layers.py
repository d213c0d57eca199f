"""Building blocks of Kokoro's prosody predictor and decoder, made safe for padded batches.

Every block takes a :class:`Span` (which time steps of each row are real) and keeps padding out
of the real steps: instance norms average over real steps only, and every convolution sees
zeros past a row's end, exactly as the same row would alone. So a batched row gives the same
numbers as that row run by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F
from torch import Tensor, nn

INV_SQRT2 = 1 / math.sqrt(2)


@dataclass(frozen=True)
class Span:
    """Real lengths of the rows of a padded [B, C, T] batch at one time resolution."""

    lengths: Tensor  # [B] int64
    size: int  # T, the padded length
    full: bool = False  # every row is real to the end: nothing to mask

    @classmethod
    def of(cls, lengths: Tensor, size: int) -> Span:
        return cls(lengths, size, bool((lengths == size).all()))

    @cached_property
    def mask(self) -> Tensor:  # [B, 1, T] bool
        steps = torch.arange(self.size, device=self.lengths.device)
        return (steps[None, :] < self.lengths[:, None]).unsqueeze(1)

    def scaled(self, factor: int, extra: int = 0) -> Span:
        """The span after an upsampling by ``factor`` (plus ``extra`` steps per row)."""
        return Span(self.lengths * factor + extra, self.size * factor + extra, self.full)

    def zero_padding(self, x: Tensor) -> Tensor:
        return x if self.full else x.masked_fill(~self.mask, 0.0)


def instance_norm(x: Tensor, span: Span, eps: float = 1e-5) -> Tensor:
    """InstanceNorm1d over each row's real steps only (biased variance, as torch and ONNX)."""
    if span.full:
        return F.instance_norm(x.float(), eps=eps)
    mask = span.mask
    count = span.lengths.to(torch.float32).view(-1, 1, 1)
    x = x.float().masked_fill(~mask, 0.0)  # statistics in float32 even under autocast
    centred = (x - x.sum(-1, keepdim=True) / count).masked_fill(~mask, 0.0)
    var = (centred * centred).sum(-1, keepdim=True) / count
    return centred / torch.sqrt(var + eps)


def run_lstm(lstm: nn.LSTM, x: Tensor, lengths: Tensor) -> Tensor:
    """A bidirectional LSTM over [B, T, C] that stops at each row's end (packed sequences)."""
    if lengths.shape[0] == 1:  # one row is never padded
        return lstm(x)[0]
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = lstm(packed)
    return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


class AdaIN1d(nn.Module):
    """Instance norm whose scale and shift come from the style vector."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: Tensor, style: Tensor, span: Span) -> Tensor:
        gamma, beta = self.fc(style).unsqueeze(-1).chunk(2, dim=1)
        return (1 + gamma) * instance_norm(x, span) + beta


class AdaLayerNorm(nn.Module):
    """Layer norm over channels (per time step) with a style-driven scale and shift; x is [B, T, C]."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        gamma, beta = self.fc(style).unsqueeze(1).chunk(2, dim=-1)
        return (1 + gamma) * F.layer_norm(x, (self.channels,), eps=1e-5) + beta


class AdainResBlk1d(nn.Module):
    """Residual block of the prosody predictor and decoder; optionally doubles the time axis."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv1 = nn.Conv1d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv1d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        self.conv1x1 = nn.Conv1d(dim_in, dim_out, 1, 1, 0, bias=False) if dim_in != dim_out else None
        if upsample:
            self.pool = nn.ConvTranspose1d(dim_in, dim_in, 3, stride=2, groups=dim_in, padding=1, output_padding=1)

    def forward(self, x: Tensor, style: Tensor, span: Span) -> Tensor:
        out_span = span.scaled(2) if self.upsample else span
        r = F.leaky_relu(self.norm1(x, style, span), 0.2)
        if self.upsample:
            r = self.pool(span.zero_padding(r))
        r = self.conv1(out_span.zero_padding(r))
        r = F.leaky_relu(self.norm2(r, style, out_span), 0.2)
        r = self.conv2(out_span.zero_padding(r))
        shortcut = F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x
        if self.conv1x1 is not None:
            shortcut = self.conv1x1(shortcut)
        return (r + shortcut) * INV_SQRT2


def snake(x: Tensor, alpha: Tensor) -> Tensor:
    return x + (1 / alpha) * torch.sin(alpha * x) ** 2


class AdaINResBlock1(nn.Module):
    """HiFi-GAN style dilated residual block with style-conditioned norms and Snake activations."""

    def __init__(self, channels: int, kernel: int, dilations: list[int], style_dim: int) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=(kernel * d - d) // 2) for d in dilations
        )
        self.convs2 = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations)
        self.adain1 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.adain2 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.alpha1 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)
        self.alpha2 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)

    def forward(self, x: Tensor, style: Tensor, span: Span) -> Tensor:
        for c1, c2, n1, n2, a1, a2 in zip(
            self.convs1, self.convs2, self.adain1, self.adain2, self.alpha1, self.alpha2, strict=True
        ):
            xt = c1(span.zero_padding(snake(n1(x, style, span), a1)))
            xt = c2(span.zero_padding(snake(n2(xt, style, span), a2)))
            x = xt + x
        return x
