"""What every voice-changer engine returns, and the rate it works at (no heavy imports: the GPU
benches load engines without the studio's settings)."""

from dataclasses import dataclass

import numpy as np

VC_RATE = 24_000  # the converter works on (and returns) 24 kHz mono: sources are decoded to it


def limit_peak(samples: np.ndarray, ceiling: float = 0.99) -> np.ndarray:
    """Scale a converted clip down (in place) if it would clip; leave it as it is otherwise."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > ceiling:
        samples *= ceiling / peak
    return samples


@dataclass
class Conversion:
    """The converted clip. The WORLD engine measures speaker similarity to the target on its
    tuning excerpt; the Kokoro engine needs no measurement (None)."""

    samples: np.ndarray
    rate: int
    warp: float
    similarity_before: float | None
    similarity_after: float | None


class UnknownVoice(LookupError):
    """The target is not a stock voice, or a user's voice whose pack is missing from the store."""
