"""The one program every GPU worker runs; a worker folder brings its engine and its activity.

``serve_inference(kind, engine_factory, activities)``, run by each ``workers/gpu_*/worker.py``:

1. loads the engine once (``engine_factory``, a ``workers.engines.one_per_process`` function) and
   warms it up, makes sure the object store is there, connects to Temporal;
2. serves the kind's inference activity on the kind's GPU queue (``studio.kinds``), at most
   ``max_concurrent(engine)`` at a time, and those of the kinds it ``also_serves`` on that queue
   (the TTS worker also makes users' voices, with the same Kokoro);
3. serves the upload activity on this process's own queue, so the audio the inference spooled here
   is uploaded from here (audio never passes through Temporal);
4. runs the worker's extra Temporal workers beside them (the TTS worker's ``vc-references``) and
   its ``on_start`` task in a thread (the TTS worker renders missing voice previews), until
   SIGINT or SIGTERM; then drains: an inference in flight may finish (``GRACEFUL_SHUTDOWN``).

The activity is a method of an ``InferenceActivities`` subclass named like the kind's activity;
it holds the engine and the ``WorkerContext`` (spool, own queue, store, client). Inside it,
``activities.inference.heartbeating`` keeps heartbeats going while work runs in a thread.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
from temporalio.client import Client
from temporalio.worker import Worker

from activities.inference import spool_audio
from activities.upload import UploadActivities
from studio.kinds import KINDS, ClipKind
from studio.settings import get_settings
from studio.storage import ObjectStore, get_store
from temporal import queues
from temporal.client import connect
from temporal.worker_runtime import run_until_signalled
from workers.engines import Engine
from workflows.types import Artifact, GenerateRequest, InferenceResult

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Engine)
DEFAULT_CONCURRENCY = 2  # inferences at once, unless the worker says otherwise
GRACEFUL_SHUTDOWN = timedelta(seconds=10)  # on SIGINT/SIGTERM, an inference in flight may finish
UPLOAD_THREADS = 4  # uploads (and the extra workers' sync activities) run in this many threads


@dataclass(frozen=True)
class WorkerContext:
    """What a worker's activities use of this process, besides the engine."""

    spool_dir: Path  # results wait here for the upload: settings.spool_dir / the kind's key prefix
    local_queue: str  # only this process polls it; the result names it so the upload runs here
    store: ObjectStore
    client: Client  # e.g. the voice changer starts the TTS worker's reference workflow with it


class InferenceActivities(Generic[E]):
    """Base of a worker's activity class. The subclass defines the kind's inference activity as a
    method named like it (``synthesize_speech``, ...), decorated ``@activity.defn(name=...)``."""

    def __init__(self, engine: E, ctx: WorkerContext) -> None:
        self.engine, self.ctx = engine, ctx
        ctx.spool_dir.mkdir(parents=True, exist_ok=True)

    async def spool(self, req: GenerateRequest, samples: np.ndarray, rate: int, variation: int = 1) -> list[Artifact]:
        """Write the result (WAV + MP3) into this process's spool, named as the clip's objects."""
        return await spool_audio(self.ctx.spool_dir, req.clip_objects, samples, rate, variation)

    def result(
        self, artifacts: list[Artifact], duration_seconds: float, details: dict | None = None
    ) -> InferenceResult:
        """The activity's answer: what was spooled, and this process's queue for the upload."""
        return InferenceResult(self.ctx.local_queue, artifacts, duration_seconds, details or {})


def worker_context(kind: ClipKind, client: Client, store: ObjectStore) -> WorkerContext:
    """This process's context for ``kind``: its spool folder and a fresh own queue."""
    spec = KINDS[kind]
    return WorkerContext(
        get_settings().spool_dir / spec.key_prefix, queues.worker_local_queue(spec.task_queue), store, client
    )


def gpu_temporal_workers(
    kind: ClipKind, activities: InferenceActivities, executor: ThreadPoolExecutor,
    max_concurrent: int = DEFAULT_CONCURRENCY, task_queue: str | None = None, also_serves: Sequence[ClipKind] = (),
) -> list[Worker]:  # fmt: skip
    """A GPU worker's two Temporal workers: the kind's inference activity (and those of the kinds it
    ``also_serves``, on the same GPU queue) on its GPU queue (or ``task_queue``), and the upload on
    this process's own queue."""
    ctx = activities.ctx
    served = (kind, *also_serves)
    if any(KINDS[k].task_queue != KINDS[kind].task_queue for k in served):
        raise ValueError("one worker serves kinds of one GPU queue only")
    inference = [getattr(activities, KINDS[k].activity) for k in served]
    upload = UploadActivities(ctx.store, ctx.spool_dir).upload_audio
    return [
        Worker(
            ctx.client, task_queue=task_queue or KINDS[kind].task_queue, activities=inference,
            max_concurrent_activities=max_concurrent, graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        ),
        Worker(ctx.client, task_queue=ctx.local_queue, activities=[upload], activity_executor=executor),
    ]  # fmt: skip


ExtraWorkers = Callable[[E, WorkerContext, ThreadPoolExecutor], Iterable[Worker]]


async def serve_inference(
    kind: ClipKind,
    engine_factory: Callable[[], E],
    activities: Callable[[E, WorkerContext], InferenceActivities[E]],
    max_concurrent: Callable[[E], int] = lambda engine: DEFAULT_CONCURRENCY,
    extra_workers: ExtraWorkers | None = None,
    also_serves: Sequence[ClipKind] = (),
    on_start: Callable[[E, WorkerContext], object] | None = None,
) -> None:
    """Run this process as the GPU worker for ``kind`` until signalled (see the module's docstring).
    ``on_start`` runs in a thread once the workers are up (e.g. rendering what the store lacks)."""
    queue = KINDS[kind].task_queue
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {queue} %(levelname)s %(message)s")
    engine = engine_factory()
    engine.warm_up()
    store = get_store()
    store.ensure_ready()
    ctx = worker_context(kind, await connect(), store)
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as executor:
        workers = gpu_temporal_workers(
            kind, activities(engine, ctx), executor, max_concurrent(engine), also_serves=also_serves
        )
        workers += extra_workers(engine, ctx, executor) if extra_workers else []
        log.info("serving %s with %s", queue, engine.name)
        if on_start is not None:
            asyncio.get_running_loop().run_in_executor(executor, _logged(on_start), engine, ctx)
        await run_until_signalled(*workers)


def _logged(task: Callable[..., object]) -> Callable[..., None]:
    """``task`` with its failure logged (a background start-up task has nobody to raise to)."""

    def run(*args: object) -> None:
        try:
            task(*args)
        except Exception:
            log.exception("start-up task %s failed", getattr(task, "__name__", task))

    return run
