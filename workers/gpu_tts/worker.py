"""TTS GPU worker: Kokoro on the GPU-worker skeleton (``workers.gpu_worker``): speech, users' own
voices (fits and blends, ``voice_design``), plus the ``vc-references`` worker that renders the
voice changer's target voices.

Needs only the Temporal address and the object store, so it can run on its own machine.
``python -m workers.gpu_tts.worker``
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from studio.kinds import ClipKind
from studio.settings import get_settings
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.previews import publish_previews
from workers.gpu_tts.speech_session import session_worker
from workers.gpu_tts.vc_references import reference_worker
from workers.gpu_worker import WorkerContext, serve_inference

# Without batching, requests still run one window at a time, but the batcher serves users in turn:
# a slot is only a place in that rotation (a coroutine and its text), so there are several, lest
# one user's long jobs hold every slot and another user's one-liner wait at the queue for them.
UNBATCHED_CONCURRENCY = 8


def concurrent_syntheses(engine: KokoroEngine) -> int:
    """How many requests this worker takes at once: enough to fill batches when the engine batches;
    otherwise ``UNBATCHED_CONCURRENCY``, so a short request gets its turn at the batcher beside long ones."""
    configured = get_settings().tts_max_concurrent
    if configured:
        return configured
    return max(2, 2 * engine.batcher.max_batch) if engine.batcher.max_batch > 1 else UNBATCHED_CONCURRENCY


def extra_workers(engine: KokoroEngine, ctx: WorkerContext, executor: ThreadPoolExecutor) -> list[Worker]:
    """The voice changer asks this worker, where the voices live, for its targets' reference speech;
    speech sessions (the websocket) have their segments spoken here, on their own queue."""
    return [
        reference_worker(ctx.client, engine, ctx.store, executor),
        session_worker(engine, ctx, executor, concurrent_syntheses(engine)),
    ]


def stock_previews(engine: KokoroEngine, ctx: WorkerContext) -> None:
    """Render the stock voices' previews the store lacks (once per store, not per start)."""
    if get_settings().tts_publish_previews:
        publish_previews(ctx.store, engine)


def main() -> None:
    asyncio.run(
        serve_inference(
            ClipKind.TTS,
            tts_engine,
            TtsActivities,
            max_concurrent=concurrent_syntheses,
            extra_workers=extra_workers,
            also_serves=(ClipKind.VOICE_DESIGN,),
            on_start=stock_previews,
        )  # fmt: skip
    )


if __name__ == "__main__":
    main()
