"""What the GPU-worker skeleton (``workers.gpu_worker``) asks of a worker's engine, and the one way
an engine is loaded once per process.

An engine is the model behind a kind of clip (Kokoro, the WORLD converter, the sound-effect
engines). Its own methods are what its worker's activity calls; the skeleton needs only a name for
the log and a warm-up before the worker takes requests. Nothing here imports Temporal, so benches
and tests load engines without it.
"""

import functools
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar


class Engine(Protocol):
    @property
    def name(self) -> str:
        """What runs, for the log line "serving <queue> with <name>"."""
        ...

    def warm_up(self) -> None:
        """Load now what the first request would otherwise wait for (a no-op when loading did it)."""
        ...


E = TypeVar("E")


def one_per_process(load: Callable[[], E]) -> Callable[[], E]:
    """``load`` made to run once per process: the first caller loads the engine (others wait for
    it), every later call returns the same one."""
    lock = threading.Lock()
    loaded: list[E] = []

    @functools.wraps(load)
    def get() -> E:
        with lock:
            if not loaded:
                loaded.append(load())
            return loaded[0]

    return get
