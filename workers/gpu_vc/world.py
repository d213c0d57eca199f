"""WORLD analysis of a recording: per 5 ms frame, F0, spectral envelope and aperiodicity.

F0 (DIO + StoneMask) and aperiodicity (D4C) are pyworld on the CPU (it releases the GIL, so
concurrent requests analyse in parallel); the spectral envelope is our PyTorch CheapTrick on
the converter's device. D4C, the costliest step, runs on a 10 ms grid and is interpolated to
5 ms: aperiodicity changes slowly, and a coarse frame counts as voiced when any frame it
stands for is, so voicing onsets keep their periodic excitation.
"""

from dataclasses import dataclass

import numpy as np
import pyworld as pw
import torch
from scipy.ndimage import maximum_filter1d

from workers.gpu_vc.cheaptrick import cheaptrick

FRAME_MS = 5.0
APERIODICITY_STEP = 2  # D4C every 2nd frame


@dataclass
class Analysis:
    f0: torch.Tensor  # Hz, 0 where unvoiced
    sp: torch.Tensor  # power spectral envelope, frames x bins
    ap: torch.Tensor  # aperiodicity, frames x bins
    rate: int

    @property
    def voiced(self) -> torch.Tensor:
        return self.f0 > 0

    def most_voiced(self, seconds: float) -> slice:
        """The frames of the most voiced stretch of ``seconds`` (all of them when shorter)."""
        frames = int(seconds * 1000 / FRAME_MS)
        if len(self.f0) <= frames:
            return slice(0, len(self.f0))
        counts = torch.cumsum(torch.cat([self.voiced.new_zeros(1), self.voiced]).int(), 0)
        start = int(torch.argmax(counts[frames:] - counts[:-frames]))
        return slice(start, start + frames)

    def frames(self, part: slice) -> "Analysis":
        return Analysis(self.f0[part], self.sp[part], self.ap[part], self.rate)


def aperiodicity(
    x: np.ndarray, f0: np.ndarray, times: np.ndarray, rate: int, step: int = APERIODICITY_STEP
) -> np.ndarray:
    """D4C on every ``step``-th frame, linearly interpolated to all frames."""
    if step == 1 or len(f0) < 2 * step:
        return pw.d4c(x, f0, times, rate)
    coarse = np.arange(0, len(f0) + step - 1, step).clip(max=len(f0) - 1)
    coarse_f0 = np.ascontiguousarray(maximum_filter1d(f0, 2 * step - 1)[coarse])
    ap = pw.d4c(x, coarse_f0, np.ascontiguousarray(times[coarse]), rate)
    position = np.arange(len(f0)) / step
    low = np.minimum(position.astype(int), len(coarse) - 2)
    frac = (position - low)[:, None]
    return ap[low] * (1 - frac) + ap[low + 1] * frac


def analyse(samples: np.ndarray, rate: int, device: str | torch.device = "cpu") -> Analysis:
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pw.dio(x, rate, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, times, rate)
    as_tensor = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
    sp = cheaptrick(as_tensor(x), as_tensor(f0), as_tensor(times), rate)  # queued on the device ...
    ap = aperiodicity(x, f0, times, rate)  # ... while the CPU runs D4C
    return Analysis(as_tensor(f0).float(), sp, as_tensor(ap).float(), rate)
