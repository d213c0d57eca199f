"""TTS GPU worker: loads Kokoro once, serves ``gpu-tts`` and uploads from its own queue.

Needs only the Temporal address and the object store, so it can run on its own machine.
``python -m workers.gpu_tts.worker``
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.upload import inference_workers
from studio.settings import get_settings
from studio.storage import get_store
from temporal import queues
from temporal.client import connect
from temporal.worker_runtime import run_until_signalled
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.vc_references import reference_worker

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


def build_workers(
    client: Client, engine: KokoroEngine, executor: ThreadPoolExecutor, task_queue: str = queues.GPU_TTS
) -> list[Worker]:
    """The shared inference queue, plus this process's own queue for uploads."""
    spool = get_settings().spool_dir
    local_queue = queues.worker_local_queue(task_queue)
    tts = TtsActivities(engine, spool, local_queue, get_store())
    return inference_workers(
        client, task_queue, local_queue, tts.synthesize_speech, spool, executor, concurrent_syntheses(engine)
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gpu-tts %(levelname)s %(message)s")
    engine = tts_engine()
    get_store().ensure_ready()
    client = await connect()
    with ThreadPoolExecutor(max_workers=4) as executor:
        workers = build_workers(client, engine, executor)
        workers.append(reference_worker(client, engine, get_store(), executor))  # for the voice changer
        logging.info("serving %s with %s on %s", queues.GPU_TTS, engine.backend.name, engine.device)
        await run_until_signalled(*workers)


if __name__ == "__main__":
    asyncio.run(main())
