"""Sound-effect worker: loads the engine once, serves ``gpu-sfx``, uploads from its own queue.

Needs only the Temporal address and the object store. ``python -m workers.gpu_sfx.worker``
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
from workers.gpu_sfx.activities import SfxActivities
from workers.gpu_sfx.engine import SfxEngine, sfx_engine


def build_workers(
    client: Client, engine: SfxEngine, executor: ThreadPoolExecutor, task_queue: str = queues.GPU_SFX
) -> list[Worker]:
    spool = get_settings().spool_dir / "sfx"
    local_queue = queues.worker_local_queue(task_queue)
    sfx = SfxActivities(engine, spool, local_queue)
    return inference_workers(client, task_queue, local_queue, sfx.generate_sound_effect, spool, executor)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gpu-sfx %(levelname)s %(message)s")
    engine = sfx_engine()
    engine.understand("warm up the text encoder")  # load MiniLM now, not on the first request
    get_store().ensure_ready()
    client = await connect()
    with ThreadPoolExecutor(max_workers=4) as executor:
        logging.info("serving %s with the %s engine", queues.GPU_SFX, engine.name)
        await run_until_signalled(*build_workers(client, engine, executor))


if __name__ == "__main__":
    asyncio.run(main())
