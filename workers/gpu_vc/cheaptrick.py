"""WORLD's CheapTrick spectral-envelope estimator in PyTorch, for all frames at once.

Per frame: a Hann window three pitch periods long (unit energy, its weighted mean removed),
the power spectrum, the components below F0 folded back (DC correction), a rectangular
smoothing 2/3 F0 wide, then cepstral liftering that removes the harmonic ripple (sinc lifter)
and restores the peaks it flattens (compensation lifter, q1 = -0.15). Frames are processed in
chunks so a five-minute clip stays within memory; numerically this matches pyworld's
``cheaptrick`` (its tiny random safeguards aside).
"""

import math

import torch

F0_FLOOR = 71.0
DEFAULT_F0 = 500.0  # used for unvoiced frames, as in WORLD
Q1 = -0.15
FRAMES_PER_CHUNK = 2048


def fft_size(rate: int, f0_floor: float = F0_FLOOR) -> int:
    return 2 ** (1 + int(math.log2(3.0 * rate / f0_floor + 1)))


def _interpolate(values: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """Row-wise linear interpolation of ``values`` (rows x n) at fractional ``position`` (rows x m)."""
    last = values.shape[-1] - 1
    position = position.clamp(0, last)
    low = position.floor().long().clamp(max=last - 1)
    frac = position - low
    return torch.gather(values, -1, low) * (1 - frac) + torch.gather(values, -1, low + 1) * frac


def _power_spectra(x: torch.Tensor, f0: torch.Tensor, origin: torch.Tensor, rate: int, n: int) -> torch.Tensor:
    half_max = round(1.5 * rate / F0_FLOOR)
    base = torch.arange(-half_max, half_max + 1, device=x.device)
    half = torch.round(1.5 * rate / f0).long()
    index = (origin.unsqueeze(-1) + base).clamp(0, len(x) - 1)
    position = base.to(x.dtype) / 1.5 / rate
    window = (0.5 * torch.cos(math.pi * position * f0.unsqueeze(-1)) + 0.5) * (base.abs() <= half.unsqueeze(-1))
    window = window / window.square().sum(-1, keepdim=True).sqrt()
    wave = x[index] * window
    wave = wave - window * (wave.sum(-1, keepdim=True) / window.sum(-1, keepdim=True))
    return torch.fft.rfft(wave, n=n).abs().square()


def _dc_correction(power: torch.Tensor, f0: torch.Tensor, rate: int, n: int) -> torch.Tensor:
    """Add the power mirrored about F0 to the bins below it (the window smears DC there)."""
    bins = torch.arange(power.shape[-1], device=power.device, dtype=power.dtype)
    f0_bins = (f0 * n / rate).unsqueeze(-1)
    below = bins < (2 + torch.floor(f0_bins))
    return power + below * _interpolate(power, (f0_bins - bins).abs())


def _linear_smoothing(power: torch.Tensor, width: torch.Tensor, rate: int, n: int) -> torch.Tensor:
    """Mean of the power over a band ``width`` Hz wide around each bin (mirrored at both ends)."""
    step = rate / n
    boundary = int(float(width.max()) / step) + 1
    half = n // 2
    mirrored = torch.cat([power[:, 1 : boundary + 1].flip(-1), power, power[:, half - boundary : half].flip(-1)], -1)
    cumulative = torch.cumsum(mirrored * step, -1)
    origin = -(boundary - 0.5) * step
    freq = torch.arange(half + 1, device=power.device, dtype=power.dtype) * step
    low = _interpolate(cumulative, ((freq - width.unsqueeze(-1) / 2) - origin) / step)
    high = _interpolate(cumulative, ((freq + width.unsqueeze(-1) / 2) - origin) / step)
    return (high - low) / width.unsqueeze(-1)


def _lifter(power: torch.Tensor, f0: torch.Tensor, rate: int, n: int) -> torch.Tensor:
    cepstrum = torch.fft.irfft(torch.log(power.clamp_min(1e-30)), n=n)
    i = torch.arange(n, device=power.device, dtype=power.dtype)
    quefrency = torch.minimum(i, n - i) / rate
    arg = math.pi * f0.unsqueeze(-1) * quefrency
    smoothing = torch.where(quefrency > 0, torch.sin(arg) / arg.clamp_min(1e-12), torch.ones_like(arg))
    compensation = (1 - 2 * Q1) + 2 * Q1 * torch.cos(2 * arg)
    return torch.exp(torch.fft.rfft(cepstrum * smoothing * compensation).real)


def cheaptrick(x: torch.Tensor, f0: torch.Tensor, times: torch.Tensor, rate: int) -> torch.Tensor:
    """Power spectral envelopes (frames x fft/2+1) of waveform ``x`` at ``times`` (s) given F0 (Hz)."""
    n = fft_size(rate)
    x = x.double()
    f0 = torch.where(f0 > F0_FLOOR, f0.double(), torch.full_like(f0, DEFAULT_F0, dtype=torch.float64))
    origin = torch.round(times.double() * rate + 0.001).long()
    chunks = []
    for start in range(0, len(f0), FRAMES_PER_CHUNK):
        part = slice(start, start + FRAMES_PER_CHUNK)
        power = _power_spectra(x, f0[part], origin[part], rate, n)
        power = _dc_correction(power, f0[part], rate, n)
        power = _linear_smoothing(power, f0[part] * 2.0 / 3.0, rate, n)
        chunks.append(_lifter(power, f0[part], rate, n).float())
    return torch.cat(chunks)
