"""Runs Temporal workers until SIGINT or SIGTERM, then shuts them down gracefully.

Graceful shutdown lets in-flight activities finish (up to the grace period) instead of leaving
them to time out on the server.
"""

import asyncio
import signal

from temporalio.worker import Worker


async def run_until_signalled(*workers: Worker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runs = [asyncio.create_task(w.run()) for w in workers]
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*runs, stopped], return_when=asyncio.FIRST_COMPLETED)
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    for task in done:  # a worker that crashed on its own surfaces its error
        if task is not stopped:
            task.result()
