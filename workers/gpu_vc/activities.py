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
from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.inference import bad_input, report_progress, spool_audio
from studio import kinds
from studio.models import ClipKind
from studio.storage import ObjectStore
from studio.uploads import UnusableAudio, decode_upload
from workers.gpu_vc import profiles
from workers.gpu_vc.engine import RATE, WorldConverter
from workers.gpu_vc.reference import REFERENCE_QUEUE, PublishVcReference, publish_workflow_id, reference_key
from workflows.types import GenerateRequest, InferenceResult

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5
PUBLISH_WAIT_SECONDS = 180  # a TTS worker on a CPU renders a reference in under a minute


class VcActivities:
    def __init__(
        self, converter: WorldConverter, store: ObjectStore, spool_dir: Path, local_queue: str, client: Client
    ) -> None:
        self.converter, self.store, self.spool_dir, self.local_queue = converter, store, spool_dir, local_queue
        self.client = client
        spool_dir.mkdir(parents=True, exist_ok=True)

    async def await_reference(self, voice: str, wait: float = PUBLISH_WAIT_SECONDS) -> None:
        """Make sure the target's profile can be measured here: ask the TTS worker for a missing
        reference (one workflow per voice, shared by concurrent requests) and wait, heartbeating."""
        if profiles.cached(voice) or await asyncio.to_thread(self.store.exists, reference_key(voice)):
            return
        log.info("asking the TTS worker for the reference speech of %s", voice)
        handle = await self.client.start_workflow(
            PublishVcReference.run, voice, id=publish_workflow_id(voice), task_queue=REFERENCE_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, execution_timeout=timedelta(hours=1),
        )  # fmt: skip
        result = asyncio.ensure_future(handle.result())
        try:
            async with asyncio.timeout(wait):
                while not (await asyncio.wait({result}, timeout=HEARTBEAT_SECONDS))[0]:
                    activity.heartbeat(0, 1)
            result.result()
        except Exception as exc:  # not published in time (no TTS worker?) or the render failed: retryable
            raise profiles.ProfileNotPublished(voice) from exc
        finally:
            result.cancel()

    @activity.defn(name=kinds.KINDS[ClipKind.VOICE_CONVERSION].activity)
    async def convert_voice(self, req: GenerateRequest) -> InferenceResult:
        if message := kinds.problem(req.kind, req.text, req.voice, req.settings):  # the site's own check
            raise bad_input(message)
        pitch = float(req.settings.get("pitch", 0.0))
        formant = req.settings.get("formant")
        data = await asyncio.to_thread(self.store.get_bytes, req.settings["source_key"])
        try:
            samples = await asyncio.to_thread(decode_upload, data, RATE)
        except UnusableAudio as exc:
            raise bad_input(str(exc)) from exc
        await self.await_reference(req.voice)

        loop = asyncio.get_running_loop()
        latest = [0, 1]

        def progress(done: int, total: int) -> None:
            latest[:] = [done, total]
            asyncio.run_coroutine_threadsafe(report_progress(done, total), loop)

        job = asyncio.ensure_future(
            asyncio.to_thread(self.converter.convert, samples, RATE, req.voice, pitch, formant, progress)
        )
        while True:
            done, _ = await asyncio.wait({job}, timeout=HEARTBEAT_SECONDS)
            activity.heartbeat(*latest)
            if done:
                break
        try:
            result = job.result()
        except ValueError as exc:  # too little voiced speech to analyse
            raise bad_input(f"Could not find enough speech in this recording: {exc}.") from exc
        log.info(
            "clip %s -> %s: warp %.2f, similarity %.3f -> %.3f",
            req.clip_id, req.voice, result.warp, result.similarity_before, result.similarity_after,
        )  # fmt: skip
        artifacts = await spool_audio(self.spool_dir, req.clip_objects, result.samples, result.rate)
        return InferenceResult(self.local_queue, artifacts, len(result.samples) / result.rate)
