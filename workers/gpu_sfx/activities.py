"""The inference step for sound effects: prompt -> N variations, spooled here as WAV + MP3 each.

Variation k is stored where the request's ``ClipObjects`` says (``sfx/<clip>.wav``,
``sfx/<clip>-2.wav``, ...). A prompt the
engine cannot honour, or settings out of range, is a non-retryable ``BadInput``: the workflow
refunds and the user sees the message.
"""

import asyncio
from pathlib import Path

from temporalio import activity

from activities.inference import bad_input, report_progress, spool_audio
from studio import kinds
from studio.models import ClipKind
from workers.gpu_sfx.engine import SfxEngine, UnmatchedPrompt
from workflows.types import Artifact, GenerateRequest, InferenceResult

HEARTBEAT_SECONDS = 5


def sfx_settings(req: GenerateRequest) -> tuple[float, float, int, int]:
    """(seconds, influence, seed, variations) from a request, after the site's own check
    (``studio.kinds``); raises BadInput when out of range."""
    if message := kinds.problem(req.kind, req.text, req.voice, req.settings):
        raise bad_input(message)
    settings = req.settings
    return (
        float(settings.get("duration_seconds", kinds.DEFAULT_SECONDS)),
        float(settings.get("prompt_influence", kinds.DEFAULT_INFLUENCE)),
        int(settings.get("seed", 0)),
        int(settings.get("variations", 1)),
    )


class SfxActivities:
    def __init__(self, engine: SfxEngine, spool_dir: Path, local_queue: str) -> None:
        self.engine, self.spool_dir, self.local_queue = engine, spool_dir, local_queue
        spool_dir.mkdir(parents=True, exist_ok=True)

    @activity.defn(name=kinds.KINDS[ClipKind.SOUND_EFFECT].activity)
    async def generate_sound_effect(self, req: GenerateRequest) -> InferenceResult:
        seconds, influence, seed, variations = sfx_settings(req)
        await report_progress(0, variations)
        job = asyncio.ensure_future(
            asyncio.to_thread(self.engine.generate, req.text, seconds, influence, seed, variations)
        )
        while not (await asyncio.wait({job}, timeout=HEARTBEAT_SECONDS))[0]:
            activity.heartbeat()
        try:
            result = job.result()
        except UnmatchedPrompt as exc:
            raise bad_input(str(exc)) from exc
        activity.logger.info("clip %s: %r understood as %s", req.clip_id, req.text, result.interpretation)
        artifacts: list[Artifact] = []
        for i, samples in enumerate(result.variations, start=1):
            artifacts += await spool_audio(self.spool_dir, req.clip_objects, samples, result.sample_rate, variation=i)
            await report_progress(i, variations)
        # what was matched ("rain (tin) + distant thunder"), shown on the clip's card
        return InferenceResult(self.local_queue, artifacts, seconds, {"interpretation": result.interpretation})
