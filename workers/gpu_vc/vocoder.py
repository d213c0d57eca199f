"""WORLD-style resynthesis in PyTorch: F0, spectral envelope and aperiodicity -> waveform.

The same source-filter model as WORLD's ``synthesis.cpp``, written as batched tensor work so
it runs on CUDA: pulses are placed by integrating F0 (500 Hz pulses carry noise through
unvoiced stretches); each pulse gets the envelope interpolated at its time, split into a
periodic part (envelope x (1 - aperiodicity^2)) and a noise part (envelope x aperiodicity^2),
each made minimum phase through the cepstrum; the periodic part is delayed by the pulse's
fractional sample offset; the responses are overlap-added. All pulses of a clip are one batch
of FFTs (in chunks, so a five-minute clip stays within memory).
"""

import math

import torch

from workers.gpu_vc.features import lerp

DEFAULT_F0 = 500.0  # pulse rate in unvoiced stretches, as in WORLD
PULSES_PER_CHUNK = 4096


def output_length(frames: int, frame_ms: float, rate: int) -> int:
    return int(frames * frame_ms * rate / 1000)  # as pyworld: the last frame's period is kept


def pulses(f0: torch.Tensor, frame_ms: float, rate: int, fft_size: int, length: int):  # noqa: ANN201
    """Pulse sample indices, their fractional delays (samples) and whether each is voiced."""
    lowest = rate / fft_size + 1.0
    coarse = torch.where(f0 < lowest, torch.zeros_like(f0), f0).double()
    vuv = (coarse > 0).double()
    position = torch.arange(length, device=f0.device, dtype=torch.float64) * (1000.0 / frame_ms / rate)
    f0_line = lerp(coarse, position, dim=0)
    voiced = lerp(vuv, position, dim=0) > 0.5
    f0_line = torch.where(voiced, f0_line, torch.full_like(f0_line, DEFAULT_F0))
    phase = torch.remainder(torch.cumsum(2 * math.pi * f0_line / rate, 0), 2 * math.pi)
    index = torch.nonzero((phase[1:] - phase[:-1]).abs() > math.pi).squeeze(-1)
    y1, y2 = phase[index] - 2 * math.pi, phase[index + 1]
    delay = -y1 / (y2 - y1)
    return index, delay, voiced[index]


def minimum_phase(log_amplitude: torch.Tensor, fft_size: int) -> torch.Tensor:
    """The minimum-phase spectrum with the given log amplitude (rows of rfft bins)."""
    cepstrum = torch.fft.irfft(log_amplitude, n=fft_size)
    half = fft_size // 2
    folded = torch.zeros_like(cepstrum)
    folded[..., 0] = cepstrum[..., 0]
    folded[..., 1:half] = 2 * cepstrum[..., 1:half]
    folded[..., half] = cepstrum[..., half]
    return torch.exp(torch.fft.rfft(folded))


def _dc_window(fft_size: int, device: torch.device) -> torch.Tensor:
    i = torch.arange(fft_size // 2, device=device, dtype=torch.float32)
    half = 0.5 - 0.5 * torch.cos(2 * math.pi * (i + 1) / (fft_size + 1))
    window = torch.cat([half, half.flip(0)])
    return window / window.sum()


def synthesize(
    f0: torch.Tensor,
    sp: torch.Tensor,
    ap: torch.Tensor,
    rate: int,
    frame_ms: float,
    seed: int = 0,
) -> torch.Tensor:
    """Waveform (float32, on ``sp``'s device) from per-frame F0 (Hz, 0 unvoiced), power envelope
    and aperiodicity (frames x fft/2+1 bins)."""
    device = sp.device
    bins = sp.shape[1]
    fft_size = (bins - 1) * 2
    length = output_length(sp.shape[0], frame_ms, rate)
    index, delay, voiced = pulses(f0.to(device), frame_ms, rate, fft_size, length)
    count = len(index)
    noise_size = torch.zeros(count, dtype=torch.long, device=device)
    if count > 1:
        noise_size[:-1] = index[1:] - index[:-1]
    noise_size = noise_size.clamp(max=fft_size)
    generator = torch.Generator(device=device).manual_seed(seed)
    window = _dc_window(fft_size, device)
    shift_phase = torch.arange(bins, device=device, dtype=torch.float32) * (2 * math.pi / fft_size)
    sample = torch.arange(fft_size, device=device)
    out = torch.zeros(length + 2 * fft_size, device=device)
    frames_per_sample = 1000.0 / frame_ms / rate
    for start in range(0, count, PULSES_PER_CHUNK):
        part = slice(start, start + PULSES_PER_CHUNK)
        idx, frac, vuv, size = index[part], delay[part], voiced[part], noise_size[part]
        position = idx.double() * frames_per_sample
        envelope = lerp(sp, position.to(sp.dtype), dim=0).float().clamp_min(1e-16)
        ratio = lerp(ap, position.to(ap.dtype), dim=0).float().clamp(0.001, 0.999999) ** 2
        ratio = torch.where(vuv.unsqueeze(-1), ratio, torch.ones_like(ratio))

        periodic_on = (vuv & (ratio[:, 0] <= 0.999)).float().unsqueeze(-1)
        periodic = minimum_phase(0.5 * torch.log(envelope * (1 - ratio) + 1e-16), fft_size)
        periodic = periodic * torch.exp(-1j * shift_phase * frac.float().unsqueeze(-1))
        periodic = torch.fft.fftshift(torch.fft.irfft(periodic, n=fft_size), dim=-1)
        periodic = periodic - periodic.sum(-1, keepdim=True) * window
        periodic = periodic * periodic_on * size.float().sqrt().unsqueeze(-1)

        noise = torch.randn(len(idx), fft_size, generator=generator, device=device)
        valid = (sample.unsqueeze(0) < size.unsqueeze(-1)).float()
        noise = noise * valid
        noise = (noise - noise.sum(-1, keepdim=True) / size.clamp(min=1).unsqueeze(-1) * valid) * valid
        aperiodic = minimum_phase(0.5 * torch.log(envelope * ratio), fft_size) * torch.fft.rfft(noise)
        aperiodic = torch.fft.fftshift(torch.fft.irfft(aperiodic, n=fft_size), dim=-1)

        response = periodic + aperiodic
        offset = idx - fft_size // 2 + 1 + fft_size  # + fft_size: the output is padded on both sides
        out.index_add_(0, (offset.unsqueeze(-1) + sample).flatten(), response.flatten())
    return out[fft_size : fft_size + length]
