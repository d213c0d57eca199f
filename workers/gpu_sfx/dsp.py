"""Small signal-processing helpers the sound generators share (numpy, mono float32 at 44.1 kHz)."""

from __future__ import annotations

import numpy as np
from scipy import signal

SFX_RATE = 44_100  # every sound effect, from either engine, is mono at this rate


def noise(rng: np.random.Generator, n: int, colour: str = "white") -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2) noise, unit RMS."""
    white = rng.standard_normal(n)
    if colour == "white" or n < 4:
        out = white
    else:
        spectrum = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / SFX_RATE)
        f[0] = f[1]
        spectrum /= np.sqrt(f) if colour == "pink" else f
        out = np.fft.irfft(spectrum, n)
    return (out / (np.sqrt(np.mean(out**2)) + 1e-12)).astype(np.float32)


def band(x: np.ndarray, low: float | None = None, high: float | None = None, order: int = 2) -> np.ndarray:
    """Butterworth low-, high- or band-pass (zero-phase is not needed for effects)."""
    nyq = SFX_RATE / 2
    if low and high:
        sos = signal.butter(order, [low / nyq, min(high / nyq, 0.99)], "bandpass", output="sos")
    elif low:
        sos = signal.butter(order, low / nyq, "highpass", output="sos")
    elif high:
        sos = signal.butter(order, min(high / nyq, 0.99), "lowpass", output="sos")
    else:
        return x
    return signal.sosfilt(sos, x).astype(np.float32)


def envelope(n: int, attack: float, decay: float) -> np.ndarray:
    """Linear attack then exponential decay (time constant ``decay`` seconds)."""
    t = np.arange(n) / SFX_RATE
    env = np.exp(-np.maximum(t - attack, 0) / max(decay, 1e-4))
    if attack > 0:
        env *= np.minimum(t / attack, 1)
    return env.astype(np.float32)


def smooth_random(rng: np.random.Generator, n: int, rate_hz: float, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """A slowly wandering control curve between ``low`` and ``high`` (about ``rate_hz`` changes a second)."""
    points = max(int(n / SFX_RATE * rate_hz) + 2, 2)
    knots = rng.uniform(low, high, points)
    return np.interp(np.linspace(0, points - 1, n), np.arange(points), knots).astype(np.float32)


def tone(freq: np.ndarray | float, n: int, phase: float = 0.0) -> np.ndarray:
    """A sine whose frequency may vary per sample."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    return np.sin(phase + 2 * np.pi * np.cumsum(f) / SFX_RATE).astype(np.float32)


def place(out: np.ndarray, event: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Add ``event`` into ``out`` at sample ``start`` (clipped at the end)."""
    if start >= len(out) or start < 0:
        return
    end = min(len(out), start + len(event))
    out[start:end] += gain * event[: end - start]


def reverb(x: np.ndarray, rng: np.random.Generator, seconds: float, wet: float) -> np.ndarray:
    """A cheap room: convolution with decaying noise."""
    n = int(seconds * SFX_RATE)
    if n < 8 or wet <= 0:
        return x
    tail = noise(rng, n) * envelope(n, 0.0, seconds / 5)
    tail /= np.sqrt(np.sum(tail**2))
    wet_signal = signal.fftconvolve(x, tail)[: len(x)].astype(np.float32)
    return ((1 - wet) * x + wet * wet_signal).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))
