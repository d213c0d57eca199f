"""GenerateAudio on the time-skipping test server, with the real credit activities on a real DB.

Inference and upload are fakes here (the real ones are covered by the worker and e2e tests):
they let each test decide when a step fails.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities import credits as credit_activities
from studio.db import session_scope
from studio.kinds import kind_of
from studio.models import Clip, ClipStatus, LedgerEntry, User
from studio.storage import get_store
from temporal import queues
from tests.conftest import make_clip, make_user
from workflows.generate_audio import GenerateAudio, inference_timeouts
from workflows.types import (
    ARTIFACT_LOST,
    BAD_INPUT,
    Artifact,
    CommitRequest,
    GenerateRequest,
    GenerationStatus,
    InferenceResult,
    UploadRequest,
)

pytestmark = pytest.mark.usefixtures("studio_env")

PRICE = 50
# Histories recorded by earlier versions of the workflow, which this version must still replay.
HISTORIES = Path(__file__).parent / "histories"


@dataclass
class Fakes:
    """Inference and upload stand-ins whose behaviour each test sets per attempt."""

    inference_fails_on: Callable[[int], Exception | None] = lambda attempt: None
    upload_fails_on: Callable[[int], Exception | None] = lambda attempt: None
    inference_attempts: int = 0
    upload_calls: int = 0
    uploaded: list[str] = field(default_factory=list)
    slow: bool = False

    @activity.defn(name="synthesize_speech")
    async def synthesize(self, req: GenerateRequest) -> InferenceResult:
        self.inference_attempts += 1
        if error := self.inference_fails_on(activity.info().attempt):
            raise error
        while self.slow:  # a long synthesis that only a cancellation ends
            activity.heartbeat()
            await asyncio.sleep(0.05)
        return InferenceResult("fake-local", [Artifact(f"tts/{req.clip_id}.wav", f"{req.clip_id}.wav")], 1.5)

    @activity.defn(name="upload_audio")
    async def upload(self, req: UploadRequest) -> None:
        self.upload_calls += 1
        if error := self.upload_fails_on(activity.info().attempt):
            raise error
        self.uploaded.extend(a.key for a in req.artifacts)


@asynccontextmanager
async def workers(client: Client, fakes: Fakes, orchestration_activities: list | None = None) -> AsyncIterator[None]:
    with ThreadPoolExecutor(4) as executor:
        acts = orchestration_activities or credit_activities.ALL
        async with (
            Worker(client, task_queue=queues.ORCHESTRATION, workflows=[GenerateAudio], activities=acts,
                   activity_executor=executor),
            Worker(client, task_queue=queues.GPU_TTS, activities=[fakes.synthesize]),
            Worker(client, task_queue="fake-local", activities=[fakes.upload]),
        ):  # fmt: skip
            yield


def start_request(credits: int = 1000) -> tuple[User, Clip, GenerateRequest]:
    user = make_user(credits=credits)
    clip = make_clip(user, cost=PRICE)
    req = GenerateRequest(str(clip.id), str(user.id), "tts", clip.text, clip.voice, {"speed": 1.0})
    return user, clip, req


async def start(env: WorkflowEnvironment, req: GenerateRequest) -> WorkflowHandle:
    return await env.client.start_workflow(
        GenerateAudio.run, req, id=f"clip-{req.clip_id}", task_queue=queues.ORCHESTRATION
    )


def state(user: User, clip: Clip) -> tuple[int, Clip, list[tuple[str, int]]]:
    with session_scope() as s:
        ledger = s.scalars(select(LedgerEntry).where(LedgerEntry.clip_id == clip.id).order_by(LedgerEntry.id))
        return s.get(User, user.id).credits, s.get(Clip, clip.id), [(e.kind.value, e.delta) for e in ledger]


async def test_happy_path_charges_once_and_stores_the_audio(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    fakes = Fakes()
    async with workers(time_skipping_env.client, fakes):
        handle = await start(time_skipping_env, req)
        assert await handle.result() == f"tts/{clip.id}.wav"
        status = await handle.query(GenerateAudio.status)
    assert status == GenerationStatus(stage="done", progress=1.0)
    balance, row, ledger = state(user, clip)
    assert balance == 1000 - PRICE
    assert ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row.status == ClipStatus.SUCCEEDED and row.object_key == f"tts/{clip.id}.wav" and row.duration_seconds == 1.5
    assert fakes.uploaded == [
        f"tts/{clip.id}.wav",
    ]


async def test_inference_fails_twice_then_succeeds_and_is_charged_once(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    fakes = Fakes(inference_fails_on=lambda n: RuntimeError("CUDA hiccup") if n <= 2 else None)
    async with workers(time_skipping_env.client, fakes):
        await (await start(time_skipping_env, req)).result()
    assert fakes.inference_attempts == 3
    balance, row, ledger = state(user, clip)
    assert balance == 1000 - PRICE and ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row.status == ClipStatus.SUCCEEDED


async def test_inference_failing_for_good_refunds_and_fails_the_clip(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    fakes = Fakes(inference_fails_on=lambda n: RuntimeError("GPU on fire"))
    async with workers(time_skipping_env.client, fakes):
        with pytest.raises(WorkflowFailureError):
            await (await start(time_skipping_env, req)).result()
    assert fakes.inference_attempts == 3  # first try + the seed's 2 retries
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.FAILED and "GPU on fire" in row.error


async def test_bad_input_is_not_retried(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    bad = ApplicationError("Unknown voice 'zz'.", type=BAD_INPUT, non_retryable=True)
    fakes = Fakes(inference_fails_on=lambda n: bad)
    async with workers(time_skipping_env.client, fakes):
        with pytest.raises(WorkflowFailureError):
            await (await start(time_skipping_env, req)).result()
    assert fakes.inference_attempts == 1
    balance, row, _ = state(user, clip)
    assert balance == 1000 and row.status == ClipStatus.FAILED and row.error == "Unknown voice 'zz'."


async def test_upload_failing_refunds(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    fakes = Fakes(upload_fails_on=lambda n: RuntimeError("S3 unreachable"))
    async with workers(time_skipping_env.client, fakes):
        with pytest.raises(WorkflowFailureError):
            await (await start(time_skipping_env, req)).result()
    assert fakes.upload_calls == 5
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.FAILED and "S3 unreachable" in row.error


async def test_lost_audio_means_synthesising_again(time_skipping_env: WorkflowEnvironment) -> None:
    """The worker lost the file before uploading it (restart, wiped spool): synthesise once more."""
    user, clip, req = start_request()
    lost = ApplicationError("audio is gone from this worker", type=ARTIFACT_LOST)
    fakes = Fakes(upload_fails_on=lambda n: lost if n == 1 and fakes.upload_calls == 1 else None)
    async with workers(time_skipping_env.client, fakes):
        await (await start(time_skipping_env, req)).result()
    assert fakes.inference_attempts == 2 and fakes.upload_calls == 2
    balance, row, ledger = state(user, clip)
    assert balance == 1000 - PRICE and ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row.status == ClipStatus.SUCCEEDED


async def test_insufficient_credits_fails_without_inference(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request(credits=PRICE - 1)
    fakes = Fakes()
    async with workers(time_skipping_env.client, fakes):
        with pytest.raises(WorkflowFailureError):
            await (await start(time_skipping_env, req)).result()
    assert fakes.inference_attempts == 0
    balance, row, ledger = state(user, clip)
    assert balance == PRICE - 1 and ledger == [] and row.status == ClipStatus.FAILED
    assert "needs 50 credits" in row.error


async def test_cancel_while_synthesizing_refunds(time_skipping_env: WorkflowEnvironment) -> None:
    user, clip, req = start_request()
    fakes = Fakes(slow=True)
    async with workers(time_skipping_env.client, fakes):
        handle = await start(time_skipping_env, req)
        for _ in range(200):
            if fakes.inference_attempts and (await handle.query(GenerateAudio.status)).stage == "synthesizing":
                break
            await asyncio.sleep(0.05)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        fakes.slow = False
    assert isinstance(failure.value.cause, CancelledError)
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.CANCELLED and fakes.uploaded == []


async def test_activities_retried_after_a_crash_never_double_charge(time_skipping_env: WorkflowEnvironment) -> None:
    """Reserve and commit each commit their transaction, then 'crash' before reporting success."""

    @activity.defn(name="reserve_credits")
    def reserve_then_crash(req: GenerateRequest) -> None:
        credit_activities.reserve_credits(req)
        if activity.info().attempt == 1:
            raise RuntimeError("worker died after the database commit")

    @activity.defn(name="commit_clip")
    def commit_then_crash(req: CommitRequest) -> None:
        credit_activities.commit_clip(req)
        if activity.info().attempt < 3:
            raise RuntimeError("worker died after the database commit")

    user, clip, req = start_request()
    acts = [reserve_then_crash, commit_then_crash, credit_activities.refund_clip]
    async with workers(time_skipping_env.client, Fakes(), orchestration_activities=acts):
        await (await start(time_skipping_env, req)).result()
    balance, row, ledger = state(user, clip)
    assert balance == 1000 - PRICE
    assert ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row.status == ClipStatus.SUCCEEDED


async def test_voice_conversion_runs_on_the_vc_queue(time_skipping_env: WorkflowEnvironment) -> None:
    """The clip's kind picks the inference activity and its GPU queue; the rest is shared."""
    user, clip, req = start_request()
    req.kind = "voice-conversion"
    seen: list[str] = []

    @activity.defn(name="convert_voice")
    async def fake_convert(r: GenerateRequest) -> InferenceResult:
        seen.append(activity.info().task_queue)
        artifacts = [Artifact(f"vc/{r.clip_id}.wav", f"{r.clip_id}.wav")]
        return InferenceResult("fake-local", artifacts, 2.0, details={"matched": "a test detail"})

    fakes = Fakes()
    async with workers(time_skipping_env.client, fakes):
        async with Worker(time_skipping_env.client, task_queue=queues.GPU_VC, activities=[fake_convert]):
            assert await (await start(time_skipping_env, req)).result() == f"vc/{clip.id}.wav"
    assert seen == [queues.GPU_VC] and fakes.inference_attempts == 0
    balance, row, _ = state(user, clip)
    assert balance == 1000 - PRICE and row.object_key == f"vc/{clip.id}.wav"
    assert row.settings == req.settings | {"matched": "a test detail"}  # the worker's details reach the clip


