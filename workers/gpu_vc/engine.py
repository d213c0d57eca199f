"""Voice conversion by WORLD analysis, statistical mapping and resynthesis.

1. Analyse the source: F0, spectral envelope, aperiodicity.
2. F0: map log-F0 onto the target's mean and spread (plus the user's pitch shift).
3. Envelope: warp frequencies (formant shift), then map each cepstral coefficient onto the
   target's statistics, separately for voiced and unvoiced frames; frame energy stays the source's.
4. The warp is chosen by trying several on an excerpt and keeping the one whose speaker
   embedding is closest to the target's, with a small penalty for strong warps (they cost
   intelligibility).
5. Resynthesize with the source's aperiodicity and timing, so words and rhythm are kept.

The engine is pluggable: anything with ``convert(samples, rate, voice, pitch, formant)`` that
returns a ``Conversion`` can replace it (e.g. a neural model when weights are available).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workers.gpu_vc import profiles, speaker, world

RATE = 24_000
WARP_CANDIDATES = (0.88, 0.94, 1.0, 1.06, 1.12, 1.18)
WARP_PENALTY = 0.25  # similarity given up per unit of |ln warp|
TUNING_EXCERPT_SECONDS = 8.0

Progress = Callable[[int, int], None]


@dataclass
class Conversion:
    samples: np.ndarray
    rate: int
    warp: float
    similarity_before: float
    similarity_after: float


def _map(a: world.Analysis, target: world.VoiceStats, warp: float, pitch: float) -> np.ndarray:
    voiced = a.voiced
    sp = world.warp_frequencies(a.sp, warp)
    source = world.stats([world.Analysis(a.f0, sp, a.ap, a.rate)])
    f0 = a.f0.copy()
    lf0 = (np.log(f0[voiced]) - source.lf0_mean) / max(source.lf0_std, 1e-3)
    f0[voiced] = np.exp(lf0 * target.lf0_std + target.lf0_mean + pitch * math.log(2) / 12)
    coded = world.mcep(sp, a.rate)
    out = coded.copy()
    for mask, (s_mean, s_std), (t_mean, t_std) in (
        (voiced, (source.voiced_mean, source.voiced_std), (target.voiced_mean, target.voiced_std)),
        (~voiced, (source.unvoiced_mean, source.unvoiced_std), (target.unvoiced_mean, target.unvoiced_std)),
    ):
        # coefficient 0 is frame energy: keep the source's loudness contour
        out[mask, 1:] = (coded[mask, 1:] - s_mean[1:]) / s_std[1:] * t_std[1:] + t_mean[1:]
    return world.synthesize(f0, world.envelope(out, a.rate), a.ap, a.rate)


def _excerpt(a: world.Analysis, seconds: float) -> world.Analysis:
    frames = int(seconds * 1000 / world.FRAME_MS)
    if len(a.f0) <= frames:
        return a
    energy = np.convolve(a.voiced.astype(float), np.ones(frames), "valid")  # most voiced window
    start = int(np.argmax(energy))
    end = start + frames
    return world.Analysis(a.f0[start:end], a.sp[start:end], a.ap[start:end], a.rate)


class WorldConverter:
    name = "world-statistical"

    def convert(
        self,
        samples: np.ndarray,
        rate: int,
        voice: str,
        pitch: float = 0.0,
        formant: float | None = None,
        progress: Progress | None = None,
    ) -> Conversion:
        """Convert mono float samples at ``rate`` (must be RATE) into ``voice``."""
        assert rate == RATE, "decode the source at RATE first"
        report = progress or (lambda done, total: None)
        candidates = (formant,) if formant else WARP_CANDIDATES
        total = len(candidates) + 3
        target = profiles.get(voice)
        report(1, total)
        analysis = world.analyse(samples, rate)
        world.stats([analysis])  # raises ValueError when there is too little voiced speech
        report(2, total)
        excerpt = _excerpt(analysis, TUNING_EXCERPT_SECONDS)
        best_warp, best_score = 1.0, -math.inf
        if len(candidates) > 1:
            for i, warp in enumerate(candidates, start=3):
                trial = speaker.embed(_map(excerpt, target.stats, warp, pitch), rate)
                score = speaker.similarity(trial, target.embedding) - WARP_PENALTY * abs(math.log(warp))
                if score > best_score:
                    best_warp, best_score = warp, score
                report(i, total)
        else:
            best_warp = candidates[0]
        converted = _map(analysis, target.stats, best_warp, pitch)
        peak = float(np.max(np.abs(converted))) if len(converted) else 0.0
        if peak > 0.99:
            converted *= 0.99 / peak
        report(total, total)
        before = speaker.similarity(speaker.embed(samples, rate), target.embedding)
        after = speaker.similarity(speaker.embed(converted, rate), target.embedding)
        return Conversion(converted, rate, best_warp, before, after)


_converter: WorldConverter | None = None


def get_converter() -> WorldConverter:
    """The process-wide converter (its speaker encoder and profiles load on first use)."""
    global _converter
    if _converter is None:
        _converter = WorldConverter()
        speaker.encoder()
    return _converter
