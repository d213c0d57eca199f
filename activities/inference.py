"""Helpers every inference activity shares: progress to the workflow, and spooling the result.

The result stays in the worker's spool until the upload activity (on this worker's own queue)
moves it to the object store.
"""

import asyncio
import logging
from pathlib import Path

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from studio.audio import to_mp3, to_wav
from studio.storage import AUDIO_EXTENSIONS, ClipObjects
from workflows.generate_audio import GenerateAudio
from workflows.types import BAD_INPUT, Artifact, Progress

log = logging.getLogger(__name__)


def bad_input(message: str) -> ApplicationError:
    """The request itself is wrong: fail now, never retry (the workflow refunds)."""
    return ApplicationError(message, type=BAD_INPUT, non_retryable=True)


async def report_progress(done: int, total: int) -> None:
    """Heartbeat, and tell the workflow how far along we are (best effort: it is cosmetic)."""
    activity.heartbeat(done, total)
    try:
        info = activity.info()
        handle = activity.client().get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)
        await handle.signal(GenerateAudio.report_progress, Progress(done, total))
    except Exception as exc:
        log.debug("progress signal failed: %s", exc)


async def spool_audio(
    spool_dir: Path, objects: ClipObjects, samples: np.ndarray, rate: int, variation: int = 1
) -> list[Artifact]:
    """Write WAV (the master) and MP3 (for download) into the spool; the WAV comes first."""
    artifacts = []
    for suffix, encode in zip(AUDIO_EXTENSIONS, (to_wav, to_mp3), strict=True):
        key = objects.audio(suffix, variation)
        filename = key.rsplit("/", 1)[-1]
        data = await asyncio.to_thread(encode, samples, rate)
        tmp = spool_dir / (filename + ".partial")
        tmp.write_bytes(data)
        tmp.replace(spool_dir / filename)
        artifacts.append(Artifact(key=key, filename=filename))
    return artifacts
