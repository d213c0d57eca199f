"""Closed-loop load for the benchmarks: N threads working at once, as a worker runs activities."""

import threading
import time
from collections.abc import Callable


def run_threads(work: Callable[[int], None], count: int) -> float:
    """Run ``work(i)`` for i in 0..count-1 on as many threads at once; wall seconds until all end."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start
