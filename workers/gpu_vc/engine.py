"""Voice conversion by WORLD analysis, statistical mapping and resynthesis, in PyTorch.

1. Analyse the source: F0 and aperiodicity (pyworld, CPU), spectral envelope (our PyTorch
   CheapTrick, on the device) (``world``).
2. F0: map log-F0 onto the target's mean and spread (plus the user's pitch shift).
3. Envelope: warp frequencies (formant shift), then map each mel-cepstral coefficient onto
   the target's statistics, separately for voiced and unvoiced frames; frame level stays the
   source's (``features``).
4. The warp is chosen by rendering the most voiced 8 s with every candidate (one batch) and
   keeping the one whose speaker embedding is closest to the target's, with a small penalty
   for strong warps (they cost intelligibility).
5. Resynthesize with the source's aperiodicity and timing, so words and rhythm are kept
   (``vocoder``).

Everything but F0 and aperiodicity is tensor work on the converter's device (CUDA when
present); speaker embeddings too (``speaker``). The engine is
pluggable (``VoiceConverter``): ``workers.gpu_vc.kokoro_engine`` renders through Kokoro's own
decoder instead (``STUDIO_VC_ENGINE=kokoro``).
"""

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch

from studio.settings import get_settings
from studio.voices import VoiceRecipe
from workers.devices import resolve_device
from workers.engines import one_per_process
from workers.gpu_vc import features, profiles, speaker, vocoder, world
from workers.gpu_vc.conversion import VC_RATE, Conversion, limit_peak

WARP_CANDIDATES = (0.88, 0.94, 1.0, 1.06, 1.12, 1.18)
WARP_PENALTY = 0.25  # similarity given up per unit of |ln warp|
TUNING_EXCERPT_SECONDS = 8.0

Progress = Callable[[int, int], None]


class VoiceConverter(Protocol):
    """What the voice-changer activity asks of an engine (this one, or ``kokoro_engine``'s)."""

    name: str
    needs_reference: bool  # the target's reference speech must be in the object store first
    device: torch.device

    def warm_up(self) -> None: ...

    def convert(
        self, samples: np.ndarray, rate: int, voice: str, pitch: float = 0.0, formant: float | None = None,
        progress: Progress | None = None, recipe: VoiceRecipe | None = None,
    ) -> Conversion: ...  # fmt: skip


def describe(f0: torch.Tensor, sp: torch.Tensor, warps: torch.Tensor) -> features.VoiceStats:
    """The source's statistics after each warp (one warp at a time: a long clip's envelopes are big)."""
    per_warp = [features.stats(f0, features.code(features.warp(sp, w.view(1)), VC_RATE)[0]) for w in warps]
    stacked = (torch.stack([getattr(s, k) for s in per_warp]) for k in features.CEPSTRAL_STATS)
    return features.VoiceStats(per_warp[0].lf0_mean, per_warp[0].lf0_std, *stacked)


def map_voice(
    f0: torch.Tensor,
    sp: torch.Tensor,
    source: features.VoiceStats,
    target: features.VoiceStats,
    warps: torch.Tensor,
    pitch: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The target's F0 contour and one converted envelope per warp: (frames,), (warps, frames, bins).
    ``source`` holds the whole clip's statistics per warp, so an excerpt maps as the clip would."""
    voiced = f0 > 0
    coded = features.code(features.warp(sp, warps), VC_RATE)
    f0_out = f0.double().clone()
    lf0 = (torch.log(f0_out[voiced]) - source.lf0_mean) / max(source.lf0_std, 1e-3)
    f0_out[voiced] = torch.exp(lf0 * target.lf0_std + target.lf0_mean + pitch * math.log(2) / 12)
    out = coded.clone()
    for mask, s_mean, s_std, t_mean, t_std in (
        (voiced, source.voiced_mean, source.voiced_std, target.voiced_mean, target.voiced_std),
        (~voiced, source.unvoiced_mean, source.unvoiced_std, target.unvoiced_mean, target.unvoiced_std),
    ):
        # coefficient 0 is the frame's level: keep the source's loudness contour
        mapped = (coded[:, mask, 1:] - s_mean[:, None, 1:]) / s_std[:, None, 1:] * t_std[1:] + t_mean[1:]
        out[:, mask, 1:] = mapped
    return f0_out, features.decode(out, VC_RATE, sp.shape[-1])


class WorldConverter:
    name = "world-statistical"
    needs_reference = True  # the target's profile is measured on speech the TTS worker renders

    def __init__(self, device: str = "cpu") -> None:
        self.device = torch.device(device)

    def warm_up(self) -> None:
        """Load the speaker encoder now (voice profiles load on first use)."""
        speaker.encoder()

    def render(
        self,
        a: world.Analysis,
        source: features.VoiceStats,
        target: features.VoiceStats,
        warps: list[float],
        pitch: float,
    ) -> list[np.ndarray]:
        """The analysed stretch in the target voice, once per warp (``source`` has one row per warp)."""
        with torch.inference_mode():
            f0_out, envelopes = map_voice(a.f0, a.sp, source, target.to(self.device), torch.tensor(warps), pitch)
            return [vocoder.synthesize(f0_out, env, a.ap, VC_RATE, world.FRAME_MS).cpu().numpy() for env in envelopes]

    def convert(
        self,
        samples: np.ndarray,
        rate: int,
        voice: str,
        pitch: float = 0.0,
        formant: float | None = None,
        progress: Progress | None = None,
        recipe: VoiceRecipe | None = None,
    ) -> Conversion:
        """Convert mono float samples at ``rate`` (must be VC_RATE) into ``voice``. A user's voice
        (``recipe``) needs nothing more here: its profile came from reference speech the TTS worker
        rendered from the recipe (``needs_reference``)."""
        assert rate == VC_RATE, "decode the source at VC_RATE first"
        report = progress or (lambda done, total: None)
        candidates = [formant] if formant else list(WARP_CANDIDATES)
        total = 4
        target = profiles.get(voice)
        report(1, total)
        with torch.inference_mode():
            analysis = world.analyse(samples, rate, self.device)
            source = describe(analysis.f0, analysis.sp, torch.tensor(candidates))  # ValueError: too little speech
        report(2, total)
        # Every candidate renders the most voiced stretch; the source's stretch and the trials
        # embed in one pass. The best trial's similarity is the conversion's "after".
        part = analysis.most_voiced(TUNING_EXCERPT_SECONDS)
        trials = self.render(analysis.frames(part), source, target.stats, candidates, pitch)
        per_frame = int(rate * world.FRAME_MS / 1000)
        excerpt = samples[part.start * per_frame : part.stop * per_frame]
        embeddings = speaker.embed_many([excerpt, *trials], rate)
        similarities = [speaker.similarity(e, target.embedding) for e in embeddings]
        scores = [s - WARP_PENALTY * abs(math.log(w)) for w, s in zip(candidates, similarities[1:], strict=True)]
        best = int(np.argmax(scores))
        report(3, total)
        converted = self.render(analysis, source.select(best), target.stats, [candidates[best]], pitch)[0]
        converted = converted[: len(samples)]
        limit_peak(converted)
        report(total, total)
        return Conversion(converted, rate, candidates[best], similarities[0], similarities[best + 1])


@one_per_process
def vc_converter() -> VoiceConverter:
    """The process-wide converter the settings choose (``STUDIO_VC_ENGINE``), on their device."""
    settings = get_settings()
    device = resolve_device(settings.vc_device)
    if settings.vc_engine == "kokoro":
        from workers.gpu_vc.kokoro_engine import kokoro_converter

        return kokoro_converter(device)
    return WorldConverter(device)
