"""Checks that audio is real speech: pocketsphinx transcription, word error rate, pitch."""

import re
from collections.abc import Sequence

import numpy as np
from scipy.signal import resample_poly


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == 16_000:
        return samples
    g = np.gcd(rate, 16_000)
    return resample_poly(samples, 16_000 // g, rate // g)


def transcribe(samples: np.ndarray, rate: int) -> str:
    from pocketsphinx import Decoder

    pcm = (np.clip(to_16k(samples, rate), -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(samprate=16_000, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp else ""


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Insertions, deletions and substitutions that turn ``a`` into ``b`` (words, phoneme ids...)."""
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
    return row[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / max(1, len(ref))


def median_pitch(samples: np.ndarray, rate: int, fmin: float = 60, fmax: float = 400) -> float:
    """Median F0 of voiced frames by normalised autocorrelation."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / fmax), int(rate / fmin)
    energy_floor = 0.1 * np.sqrt(np.mean(samples**2))
    pitches = []
    for start in range(0, len(samples) - frame, hop):
        x = samples[start : start + frame]
        if np.sqrt(np.mean(x**2)) < energy_floor:
            continue
        x = x - x.mean()
        ac = np.correlate(x, x, "full")[frame - 1 :]
        if ac[0] <= 0:
            continue
        ac = ac / ac[0]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5:
            pitches.append(rate / lag)
    return float(np.median(pitches)) if pitches else 0.0


def contour_correlation(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Correlation of two clips' log-F0 contours (pyworld DIO + StoneMask, 10 ms frames) over the
    frames voiced in both: whether a conversion kept the source's intonation."""
    import pyworld

    def f0(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        coarse, t = pyworld.dio(x, rate, frame_period=10)
        return pyworld.stonemask(x, coarse, t, rate)

    fa, fb = f0(a), f0(b)
    n = min(len(fa), len(fb))
    voiced = (fa[:n] > 0) & (fb[:n] > 0)
    return float(np.corrcoef(np.log(fa[:n][voiced]), np.log(fb[:n][voiced]))[0, 1])
