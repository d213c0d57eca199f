"""Orchestration worker: runs the GenerateAudio workflow and its database activities.

``python -m activities.worker``
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities import credits
from temporal import queues
from temporal.client import connect
from temporal.worker_runtime import run_until_signalled
from workflows.generate_audio import GenerateAudio


def build_worker(client: Client, executor: ThreadPoolExecutor, task_queue: str = queues.ORCHESTRATION) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[GenerateAudio],
        activities=credits.ALL,
        activity_executor=executor,
        max_concurrent_activities=16,
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s orchestration %(levelname)s %(message)s")
    client = await connect()
    with ThreadPoolExecutor(max_workers=16) as executor:
        await run_until_signalled(build_worker(client, executor))


if __name__ == "__main__":
    asyncio.run(main())
