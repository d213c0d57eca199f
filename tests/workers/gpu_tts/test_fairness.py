"""Fairness on one TTS worker: another user's one-liner finishes while a user's long jobs are in progress.

The real activity, engine front end (espeak phonemes, windows), fair batcher and Temporal worker on
the dev server; only the model is a stand-in that takes a fixed time per window, so the test is
about scheduling, not speech. It asserts progress and ordering, never a wall-clock limit.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from studio.storage import LocalStore
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.assets import ensure_assets
from workers.gpu_tts.backends import Spoken, Utterance
from workers.gpu_tts.engine import KokoroEngine
from workers.gpu_tts.worker import concurrent_syntheses
from workers.gpu_worker import WorkerContext
from workflows.generate_audio import inference_timeouts
from workflows.types import GenerateRequest, InferenceResult, Progress

LONG_TEXT = " ".join(f"Sentence number {i} is part of a very long story about a patient fox." for i in range(70))
SHORT_TEXT = "Hello there."


class PacedModel:
    """Takes ``seconds`` per window, one at a time, like the int8 model on a busy CPU; logs each window."""

    name, device, batched = "paced", "cpu", False

    def __init__(self, seconds: float) -> None:
        self.seconds, self.windows, self.lock = seconds, 0, threading.Lock()

    def speak(self, batch: list[Utterance]) -> list[Spoken]:
        time.sleep(self.seconds * len(batch))
        with self.lock:
            self.windows += len(batch)
        return [
            Spoken(np.sin(np.arange(len(u.ids) * 40, dtype=np.float32)) * 0.3, np.ones(len(u.ids), np.int64))
            for u in batch
        ]


@workflow.defn(name="SynthesizeOnly", sandboxed=False)
class SynthesizeOnly:
    """Runs just the inference activity, with GenerateAudio's timeouts, and keeps its progress."""

    def __init__(self) -> None:
        self.progress = Progress(0, 0)

    @workflow.signal
    def report_progress(self, progress: Progress) -> None:
        self.progress = progress

    @workflow.query
    def status(self) -> Progress:
        return self.progress

    @workflow.run
    async def run(self, args: tuple[str, GenerateRequest]) -> InferenceResult:
        queue, req = args
        start_to_close, schedule_to_close = inference_timeouts(req)
        return await workflow.execute_activity(
            "synthesize_speech", req, task_queue=queue, result_type=InferenceResult,
            start_to_close_timeout=start_to_close, schedule_to_close_timeout=schedule_to_close,
            heartbeat_timeout=timedelta(seconds=60),
        )  # fmt: skip


@pytest.fixture
async def client(temporal_dev: str) -> AsyncIterator[Client]:
    yield await Client.connect(temporal_dev, namespace="default")


def request(user: str, text: str, speed: float) -> GenerateRequest:
    return GenerateRequest(str(uuid.uuid4()), user, "tts", text, "af_heart", {"speed": speed})


async def test_a_short_job_finishes_while_another_users_long_jobs_are_in_progress(
    client: Client, tmp_path: Path
) -> None:
    model = PacedModel(seconds=0.05)
    engine = KokoroEngine(model, ensure_assets()[1])
    queue = f"gpu-tts-fair-{uuid.uuid4().hex[:8]}"
    ctx = WorkerContext(tmp_path / "spool", f"{queue}-local", LocalStore(tmp_path / "objects", "x"), client)
    tts = TtsActivities(engine, ctx)
    slots = concurrent_syntheses(engine)
    assert slots >= 4  # more than one user's worth of long jobs

    async with (
        Worker(client, task_queue=queue, activities=[tts.synthesize_speech], max_concurrent_activities=slots),
        Worker(client, task_queue=f"{queue}-wf", workflows=[SynthesizeOnly],
               workflow_runner=UnsandboxedWorkflowRunner()),
    ):  # fmt: skip

        async def start(req: GenerateRequest):  # noqa: ANN202
            return await client.start_workflow(
                SynthesizeOnly.run, (queue, req), id=f"fair-{req.clip_id}", task_queue=f"{queue}-wf"
            )

        # User A: three 5 000-character jobs at half speed (the rate limit admits three a minute).
        long_jobs = [await start(request("user-a", LONG_TEXT, 0.5)) for _ in range(3)]
        while model.windows < 3:  # A's work is under way
            await asyncio.sleep(0.02)
        short = await start(request("user-b", SHORT_TEXT, 1.0))
        result = await short.result()
        windows_when_b_done = model.windows
        progress = [await h.query(SynthesizeOnly.status) for h in long_jobs]
        a_done = [(await h.describe()).status.name for h in long_jobs]

        assert result.duration_seconds > 0
        assert a_done == ["RUNNING"] * 3, "B waited for a whole long job to finish"
        assert all(p.total > 10 and p.done < p.total for p in progress), progress
        total_a_windows = 3 * progress[0].total  # at least one window per chunk
        assert windows_when_b_done < total_a_windows / 2, (windows_when_b_done, total_a_windows)
        for h in long_jobs:  # the long jobs still finish, in full
            assert (await h.result()).duration_seconds > 0
        final = [await h.query(SynthesizeOnly.status) for h in long_jobs]
        assert all(p.done == p.total == progress[0].total for p in final)
