"""The GPU-worker skeleton: one engine per process, heartbeats while work runs in a thread, and the
two Temporal workers every GPU worker runs (the kind's inference on its queue, the upload on the
process's own queue), on the dev server with a stand-in engine."""

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.inference import heartbeating
from activities.upload import UploadActivities
from studio import kinds
from studio.kinds import ClipKind
from studio.storage import ClipObjects, LocalStore
from workers.engines import one_per_process
from workers.gpu_worker import InferenceActivities, WorkerContext, gpu_temporal_workers
from workflows.types import GenerateRequest, InferenceResult, UploadRequest


def test_an_engine_loads_once_however_many_threads_ask_at_first() -> None:
    loads = []

    @one_per_process
    def engine() -> object:
        time.sleep(0.05)  # all callers arrive while the first one loads
        loads.append(object())
        return loads[-1]

    got = []
    threads = [threading.Thread(target=lambda: got.append(engine())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and got == loads * 4


async def test_heartbeats_carry_the_latest_progress_while_work_runs_in_a_thread() -> None:
    beats: list[tuple] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)

    def work(progress) -> str:  # noqa: ANN001 - an engine's progress callback
        time.sleep(0.2)
        progress(1, 2)
        time.sleep(0.2)
        return "done"

    async def run() -> str:
        async with heartbeating(0, 2, every=0.05) as beat:
            return await asyncio.to_thread(work, beat.progress_from_thread)

    assert await env.run(run) == "done"
    assert (0, 2) in beats and (1, 2) in beats  # the ticker's, then the reported and ticked progress
    count = len(beats)
    await asyncio.sleep(0.15)
    assert len(beats) == count  # the ticker stops with the work


class ToneEngine:
    name = "tone"

    def warm_up(self) -> None:
        pass

    def make(self, seconds: float) -> np.ndarray:
        return (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * 24_000)) / 24_000)).astype(np.float32)


class ToneActivities(InferenceActivities[ToneEngine]):
    """A fourth worker's activity body, as small as the skeleton lets it be (served as sound effects)."""

    @activity.defn(name=kinds.KINDS[ClipKind.SOUND_EFFECT].activity)
    async def generate_sound_effect(self, req: GenerateRequest) -> InferenceResult:
        async with heartbeating() as beat:
            samples = await asyncio.to_thread(self.engine.make, 0.5)
            await beat.progress(1, 1)
        return self.result(await self.spool(req, samples, 24_000), 0.5)


@workflow.defn(name="InferThenUpload", sandboxed=False)
class InferThenUpload:
    """GenerateAudio's two GPU steps: inference on the kind's queue, upload on the worker's own queue."""

    @workflow.run
    async def run(self, args: tuple[str, GenerateRequest]) -> InferenceResult:
        queue, req = args
        result = await workflow.execute_activity(
            ToneActivities.generate_sound_effect, req, task_queue=queue, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.execute_activity(
            UploadActivities.upload_audio, UploadRequest(req.clip_id, result.artifacts),
            task_queue=result.worker_queue, start_to_close_timeout=timedelta(seconds=30),
        )  # fmt: skip
        return result


async def test_a_gpu_worker_infers_on_the_kinds_queue_and_uploads_from_its_own(
    temporal_dev: str, tmp_path: Path
) -> None:
    client = await Client.connect(temporal_dev, namespace="default")
    queue = f"gpu-test-{uuid.uuid4().hex[:8]}"
    store = LocalStore(tmp_path / "objects", "x")
    ctx = WorkerContext(tmp_path / "spool", f"{queue}@here", store, client)
    clip = str(uuid.uuid4())
    req = GenerateRequest(clip, "user", ClipKind.SOUND_EFFECT, "a tone", "", {}, ClipObjects("sfx", clip))
    with ThreadPoolExecutor(max_workers=2) as executor:
        workers = gpu_temporal_workers(
            ClipKind.SOUND_EFFECT, ToneActivities(ToneEngine(), ctx), executor, task_queue=queue
        )
        assert [w.task_queue for w in workers] == [queue, ctx.local_queue]
        flow = Worker(
            client, task_queue=f"{queue}-wf", workflows=[InferThenUpload], workflow_runner=UnsandboxedWorkflowRunner()
        )
        async with workers[0], workers[1], flow:
            result = await client.execute_workflow(
                InferThenUpload.run, (queue, req), id=f"gpu-test-{clip}", task_queue=f"{queue}-wf"
            )
    assert result.worker_queue == ctx.local_queue
    assert [a.key for a in result.artifacts] == [f"sfx/{clip}.wav", f"sfx/{clip}.mp3"]
    assert all(store.exists(a.key) for a in result.artifacts)
    assert list(ctx.spool_dir.iterdir()) == []  # uploaded, then removed from the spool