async def test_cancel_during_upload_deletes_what_was_uploaded(time_skipping_env: WorkflowEnvironment) -> None:
    """The upload had put the audio when the cancel came: the compensation removes it, after the put ends."""
    user, clip, req = start_request()
    store = get_store()
    uploading, release = asyncio.Event(), asyncio.Event()

    @activity.defn(name="upload_audio")
    async def slow_upload(r: UploadRequest) -> None:
        store.put_bytes(r.artifacts[0].key, b"RIFF")  # the WAV is in the store ...
        uploading.set()
        await release.wait()  # ... and the MP3 is still on its way when the cancel comes
        for artifact in r.artifacts[1:]:
            store.put_bytes(artifact.key, b"ID3")

    @activity.defn(name="synthesize_speech")
    async def two_files(r: GenerateRequest) -> InferenceResult:
        names = [f"{r.clip_id}.wav", f"{r.clip_id}.mp3"]
        return InferenceResult("slow-local", [Artifact(f"tts/{n}", n) for n in names], 1.5)

    store.put_bytes(f"tts/{clip.id}/part-0000.wav", b"RIFF")  # a streamed chunk
    store.put_bytes("tts/someone-else.wav", b"RIFF")
    client = time_skipping_env.client
    with ThreadPoolExecutor(4) as executor:
        async with (
            Worker(client, task_queue=queues.ORCHESTRATION, workflows=[GenerateAudio],
                   activities=credit_activities.ALL, activity_executor=executor),
            Worker(client, task_queue=queues.GPU_TTS, activities=[two_files]),
            Worker(client, task_queue="slow-local", activities=[slow_upload]),
        ):  # fmt: skip
            handle = await start(time_skipping_env, req)
            await asyncio.wait_for(uploading.wait(), 30)
            await handle.cancel()
            await asyncio.sleep(0.5)
            release.set()  # the put in flight finishes after the cancel
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.CANCELLED and row.object_key is None
    for key in (f"tts/{clip.id}.wav", f"tts/{clip.id}.mp3", f"tts/{clip.id}/part-0000.wav"):
        assert not store.exists(key), key
    assert store.exists("tts/someone-else.wav")


