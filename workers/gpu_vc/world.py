"""WORLD vocoder analysis and resynthesis, and the statistics the conversion maps between.

A voice is described per frame (5 ms) by F0, a spectral envelope and aperiodicity. The
envelope is also coded as a low-order cepstrum (``mcep``), where speaker traits live in the
means and spreads of the coefficients.
"""

from dataclasses import dataclass

import numpy as np
import pyworld as pw

FRAME_MS = 5.0
MCEP_DIM = 40


@dataclass
class Analysis:
    f0: np.ndarray  # Hz, 0 where unvoiced
    sp: np.ndarray  # spectral envelope, frames x bins
    ap: np.ndarray  # aperiodicity, frames x bins
    rate: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0


@dataclass
class VoiceStats:
    """Log-F0 mean/std over voiced frames; mcep mean/std for voiced and unvoiced frames."""

    lf0_mean: float
    lf0_std: float
    voiced_mean: np.ndarray
    voiced_std: np.ndarray
    unvoiced_mean: np.ndarray
    unvoiced_std: np.ndarray

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_arrays(cls, arrays) -> "VoiceStats":  # noqa: ANN001
        return cls(**{k: (float(arrays[k]) if arrays[k].ndim == 0 else arrays[k]) for k in cls.__annotations__})


def analyse(samples: np.ndarray, rate: int) -> Analysis:
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pw.dio(x, rate, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, t, rate)
    return Analysis(f0, pw.cheaptrick(x, f0, t, rate), pw.d4c(x, f0, t, rate), rate)


def mcep(sp: np.ndarray, rate: int) -> np.ndarray:
    return pw.code_spectral_envelope(np.ascontiguousarray(sp), rate, MCEP_DIM)


def envelope(coded: np.ndarray, rate: int) -> np.ndarray:
    return pw.decode_spectral_envelope(np.ascontiguousarray(coded), rate, pw.get_cheaptrick_fft_size(rate))


def stats(analyses: list[Analysis]) -> VoiceStats:
    f0 = np.concatenate([a.f0 for a in analyses])
    coded = np.concatenate([mcep(a.sp, a.rate) for a in analyses])
    voiced = f0 > 0
    if voiced.sum() < 20 or (~voiced).sum() < 5:
        raise ValueError("not enough voiced speech to describe this voice")
    lf0 = np.log(f0[voiced])
    return VoiceStats(
        float(lf0.mean()), float(lf0.std()),
        coded[voiced].mean(0), coded[voiced].std(0) + 1e-6,
        coded[~voiced].mean(0), coded[~voiced].std(0) + 1e-6,
    )  # fmt: skip


def warp_frequencies(sp: np.ndarray, factor: float) -> np.ndarray:
    """Stretch the envelope along frequency: factor > 1 moves formants up (shorter vocal tract)."""
    if factor == 1.0:
        return sp
    bins = np.arange(sp.shape[1], dtype=np.float64)
    source = np.clip(bins / factor, 0, sp.shape[1] - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, sp.shape[1] - 1)
    frac = source - low
    return sp[:, low] * (1 - frac) + sp[:, high] * frac


def synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, rate: int) -> np.ndarray:
    return pw.synthesize(f0, np.ascontiguousarray(sp), ap, rate, FRAME_MS).astype(np.float32)
