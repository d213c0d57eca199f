"""The inference step for voice conversion: the uploaded source -> a studio voice, spooled here.

The source is read from the object store (the site put it there), decoded and checked; bad
audio is a non-retryable ``BadInput``. Conversion runs in a thread while this coroutine
heartbeats and reports progress to the workflow.
"""

import asyncio
import logging
from pathlib import Path

from temporalio import activity

from activities.inference import bad_input, report_progress, spool_audio
from studio.storage import ObjectStore
from studio.uploads import UnusableAudio, decode_upload
from studio.voices import VOICES
from workers.gpu_vc.engine import RATE, WorldConverter
from workflows.types import GenerateRequest, InferenceResult

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5


class VcActivities:
    def __init__(self, converter: WorldConverter, store: ObjectStore, spool_dir: Path, local_queue: str) -> None:
        self.converter, self.store, self.spool_dir, self.local_queue = converter, store, spool_dir, local_queue
        spool_dir.mkdir(parents=True, exist_ok=True)

    @activity.defn(name="convert_voice")
    async def convert_voice(self, req: GenerateRequest) -> InferenceResult:
        if req.voice not in VOICES:
            raise bad_input(f"Unknown voice {req.voice!r}.")
        pitch = float(req.settings.get("pitch", 0.0))
        formant = req.settings.get("formant")
        data = await asyncio.to_thread(self.store.get_bytes, req.settings["source_key"])
        try:
            samples = await asyncio.to_thread(decode_upload, data, RATE)
        except UnusableAudio as exc:
            raise bad_input(str(exc)) from exc

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
        artifacts = await spool_audio(self.spool_dir, "vc", req.clip_id, result.samples, result.rate)
        return InferenceResult(self.local_queue, artifacts, len(result.samples) / result.rate)
