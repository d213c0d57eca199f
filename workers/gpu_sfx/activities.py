"""The inference step for sound effects: prompt -> N variations, spooled here as WAV + MP3 each.

Variation k is stored where the request's ``ClipObjects`` says (``sfx/<clip>.wav``,
``sfx/<clip>-2.wav``, ...). A prompt the
engine cannot honour, or settings out of range, is a non-retryable ``BadInput``: the workflow
refunds and the user sees the message.
"""

import asyncio

from temporalio import activity

from activities.inference import bad_input, check_request, heartbeating
from studio import kinds
from studio.kinds import ClipKind
from workers.gpu_sfx.engine import SfxEngine, UnmatchedPrompt
from workers.gpu_worker import InferenceActivities
from workflows.types import Artifact, GenerateRequest, InferenceResult


def sfx_settings(req: GenerateRequest) -> tuple[float, float, int, int]:
    """(seconds, influence, seed, variations) from a request, after the site's own check
    (``studio.kinds``); raises BadInput when out of range."""
    check_request(req)
    seconds, influence, variations, seed = kinds.sound_effect_params(req.settings)
    return seconds, influence, seed, variations


class SfxActivities(InferenceActivities[SfxEngine]):
    @activity.defn(name=kinds.KINDS[ClipKind.SOUND_EFFECT].activity)
    async def generate_sound_effect(self, req: GenerateRequest) -> InferenceResult:
        seconds, influence, seed, variations = sfx_settings(req)
        async with heartbeating() as beat:
            await beat.progress(0, variations)
            try:
                result = await asyncio.to_thread(self.engine.generate, req.text, seconds, influence, seed, variations)
            except UnmatchedPrompt as exc:
                raise bad_input(str(exc)) from exc
            activity.logger.info("clip %s: %r understood as %s", req.clip_id, req.text, result.interpretation)
            artifacts: list[Artifact] = []
            for i, samples in enumerate(result.variations, start=1):
                artifacts += await self.spool(req, samples, result.sample_rate, variation=i)
                await beat.progress(i, variations)
        # what was matched ("rain (tin) + distant thunder"), shown on the clip's card
        return self.result(artifacts, seconds, {"interpretation": result.interpretation})
