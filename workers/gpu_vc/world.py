"""WORLD analysis of a recording: per 5 ms frame, F0, spectral envelope and aperiodicity.

pyworld's DIO + StoneMask (F0), CheapTrick (envelope) and D4C (aperiodicity) on the CPU; what
is done with the analysis (mapping, resynthesis) is PyTorch (``features``, ``vocoder``).
"""

from dataclasses import dataclass

import numpy as np
import pyworld as pw

FRAME_MS = 5.0


@dataclass
class Analysis:
    f0: np.ndarray  # Hz, 0 where unvoiced
    sp: np.ndarray  # power spectral envelope, frames x bins
    ap: np.ndarray  # aperiodicity, frames x bins
    rate: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    def excerpt(self, seconds: float) -> "Analysis":
        """The most voiced stretch of ``seconds`` (all of it when shorter)."""
        frames = int(seconds * 1000 / FRAME_MS)
        if len(self.f0) <= frames:
            return self
        energy = np.convolve(self.voiced.astype(float), np.ones(frames), "valid")
        start = int(np.argmax(energy))
        end = start + frames
        return Analysis(self.f0[start:end], self.sp[start:end], self.ap[start:end], self.rate)


def analyse(samples: np.ndarray, rate: int) -> Analysis:
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pw.dio(x, rate, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, t, rate)
    return Analysis(f0, pw.cheaptrick(x, f0, t, rate), pw.d4c(x, f0, t, rate), rate)
