"""The cross-request batcher, with a fake model that records the batches it is given."""

import threading
import time

import pytest

from workers.gpu_tts.batcher import Batcher


class RecordingModel:
    """Doubles each item; records batch contents; can be made slow or failing."""

    def __init__(self, delay: float = 0.0, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.delay, self.fail_on = delay, fail_on

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        time.sleep(self.delay)
        if self.fail_on in items:
            raise RuntimeError("model failed")
        return [2 * i for i in items]


def test_a_lone_request_runs_at_once_in_a_batch_of_one() -> None:
    model = RecordingModel()
    batcher = Batcher(model, size_of=lambda i: i, max_batch=8, window_s=1.0)
    start = time.monotonic()
    assert batcher.run([7]) == [14]
    assert time.monotonic() - start < 0.5  # the window is not waited out with nobody else queued
    assert model.batches == [[7]]


def test_concurrent_requests_share_batches_and_each_gets_its_own_result() -> None:
    model = RecordingModel(delay=0.05)
    batcher = Batcher(model, size_of=lambda i: 10, max_batch=16, window_s=0.01)
    results: dict[int, list[int]] = {}

    def client(n: int) -> None:
        results[n] = batcher.run([n, n + 1000])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [2 * n, 2 * (n + 1000)] for n in range(24)}
    assert max(len(b) for b in model.batches) > 1  # requests arriving while the model ran were grouped
    assert all(len(b) <= 16 for b in model.batches)
    assert sorted(i for b in model.batches for i in b) == sorted([*range(24), *range(1000, 1024)])


def test_buckets_keep_similar_lengths_together() -> None:
    batcher = Batcher(RecordingModel(), size_of=lambda i: i, max_batch=32, max_spread=1.5)
    groups = batcher.buckets([(n, None) for n in (100, 10, 12, 140, 14, 30, 40)])
    assert [[n for n, _ in g] for g in groups] == [[10, 12, 14], [30, 40], [100, 140]]


def test_a_failing_batch_fails_its_callers_only() -> None:
    model = RecordingModel(fail_on=3)
    batcher = Batcher(model, size_of=lambda i: i, max_batch=1)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.run([3])
    assert batcher.run([4]) == [8]  # the batcher keeps serving


def test_cancelled_work_is_not_computed() -> None:
    gate = threading.Event()
    model = RecordingModel()
    batcher = Batcher(lambda items: (gate.wait(), model(items))[1], size_of=lambda i: i, max_batch=1)
    first = batcher.submit([1])[0]  # occupies the model until the gate opens
    time.sleep(0.05)
    queued = batcher.submit([2])[0]
    assert queued.cancel()
    gate.set()
    assert first.result(timeout=5) == 2
    assert batcher.run([5]) == [10]
    assert [2] not in model.batches


def test_several_batching_threads_share_the_queue() -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def model(items: list[int]) -> list[int]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return [i + 1 for i in items]

    batcher = Batcher(model, size_of=lambda i: 1, max_batch=2, window_s=0.0, threads=2)
    results: dict[int, list[int]] = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, batcher.run([n]))) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [n + 1] for n in range(12)}
    assert peak[0] == 2  # two batches were in the model at once
    assert batcher.stats.items == 12


def test_owners_take_turns_so_a_short_job_overtakes_a_long_one() -> None:
    """User A queues 40 windows; user B's one window, queued after them, runs after at most one more of A's."""
    gate = threading.Event()
    model = RecordingModel()
    batcher = Batcher(lambda items: (gate.wait(), model(items))[1], size_of=lambda i: 1, max_batch=1)
    long_job = batcher.submit(list(range(100, 140)), owner="user-a")  # the first one holds the model
    time.sleep(0.05)
    short_job = batcher.submit([7], owner="user-b")
    gate.set()
    assert short_job[0].result(timeout=5) == 14
    assert [f.result(timeout=5) for f in long_job] == [2 * i for i in range(100, 140)]
    order = [b[0] for b in model.batches]
    assert order.index(7) <= 2, order  # A's window in flight, at most one more of A's, then B's
    assert [i for i in order if i != 7] == list(range(100, 140))  # each owner's own order is kept


def test_fair_batches_share_places_between_owners() -> None:
    """Batching: a batch is filled one window per owner in turn, not with the first owner's backlog."""
    gate = threading.Event()
    model = RecordingModel()
    batcher = Batcher(lambda items: (gate.wait(), model(items))[1], size_of=lambda i: 1, max_batch=4, window_s=0)
    first = batcher.submit([0], owner="a")
    time.sleep(0.05)  # the model now holds [0]; what follows queues up
    rest = batcher.submit(list(range(1, 20)), owner="a") + batcher.submit([100, 101], owner="b")
    gate.set()
    for f in [*first, *rest]:
        f.result(timeout=5)
    assert model.batches[0] == [0]
    assert sorted(model.batches[1]) == [1, 2, 100, 101]  # a, b, a, b
