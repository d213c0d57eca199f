"""Voice-conversion GPU worker: loads the converter once, serves ``gpu-vc``, uploads from its own queue.

Needs only the Temporal address and the object store. ``python -m workers.gpu_vc.worker``
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
from workers.gpu_vc.activities import VcActivities
from workers.gpu_vc.engine import WorldConverter, get_converter


def build_workers(
    client: Client, converter: WorldConverter, executor: ThreadPoolExecutor, task_queue: str = queues.GPU_VC
) -> list[Worker]:
    spool = get_settings().spool_dir / "vc"
    local_queue = queues.worker_local_queue(task_queue)
    vc = VcActivities(converter, get_store(), spool, local_queue, client)
    concurrent = get_settings().vc_max_concurrent or (4 if converter.device.type == "cuda" else 2)
    return inference_workers(client, task_queue, local_queue, vc.convert_voice, spool, executor, concurrent)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gpu-vc %(levelname)s %(message)s")
    converter = get_converter()
    get_store().ensure_ready()
    client = await connect()
    with ThreadPoolExecutor(max_workers=4) as executor:
        logging.info("serving %s", queues.GPU_VC)
        await run_until_signalled(*build_workers(client, converter, executor))


if __name__ == "__main__":
    asyncio.run(main())