@pytest.mark.parametrize(
    ("kind", "text", "settings", "at_least"),
    [
        ("tts", "Hello there.", {"speed": 1.0}, timedelta(minutes=10)),  # a one-liner keeps the old budget
        # 5 000 characters at speed 0.5 (~7 to 14 min of audio): more than the old 10 minutes per attempt
        ("tts", "word " * 1000, {"speed": 0.5}, timedelta(minutes=50)),
        ("voice-conversion", "rec.wav", {"source_seconds": 300.0}, timedelta(minutes=20)),
        ("sound-effect", "rain", {"duration_seconds": 22.0, "variations": 4}, timedelta(minutes=10)),
    ],
)
async def test_inference_timeouts_are_sized_by_the_work(
    time_skipping_env: WorkflowEnvironment, kind: str, text: str, settings: dict, at_least: timedelta
) -> None:
    user, clip, req = start_request()
    req.kind, req.text, req.settings = kind, text, settings
    seen: list[activity.Info] = []

    @activity.defn(name=kind_of(kind).activity)
    async def record(r: GenerateRequest) -> InferenceResult:
        seen.append(activity.info())
        return InferenceResult("fake-local", [Artifact(f"x/{r.clip_id}.wav", f"{r.clip_id}.wav")], 1.0)

    client = time_skipping_env.client
    with ThreadPoolExecutor(4) as executor:
        async with (
            Worker(client, task_queue=queues.ORCHESTRATION, workflows=[GenerateAudio],
                   activities=credit_activities.ALL, activity_executor=executor),
            Worker(client, task_queue=kind_of(kind).task_queue, activities=[record]),
            Worker(client, task_queue="fake-local", activities=[Fakes().upload]),
        ):  # fmt: skip
            await (await start(time_skipping_env, req)).result()
    start_to_close, schedule_to_close = inference_timeouts(req)
    assert start_to_close >= at_least
    assert seen[0].start_to_close_timeout == start_to_close
    assert seen[0].schedule_to_close_timeout == schedule_to_close >= 3 * start_to_close  # room for every attempt
    assert seen[0].heartbeat_timeout == timedelta(seconds=60)  # liveness is still the heartbeat's job
    if kind == "tts" and len(text) > 1000:  # slower speech is more audio to make
        assert start_to_close > inference_timeouts(replace(req, settings={"speed": 2.0}))[0]


async def test_database_steps_are_local_activities(time_skipping_env: WorkflowEnvironment) -> None:
    """Reserve and commit run inside the workflow's own tasks (markers), not as scheduled activities, and the
    history they make replays."""
    user, clip, req = start_request()
    async with workers(time_skipping_env.client, Fakes()):
        handle = await start(time_skipping_env, req)
        await handle.result()
        history = await handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    local = [e for e in history.events if e.marker_recorded_event_attributes.marker_name == "core_local_activity"]
    assert scheduled == ["synthesize_speech", "upload_audio"] and len(local) == 2
    assert state(user, clip)[2] == [("reserve", -PRICE), ("charge", 0)]
    await Replayer(workflows=[GenerateAudio]).replay_workflow(history)


async def test_a_run_started_before_local_database_steps_still_replays() -> None:
    """A workflow in flight when this version is deployed scheduled its database steps as activities; it
    keeps doing so (``LOCAL_DB_STEPS`` patch), so its history replays without a nondeterminism error."""
    history = WorkflowHistory.from_json(
        "clip-history", (HISTORIES / "generate_audio_before_local_db_steps.json").read_text()
    )
    await Replayer(workflows=[GenerateAudio]).replay_workflow(history)
