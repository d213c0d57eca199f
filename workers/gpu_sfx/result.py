"""What every sound-effect engine hands back (``SfxResult``), and the mastering each engine gives
its mix before handing it back: loudness to a target, a smooth peak limiter (no clipping), fades.

Shared by the procedural engine (``engine``) and the diffusers one (``diffusion``), which both
sit above it, so neither engine module imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.gpu_sfx.dsp import SFX_RATE, rms_db

TARGET_RMS_DB = -20.0  # loudness of the finished mix
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS


@dataclass
class SfxResult:
    variations: list[np.ndarray]  # float32 mono at ``sample_rate``
    interpretation: str  # what was rendered, for the user: "rain (tin) + distant thunder"
    sample_rate: int = SFX_RATE


def master(x: np.ndarray) -> np.ndarray:
    """Loudness to TARGET_RMS_DB, a smooth peak limiter to -1 dBFS, short fades."""
    x = x - np.mean(x)
    for _ in range(3):  # limiting lowers the level; peaky sources need a few rounds to reach it
        level = rms_db(x)
        if level < -90 or abs(level - TARGET_RMS_DB) < 0.5:
            break
        x = limit(x * 10 ** ((TARGET_RMS_DB - level) / 20))
    x = limit(x)
    fade_in, fade_out = min(len(x) // 10, int(0.01 * SFX_RATE)), min(len(x) // 5, int(0.15 * SFX_RATE))
    if fade_in:
        x[:fade_in] *= np.linspace(0, 1, fade_in)
    if fade_out:
        x[-fade_out:] *= np.linspace(1, 0, fade_out)
    return x.astype(np.float32)


def limit(x: np.ndarray, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Gain reduction wherever a 5 ms neighbourhood peaks above the ceiling, smoothed, so peaky
    sources (gunshots, knocks) can be loud without clipping."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    window = int(0.005 * SFX_RATE)
    peak = maximum_filter1d(np.abs(x), size=2 * window + 1)
    gain = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    gain = np.minimum(gain, uniform_filter1d(gain, size=window))  # smooth without letting peaks through
    y = x * gain
    over = np.max(np.abs(y))
    return y * (ceiling / over) if over > ceiling else y
