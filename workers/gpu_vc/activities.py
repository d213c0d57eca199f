"""The inference step for voice conversion: the uploaded source -> a studio voice, spooled here.

The source is read from the object store (the site put it there), decoded and checked; bad
audio is a non-retryable ``BadInput``. A target whose reference speech is not in the store yet is
asked of the TTS worker (``reference.PublishVcReference``) and waited for, up to
``PUBLISH_WAIT_SECONDS``; then ``ProfileNotPublished``, a retryable failure. Conversion runs in a
thread while this coroutine heartbeats and reports progress to the workflow.
"""

import asyncio
import logging
from datetime import timedelta

from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy

from activities.inference import bad_input, check_request, heartbeating
from studio import kinds
from studio.kinds import ClipKind
from studio.uploads import UnusableAudio, decode_upload
from studio.voices import RECIPE_SETTING, VoiceRecipe
from workers.gpu_vc import profiles
from workers.gpu_vc.conversion import UnknownVoice
from workers.gpu_vc.engine import VC_RATE, VoiceConverter
from workers.gpu_vc.reference import (
    REFERENCE_QUEUE,
    PublishVcReference,
    ReferenceRequest,
    publish_workflow_id,
    reference_key,
)
from workers.gpu_worker import InferenceActivities
from workflows.types import GenerateRequest, InferenceResult

log = logging.getLogger(__name__)
PUBLISH_WAIT_SECONDS = 180  # a TTS worker on a CPU renders a reference in under a minute


class VcActivities(InferenceActivities[VoiceConverter]):
    async def await_reference(self, voice: str, recipe: dict | None = None, wait: float = PUBLISH_WAIT_SECONDS) -> None:
        """Make sure the target's profile can be measured here: ask the TTS worker for a missing
        reference (one workflow per voice, shared by concurrent requests) and wait, heartbeating."""
        if profiles.cached(voice) or await asyncio.to_thread(self.ctx.store.exists, reference_key(voice)):
            return
        log.info("asking the TTS worker for the reference speech of %s", voice)
        handle = await self.ctx.client.start_workflow(
            PublishVcReference.run, ReferenceRequest(voice, recipe), id=publish_workflow_id(voice),
            task_queue=REFERENCE_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, execution_timeout=timedelta(hours=1),
        )  # fmt: skip
        try:
            async with heartbeating(0, 1), asyncio.timeout(wait):
                await handle.result()
        except Exception as exc:  # not published in time (no TTS worker?) or the render failed: retryable
            raise profiles.ProfileNotPublished(voice) from exc

    @activity.defn(name=kinds.KINDS[ClipKind.VOICE_CONVERSION].activity)
    async def convert_voice(self, req: GenerateRequest) -> InferenceResult:
        check_request(req)  # the site's own check
        pitch = float(req.settings.get("pitch", 0.0))
        formant = req.settings.get("formant")
        data = await asyncio.to_thread(self.ctx.store.get_bytes, req.settings["source_key"])
        try:
            samples = await asyncio.to_thread(decode_upload, data, VC_RATE)
        except UnusableAudio as exc:
            raise bad_input(str(exc)) from exc
        if self.engine.needs_reference:
            await self.await_reference(req.voice, req.settings.get(RECIPE_SETTING))  # a user's voice: its recipe
        recipe = VoiceRecipe.from_settings(req.settings)
        async with heartbeating(0, 1) as beat:
            try:
                result = await asyncio.to_thread(
                    self.engine.convert, samples, VC_RATE, req.voice, pitch, formant, beat.progress_from_thread, recipe
                )
            except UnknownVoice as exc:
                raise bad_input(f"This voice cannot be used as a target: {exc}.") from exc
            except ValueError as exc:  # too little voiced speech to analyse
                raise bad_input(f"Could not find enough speech in this recording: {exc}.") from exc
        if result.similarity_after is not None:
            log.info(
                "clip %s -> %s: warp %.2f, similarity %.3f -> %.3f",
                req.clip_id, req.voice, result.warp, result.similarity_before, result.similarity_after,
            )  # fmt: skip
        return self.result(await self.spool(req, result.samples, result.rate), len(result.samples) / result.rate)
