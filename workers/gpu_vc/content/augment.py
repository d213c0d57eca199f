"""What a real recording does to speech, applied to Kokoro's clean renders on the GPU.

The encoder must read the same features whatever the room, microphone, line or level: each row
gets, at random, a vocal-tract/speed change (resampling: formants, pitch and timing move together,
and the targets follow), room reverberation, a band limit (telephone or a cheap microphone),
noise, 8-bit mu-law coding and a level change. All ops are batched over rows of different lengths.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from workers.gpu_vc.content.mel import SAMPLE_RATE
from workers.gpu_vc.content.synth import Batch

RESAMPLE_RANGE = (0.88, 1.14)  # > 1: shorter clip, higher formants and pitch


def _chance(n: int, p: float, gen: torch.Generator, device: torch.device) -> Tensor:
    return (torch.rand(n, generator=gen) < p).to(device)


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device: torch.device) -> Tensor:
    return (low + (high - low) * torch.rand(n, generator=gen)).to(device)


def _real(audio: Tensor, samples: Tensor) -> Tensor:
    """[B, S] mask of each row's real samples."""
    return torch.arange(audio.shape[1], device=audio.device)[None, :] < samples[:, None]


def resample_rows(batch: Batch, factor: Tensor) -> Batch:
    """Play each row ``factor`` times faster (linear interpolation); stretch its targets to match."""
    b, size = batch.audio.shape
    device = batch.audio.device
    new_frames = torch.clamp((batch.frames.float() / factor).floor().long(), min=1)
    new_samples = new_frames * (batch.samples // batch.frames)
    out = int(new_samples.max())
    t = torch.arange(out, device=device)[None, :].float() * factor[:, None]  # source sample per output sample
    left = t.floor().long().clamp(max=size - 1)
    right = (left + 1).clamp(max=size - 1)
    w = t - t.floor()
    audio = batch.audio.gather(1, left) * (1 - w) + batch.audio.gather(1, right) * w
    audio = torch.where(torch.arange(out, device=device)[None, :] < new_samples[:, None], audio, 0.0)

    def stretch(x: Tensor, per_frame: int) -> Tensor:  # [B, C, F*per_frame] -> [B, C, F'*per_frame]
        steps = int(new_frames.max()) * per_frame
        src = (torch.arange(steps, device=device)[None, :].float() + 0.5) * factor[:, None] - 0.5
        idx = src.round().long().clamp(0, x.shape[-1] - 1)
        return x.gather(2, idx[:, None, :].expand(-1, x.shape[1], -1))

    f0 = stretch(batch.f0[:, None], 2)[:, 0]
    f0 = torch.where(f0 > 10.0, f0 * factor[:, None], f0)
    tokens = stretch(batch.tokens[:, None], 1)[:, 0]
    return Batch(
        audio, new_samples, stretch(batch.asr, 1), f0, stretch(batch.energy[:, None], 2)[:, 0], new_frames, tokens
    )


def reverberate(audio: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """A synthetic room: exponentially decaying noise (RT60 0.15-0.8 s) after the direct sound."""
    b, size = audio.shape
    device = audio.device
    length = int(0.6 * SAMPLE_RATE)
    t = torch.arange(length, device=device)[None, :] / SAMPLE_RATE
    rt60 = _uniform(b, 0.15, 0.8, gen, device)[:, None]
    ir = torch.randn(b, length, generator=gen).to(device) * torch.exp(-6.9 * t / rt60)
    ir = ir / ir.norm(dim=1, keepdim=True) * _uniform(b, 0.2, 1.0, gen, device)[:, None]
    ir[:, 0] = 1.0
    n = 1 << math.ceil(math.log2(size + length))
    wet = torch.fft.irfft(torch.fft.rfft(audio, n) * torch.fft.rfft(ir, n), n)[:, :size]
    wet = wet * (audio.norm(dim=1, keepdim=True) / wet.norm(dim=1, keepdim=True).clamp(min=1e-8))
    return torch.where(on[:, None], wet, audio)


def band_limit(audio: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """Keep a random band: low cut 50-350 Hz, high cut 3.2-9 kHz (a phone line at the low end)."""
    b, size = audio.shape
    device = audio.device
    spec = torch.fft.rfft(audio)
    hz = torch.fft.rfftfreq(size, 1 / SAMPLE_RATE).to(device)[None, :]
    low = _uniform(b, 50.0, 350.0, gen, device)[:, None]
    high = torch.exp(_uniform(b, math.log(3200.0), math.log(9000.0), gen, device))[:, None]
    gain = torch.sigmoid((hz - low) / 20.0) * torch.sigmoid((high - hz) / 100.0)
    return torch.where(on[:, None], torch.fft.irfft(spec * gain, size), audio)


def add_noise(audio: Tensor, samples: Tensor, on: Tensor, gen: torch.Generator) -> Tensor:
    """White or brown-ish noise at 5-40 dB below the speech."""
    b, size = audio.shape
    device = audio.device
    noise = torch.randn(b, size, generator=gen).to(device)
    brown = _chance(b, 0.5, gen, device)
    smooth = F.avg_pool1d(noise[:, None], 9, 1, 4)[:, 0] * 3.0
    noise = torch.where(brown[:, None], smooth, noise)
    real = _real(audio, samples)
    power = (audio.pow(2) * real).sum(1) / samples.clamp(min=1)
    snr = _uniform(b, 5.0, 40.0, gen, device)
    noise = noise / noise.pow(2).mean(1).sqrt()[:, None] * torch.sqrt(power / 10 ** (snr / 10))[:, None]
    return torch.where(on[:, None], audio + noise, audio)


def mu_law(audio: Tensor, on: Tensor) -> Tensor:
    """8-bit mu-law coding and back (G.711's distortion)."""
    mu = 255.0
    x = audio.clamp(-1, 1)
    coded = torch.round((torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu) + 1) * 127.5) / 127.5 - 1
    decoded = torch.sign(coded) * ((1 + mu) ** coded.abs() - 1) / mu
    return torch.where(on[:, None], decoded, audio)


def augment(batch: Batch, gen: torch.Generator, strength: float = 1.0) -> Batch:
    """A recording-like version of ``batch`` (``strength`` scales how often each effect happens)."""
    b = batch.audio.shape[0]
    device = batch.audio.device
    stretch = _chance(b, 0.5 * strength, gen, device)
    factor = torch.where(stretch, _uniform(b, *RESAMPLE_RANGE, gen, device), 1.0)
    batch = resample_rows(batch, factor)
    audio = batch.audio
    audio = reverberate(audio, _chance(b, 0.3 * strength, gen, device), gen)
    audio = band_limit(audio, _chance(b, 0.35 * strength, gen, device), gen)
    audio = add_noise(audio, batch.samples, _chance(b, 0.5 * strength, gen, device), gen)
    level = 10 ** (_uniform(b, -20.0, 3.0, gen, device) / 20)
    peak = audio.abs().amax(1).clamp(min=1e-4)
    audio = audio * (level / peak)[:, None] * 0.9
    audio = mu_law(audio, _chance(b, 0.15 * strength, gen, device)).clamp(-1, 1)
    audio = torch.where(_real(audio, batch.samples), audio, 0.0)
    return Batch(audio, batch.samples, batch.asr, batch.f0, batch.energy, batch.frames, batch.tokens)
