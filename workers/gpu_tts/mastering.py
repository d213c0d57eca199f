"""Loudness for speech: one gain per voice, then a true-peak limiter on every chunk.

Kokoro's voices differ by several dB, and some (am_adam) go past full scale, so the served WAV/MP3
clipped. Why a gain *per voice* rather than per clip: a streamed clip is mastered part by part as it
is made, before its end exists, and every path (site, APIs, websocket sessions, previews) must
agree. A voice's level measured once on a fixed calibration text is the same for every part of
every clip, and brings all voices to one level; within a clip, speech keeps its natural dynamics.
The limiter then keeps inter-sample peaks under the ceiling (estimated on a 4x oversampled signal,
as a true-peak meter does) with a short look-ahead, so nothing clips after MP3/Opus encoding.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

# Phonetically varied, about 4 s: long enough for a stable level, short enough to measure at once.
CALIBRATION_TEXT = "The quick brown fox jumps over the lazy dog, while five wizards box and sing in the warm night air."
FRAME_SECONDS = 0.02
ACTIVE_RANGE_DB = 30.0  # frames this far below the loudest count as pauses, not speech
MAX_GAIN_DB = 12.0  # a voice is never lifted or cut by more than this (a whisper stays a whisper)
OVERSAMPLE = 4
LOOKAHEAD_SECONDS = 0.005  # the limiter's hold: gain reaches its floor before the peak arrives
RELEASE_SECONDS = 0.01  # and eases back over this long, so it does not buzz


def db(x: float) -> float:
    return float(20.0 * np.log10(max(x, 1e-12)))


def speech_level_db(samples: np.ndarray, rate: int) -> float:
    """RMS of the speech, in dBFS: 20 ms frames, leaving out pauses (frames ``ACTIVE_RANGE_DB``
    below the loudest). Like a loudness meter's gate, so a clip's silences do not lower its level."""
    frame = max(1, int(FRAME_SECONDS * rate))
    n = len(samples) // frame
    if n == 0:
        return db(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))) if len(samples) else -120.0
    power = np.mean(np.square(samples[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    loudest = power.max()
    if loudest <= 0:
        return -120.0
    active = power[power >= loudest * 10 ** (-ACTIVE_RANGE_DB / 10)]
    return db(float(np.sqrt(active.mean())))


def voice_gain_for(level_db: float, target_db: float) -> float:
    """The linear gain that brings a voice measured at ``level_db`` to ``target_db`` (bounded)."""
    change = np.clip(target_db - level_db, -MAX_GAIN_DB, MAX_GAIN_DB)
    return float(10 ** (change / 20))


def true_peak(samples: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude of the signal between it and the next (4x oversampled)."""
    if len(samples) < 2:
        return np.abs(samples)
    up = np.abs(resample_poly(samples.astype(np.float64), OVERSAMPLE, 1))
    return up[: len(samples) * OVERSAMPLE].reshape(len(samples), OVERSAMPLE).max(axis=1)


def limit(samples: np.ndarray, rate: int, ceiling_db: float) -> np.ndarray:
    """``samples`` with true peaks at most ``ceiling_db`` dBFS; untouched where they already are."""
    ceiling = 10 ** (ceiling_db / 20)
    peaks = true_peak(samples)
    if len(samples) == 0 or peaks.max() <= ceiling:
        return samples.astype(np.float32, copy=False)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    hold = max(1, int(LOOKAHEAD_SECONDS * rate))
    release = max(1, int(RELEASE_SECONDS * rate))
    # The floor of the gain over a window wider than the smoothing that follows, so the smoothed gain
    # is never above what any sample in its reach needs.
    held = minimum_filter1d(need, size=2 * (hold + release) + 1, mode="nearest")
    gain = np.minimum(uniform_filter1d(held, size=2 * release + 1, mode="nearest"), need)
    return np.clip(samples * gain, -ceiling, ceiling).astype(np.float32)


def master(samples: np.ndarray, rate: int, gain: float, ceiling_db: float) -> np.ndarray:
    """A chunk at its voice's gain, peaks limited."""
    return limit(samples * np.float32(gain), rate, ceiling_db)


def pack_key(pack: np.ndarray) -> bytes:
    """A voice's identity for its level: a digest of its style pack (stock, blended or fitted)."""
    return hashlib.blake2b(np.ascontiguousarray(pack, dtype=np.float32).tobytes(), digest_size=16).digest()


class VoiceLevels:
    """Each voice's speech level on ``CALIBRATION_TEXT``: stock voices from the table shipped with
    the code (``voice_levels.json``, made by ``python -m workers.gpu_tts.calibrate_levels``, so no
    request waits for a measurement), other voices measured by the engine on first use."""

    def __init__(self, stock_packs: dict[str, np.ndarray], table: dict[str, float] | None = None) -> None:
        table = load_stock_levels() if table is None else table
        self._levels = {pack_key(stock_packs[v]): level for v, level in table.items() if v in stock_packs}
        self._lock = threading.Lock()

    def get(self, pack: np.ndarray) -> float | None:
        with self._lock:
            return self._levels.get(pack_key(pack))

    def put(self, pack: np.ndarray, level_db: float) -> None:
        with self._lock:
            if len(self._levels) > MAX_REMEMBERED:
                self._levels.pop(next(iter(self._levels)))
            self._levels[pack_key(pack)] = level_db


MAX_REMEMBERED = 4096
STOCK_LEVELS = Path(__file__).with_name("voice_levels.json")


def load_stock_levels() -> dict[str, float]:
    return json.loads(STOCK_LEVELS.read_text())["levels_db"] if STOCK_LEVELS.exists() else {}
