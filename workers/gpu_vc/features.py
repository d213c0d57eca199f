"""Spectral-envelope features in PyTorch: mel-cepstra, frequency warping and voice statistics.

A frame's power envelope is coded as the first ``MCEP_DIM`` DCT coefficients of its log level
on a mel-spaced frequency grid: low-order, so speaker traits show in the means and spreads of
the coefficients, and coefficient 0 is the frame's overall level. All functions take a
leading batch of frames (and optionally a batch of warps) and run on the tensors' device.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch

MCEP_DIM = 40
MEL_POINTS = 128
FLOOR_HZ = 40.0


def _mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@functools.cache
def _grids(bins: int, rate: int, device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mel grid as fractional linear-bin positions, each linear bin's position on the mel grid,
    and the orthonormal DCT-II basis (MCEP_DIM x MEL_POINTS)."""
    nyquist = rate / 2
    mel_grid = np.linspace(_mel(np.float64(FLOOR_HZ)), _mel(np.float64(nyquist)), MEL_POINTS)
    to_bins = _hz(mel_grid) / nyquist * (bins - 1)
    linear_hz = np.arange(bins) / (bins - 1) * nyquist
    to_mel = (_mel(np.maximum(linear_hz, FLOOR_HZ)) - mel_grid[0]) / (mel_grid[1] - mel_grid[0])
    k, n = np.meshgrid(np.arange(MCEP_DIM), np.arange(MEL_POINTS), indexing="ij")
    dct = np.sqrt(2.0 / MEL_POINTS) * np.cos(np.pi * (n + 0.5) * k / MEL_POINTS)
    dct[0] /= np.sqrt(2.0)
    return tuple(torch.tensor(a, dtype=torch.float32, device=device) for a in (to_bins, to_mel, dct))


def lerp(values: torch.Tensor, position: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``values`` at fractional indices ``position`` (1-D) along ``dim``, linearly interpolated and
    clamped to the ends."""
    last = values.shape[dim] - 1
    position = position.clamp(0, last)
    low = position.floor().long().clamp(0, max(last - 1, 0))
    high = (low + 1).clamp(max=last)
    shape = [1] * values.dim()
    shape[dim] = -1
    frac = (position - low).to(values.dtype).view(shape)
    return values.index_select(dim, low) * (1 - frac) + values.index_select(dim, high) * frac


def code(sp: torch.Tensor, rate: int) -> torch.Tensor:
    """Power envelope (..., bins) -> mel-cepstrum (..., MCEP_DIM)."""
    to_bins, _, dct = _grids(sp.shape[-1], rate, str(sp.device))
    log_mel = lerp(torch.log(sp.clamp_min(1e-16)), to_bins)
    return log_mel @ dct.T


def decode(coded: torch.Tensor, rate: int, bins: int) -> torch.Tensor:
    """Mel-cepstrum (..., MCEP_DIM) -> power envelope (..., bins); a smoothed inverse of ``code``."""
    _, to_mel, dct = _grids(bins, rate, str(coded.device))
    return torch.exp(lerp(coded @ dct, to_mel))


def warp(sp: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Envelopes stretched along frequency, one copy per factor: (frames, bins) -> (warps,
    frames, bins). A factor above 1 moves formants up (a shorter vocal tract)."""
    bins = torch.arange(sp.shape[-1], device=sp.device, dtype=sp.dtype)
    return torch.stack([lerp(sp, bins / float(factor)) for factor in factors])


CEPSTRAL_STATS = ("voiced_mean", "voiced_std", "unvoiced_mean", "unvoiced_std")


@dataclass
class VoiceStats:
    """Log-F0 mean/std over voiced frames; mel-cepstrum mean/std for voiced and unvoiced frames."""

    lf0_mean: float
    lf0_std: float
    voiced_mean: torch.Tensor
    voiced_std: torch.Tensor
    unvoiced_mean: torch.Tensor
    unvoiced_std: torch.Tensor

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v.cpu() if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_arrays(cls, arrays) -> "VoiceStats":  # noqa: ANN001
        cepstral = (torch.from_numpy(np.asarray(arrays[k], np.float32)) for k in CEPSTRAL_STATS)
        return cls(float(arrays["lf0_mean"]), float(arrays["lf0_std"]), *cepstral)

    def select(self, warp: int) -> "VoiceStats":
        """One warp's row of per-warp statistics (see ``engine.describe``), kept as a batch of one."""
        rows = (getattr(self, k)[warp : warp + 1] for k in CEPSTRAL_STATS)
        return VoiceStats(self.lf0_mean, self.lf0_std, *rows)

    def to(self, device: torch.device | str) -> "VoiceStats":
        return VoiceStats(self.lf0_mean, self.lf0_std, *(getattr(self, k).to(device) for k in CEPSTRAL_STATS))


def stats(f0: torch.Tensor, coded: torch.Tensor) -> VoiceStats:
    """Statistics of frames (F0 per frame; coded is frames x dims, or warps x frames x dims,
    which gives per-warp cepstral statistics)."""
    voiced = f0 > 0
    if int(voiced.sum()) < 20 or int((~voiced).sum()) < 5:
        raise ValueError("not enough voiced speech to describe this voice")
    lf0 = torch.log(f0[voiced].double())
    v, u = coded[..., voiced, :], coded[..., ~voiced, :]
    return VoiceStats(
        float(lf0.mean()), float(lf0.std(unbiased=False)),
        v.mean(-2), v.std(-2, unbiased=False) + 1e-6,
        u.mean(-2), u.std(-2, unbiased=False) + 1e-6,
    )  # fmt: skip
