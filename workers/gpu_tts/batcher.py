"""Cross-request batching: utterances from concurrent requests share forward passes.

Callers (synthesize activities, in their own threads or coroutines) submit utterances and get
futures. One inference thread takes everything waiting, waits up to ``window`` for more (up to
``max_batch``), sorts by length and cuts the lot into buckets of similar length so padding stays
cheap, then runs each bucket as one batch. With nothing else waiting a request runs at once: the
window only applies while others are queued, so a lone request pays no batching delay. With
``threads`` > 1 several such loops share the queue (on a GPU each gets its own CUDA stream).

Fairness: work is queued per owner (the TTS activity passes the user id) and taken round-robin,
one utterance per owner per turn, so one user's 5 000-character job yields to another user's
one-liner after at most one of its own utterances instead of making it wait behind all of them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0

    @property
    def mean_batch(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class FairQueue(Generic[Item]):
    """A queue with one lane per owner, served round-robin: each ``get`` takes the oldest entry of
    the owner whose turn it is, then sends that owner to the back of the rotation."""

    def __init__(self) -> None:
        self._lanes: OrderedDict[Hashable, deque[Item]] = OrderedDict()
        self._ready = threading.Condition()

    def put(self, owner: Hashable, entry: Item) -> None:
        with self._ready:
            self._lanes.setdefault(owner, deque()).append(entry)
            self._ready.notify()

    def get(self, block: bool = True, timeout: float | None = None) -> Item:
        with self._ready:
            if block and not self._ready.wait_for(lambda: self._lanes, timeout):
                raise queue.Empty
            if not self._lanes:
                raise queue.Empty
            owner, lane = next(iter(self._lanes.items()))
            entry = lane.popleft()
            if lane:
                self._lanes.move_to_end(owner)  # its next entry waits for everyone else's turn
            else:
                del self._lanes[owner]
            return entry

    def get_nowait(self) -> Item:
        return self.get(block=False)


class Batcher(Generic[Item, Result]):
    def __init__(
        self,
        infer: Callable[[list[Item]], list[Result]],
        size_of: Callable[[Item], int],
        max_batch: int = 32,
        window_s: float = 0.005,
        max_spread: float = 3.0,
        threads: int = 1,
    ) -> None:
        self._infer, self._size_of = infer, size_of
        self.max_batch, self.window_s, self.max_spread = max(1, max_batch), window_s, max_spread
        self._queue: FairQueue[tuple[Item, Future]] = FairQueue()
        self.stats = BatchStats()
        self._stats_lock = threading.Lock()
        # More than one thread lets one batch be prepared and launched while another computes.
        for i in range(max(1, threads)):
            threading.Thread(target=self._loop, name=f"tts-batcher-{i}", daemon=True).start()

    def submit(self, items: Sequence[Item], owner: Hashable = None) -> list[Future]:
        """Queue utterances; each future resolves to that utterance's own result. Owners (users)
        take turns: see ``FairQueue``."""
        futures = []
        for item in items:
            future: Future = Future()
            self._queue.put(owner, (item, future))
            futures.append(future)
        return futures

    def run(self, items: Sequence[Item], owner: Hashable = None) -> list[Result]:
        """Submit and wait (for callers that are threads)."""
        return [f.result() for f in self.submit(items, owner)]

    def _collect(self) -> list[tuple[Item, Future]]:
        pending = [self._queue.get()]
        while len(pending) < self.max_batch:  # whatever is already waiting
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if len(pending) > 1 and self.window_s > 0:  # under load: give stragglers a moment
            deadline = time.monotonic() + self.window_s
            while len(pending) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                try:
                    pending.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
        return pending

    def buckets(self, pending: list[tuple[Item, Future]]) -> list[list[tuple[Item, Future]]]:
        """Similar lengths together: within a bucket the longest is at most max_spread x the shortest."""
        ordered = sorted(pending, key=lambda p: self._size_of(p[0]))
        groups: list[list[tuple[Item, Future]]] = []
        for entry in ordered:
            if groups and self._size_of(entry[0]) <= self.max_spread * self._size_of(groups[-1][0][0]):
                groups[-1].append(entry)
            else:
                groups.append([entry])
        return groups

    def _loop(self) -> None:
        while True:
            for group in self.buckets(self._collect()):
                live = [(item, f) for item, f in group if f.set_running_or_notify_cancel()]
                if not live:
                    continue
                try:
                    results = self._infer([item for item, _ in live])
                except BaseException as exc:  # the callers decide what a failure means
                    log.exception("batch of %d failed", len(live))
                    for _, f in live:
                        f.set_exception(exc)
                    continue
                with self._stats_lock:
                    self.stats.batches += 1
                    self.stats.items += len(live)
                for (_, f), result in zip(live, results, strict=True):
                    f.set_result(result)
