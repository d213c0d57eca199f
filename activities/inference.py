"""Helpers every inference activity shares: the request's check, heartbeats and progress to the
workflow, and spooling the result.

The result stays in the worker's spool until the upload activity (on this worker's own queue)
moves it to the object store.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError

from studio import kinds
from studio.audio import to_mp3, to_wav
from studio.storage import AUDIO_EXTENSIONS, ClipObjects
from workflows.types import BAD_INPUT, REPORT_PROGRESS, Artifact, GenerateRequest, Progress

log = logging.getLogger(__name__)
# How often a running inference heartbeats: well inside the workflow's heartbeat timeout (60 s), so
# a dead worker is noticed and a cancellation reaches the activity within seconds.
HEARTBEAT_SECONDS = 5


def bad_input(message: str) -> ApplicationError:
    """The request itself is wrong: fail now, never retry (the workflow refunds)."""
    return ApplicationError(message, type=BAD_INPUT, non_retryable=True)


def check_request(req: GenerateRequest) -> None:
    """The kind's own check (the one the site and the public API ran) on what the worker received;
    raises ``bad_input`` with the user's message."""
    if message := kinds.problem(req.kind, req.text, req.voice, req.settings):
        raise bad_input(message)


async def report_progress(done: int, total: int, detail: str = "") -> None:
    """Heartbeat, and tell the workflow how far along we are (best effort: it is cosmetic)."""
    activity.heartbeat(done, total)
    try:
        info = activity.info()
        handle = activity.client().get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)
        await handle.signal(REPORT_PROGRESS, Progress(done, total, detail))
    except Exception as exc:
        log.debug("progress signal failed: %s", exc)


class Heartbeat:
    """The latest progress of the work in hand; ``heartbeating`` sends it every few seconds."""

    def __init__(self, done: int, total: int) -> None:
        self.details = (done, total)
        self._loop = asyncio.get_running_loop()
        self._sending: asyncio.Task | None = None

    async def progress(self, done: int, total: int, detail: str = "") -> None:
        """Record progress and report it now (heartbeat + the workflow's progress signal)."""
        await self.sent()
        self.details = (done, total)
        await report_progress(done, total, detail)

    def progress_soon(self, done: int, total: int, detail: str = "") -> None:
        """``progress`` without waiting for the signal's round trip: the work goes on meanwhile (the
        first chunk of a stream need not wait ~10 ms for a cosmetic report). The next ``progress``,
        and the end of ``heartbeating``, wait for it, so reports stay in order."""
        self.details = (done, total)
        self._sending = asyncio.create_task(report_progress(done, total, detail))

    async def sent(self) -> None:
        """Wait for a report sent by ``progress_soon`` (it never raises: reports are best effort)."""
        if self._sending is not None:
            sending, self._sending = self._sending, None
            await sending

    def progress_from_thread(self, done: int, total: int, detail: str = "") -> None:
        """``progress`` for work running in a thread (e.g. an engine's progress callback)."""
        self.details = (done, total)
        asyncio.run_coroutine_threadsafe(report_progress(done, total, detail), self._loop)


@asynccontextmanager
async def heartbeating(done: int = 0, total: int = 1, every: float = HEARTBEAT_SECONDS) -> AsyncIterator[Heartbeat]:
    """Heartbeat every ``every`` seconds with the latest progress while the body runs: work in a
    thread, a turn at a batcher, a wait for another worker. So a long step never looks like a dead
    worker, and a cancellation is delivered (at the body's next await) instead of waiting for it."""
    beat = Heartbeat(done, total)

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat(*beat.details)

    ticker = asyncio.create_task(tick())
    try:
        yield beat
        await beat.sent()
    finally:
        ticker.cancel()


async def spool_bytes(spool_dir: Path, key: str, data: bytes) -> Artifact:
    """Write one finished file into the spool (atomically: a crash leaves no half file to upload)."""
    filename = key.rsplit("/", 1)[-1]
    tmp = spool_dir / (filename + ".partial")
    await asyncio.to_thread(tmp.write_bytes, data)
    tmp.replace(spool_dir / filename)
    return Artifact(key=key, filename=filename)


async def spool_audio(
    spool_dir: Path, objects: ClipObjects, samples: np.ndarray, rate: int, variation: int = 1
) -> list[Artifact]:
    """Write WAV (the master) and MP3 (for download) into the spool; the WAV comes first."""
    artifacts = []
    for suffix, encode in zip(AUDIO_EXTENSIONS, (to_wav, to_mp3), strict=True):
        data = await asyncio.to_thread(encode, samples, rate)
        artifacts.append(await spool_bytes(spool_dir, objects.audio(suffix, variation), data))
    return artifacts
