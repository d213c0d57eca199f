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
    """Real lengths of the rows of a padded [B, C, T] batch at one time resolution.

    ``host_lengths`` is the same on the CPU (packing LSTMs needs it there; keeping a copy avoids
    a GPU round trip per LSTM).
    """

    lengths: Tensor  # [B] int64, on the model's device
    host_lengths: Tensor  # [B] int64, on the CPU
    size: int  # T, the padded length

    @classmethod
    def of(cls, host_lengths: Tensor, device: torch.device, size: int | None = None) -> Span:
        size = int(host_lengths.max()) if size is None else size
        return cls(host_lengths.to(device, non_blocking=True), host_lengths, size)

    @cached_property
    def full(self) -> bool:
        """Every row is real to the end: nothing to mask."""
        return bool((self.host_lengths == self.size).all())

    @cached_property
    def mask(self) -> Tensor | None:  # [B, 1, T] bool, None when full
        if self.full:
            return None
        steps = torch.arange(self.size, device=self.lengths.device)
        return (steps[None, :] < self.lengths[:, None]).unsqueeze(1)

    @cached_property
    def count(self) -> Tensor:  # [B, 1, 1] float32, real steps per row
        return self.lengths.to(torch.float32).view(-1, 1, 1)

    def scaled(self, factor: int, extra: int = 0) -> Span:
        """The span after an upsampling by ``factor`` (plus ``extra`` steps per row)."""
        return Span(self.lengths * factor + extra, self.host_lengths * factor + extra, self.size * factor + extra)

    def zero_padding(self, x: Tensor) -> Tensor:
        """Zero the padded steps of a [B, C, T] tensor."""
        return x if self.mask is None else torch.where(self.mask, x, 0)

    def zero_padding_rows(self, x: Tensor) -> Tensor:
        """Zero the padded steps of a [B, T, C] tensor."""
        return x if self.mask is None else torch.where(self.mask.transpose(1, 2), x, 0)


def _norm_affine(x: Tensor, mask: Tensor | None, count: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    """(1 + gamma) * InstanceNorm(x) + beta, statistics over real steps only, in float32."""
    x = x.float()
    if mask is None:
        centred = x - x.mean(-1, keepdim=True)
        var = (centred * centred).mean(-1, keepdim=True)
    else:
        centred = torch.where(mask, x - torch.where(mask, x, 0.0).sum(-1, keepdim=True) / count, 0.0)
        var = (centred * centred).sum(-1, keepdim=True) / count
    return centred * ((1 + gamma) * torch.rsqrt(var + 1e-5)) + beta


def _adain_leaky(x: Tensor, mask: Tensor | None, count: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    y = F.leaky_relu(_norm_affine(x, mask, count, gamma, beta), 0.2)
    return y if mask is None else torch.where(mask, y, 0.0)


def _adain_snake(x: Tensor, mask: Tensor | None, count: Tensor, gamma: Tensor, beta: Tensor, alpha: Tensor) -> Tensor:
    y = _norm_affine(x, mask, count, gamma, beta)
    y = y + (1 / alpha) * torch.sin(alpha * y) ** 2  # Snake
    return y if mask is None else torch.where(mask, y, 0.0)


class _Fused:
    """The norm + activation + padding steps, eager by default; ``compile()`` fuses each into a
    couple of GPU kernels with torch.compile (these elementwise passes dominate a batched pass)."""

    adain_leaky = staticmethod(_adain_leaky)
    adain_snake = staticmethod(_adain_snake)

    @classmethod
    def eager(cls) -> None:
        cls.adain_leaky = staticmethod(_adain_leaky)
        cls.adain_snake = staticmethod(_adain_snake)

    @classmethod
    def compile(cls) -> None:
        import torch._dynamo

        # One graph per channel count, memory layout, dtype and masked/unmasked: a few dozen in all.
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        cls.adain_leaky = staticmethod(torch.compile(_adain_leaky, dynamic=True))
        cls.adain_snake = staticmethod(torch.compile(_adain_snake, dynamic=True))


fused = _Fused


def run_lstm(lstm: nn.LSTM, x: Tensor, span: Span) -> Tensor:
    """A bidirectional LSTM over [B, T, C] that stops at each row's end (packed sequences)."""
    if span.full:
        return lstm(x)[0]
    packed = nn.utils.rnn.pack_padded_sequence(x, span.host_lengths, batch_first=True, enforce_sorted=False)
    out, _ = lstm(packed)
    return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


class AdaIN1d(nn.Module):
    """Instance norm whose scale and shift come from the style vector."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, channels * 2)

    def affine(self, style: Tensor) -> tuple[Tensor, Tensor]:
        """(gamma, beta), each [B, C, 1] in float32."""
        gamma, beta = self.fc(style).float().unsqueeze(-1).chunk(2, dim=1)
        return gamma, beta


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
        r = fused.adain_leaky(x, span.mask, span.count, *self.norm1.affine(style))
        if self.upsample:
            r = out_span.zero_padding(self.pool(r))
        r = self.conv1(r)
        r = self.conv2(fused.adain_leaky(r, out_span.mask, out_span.count, *self.norm2.affine(style)))
        shortcut = F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x
        if self.conv1x1 is not None:
            shortcut = self.conv1x1(shortcut)
        return (r + shortcut) * INV_SQRT2


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
        layers = zip(self.convs1, self.convs2, self.adain1, self.adain2, self.alpha1, self.alpha2, strict=True)
        for c1, c2, n1, n2, a1, a2 in layers:
            # .detach(): a plain tensor, so the compiled kernel does not specialise on each channel count
            xt = c1(fused.adain_snake(x, span.mask, span.count, *n1.affine(style), a1.detach()))
            xt = c2(fused.adain_snake(xt, span.mask, span.count, *n2.affine(style), a2.detach()))
            x = xt + x
        return x
