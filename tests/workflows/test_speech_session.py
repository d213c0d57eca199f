"""SpeechSession on the time-skipping test server, with the real credit activities on a real DB.

The TTS side is a stand-in here (the real one is covered by the worker and e2e tests) so each test
decides what a segment does; what is checked is the session's bookkeeping: one hold, one charge
or one refund, segments spoken once each and in order, and an end even when the site vanishes.
"""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import credits as credit_activities
from activities import speech_session as session_activities
from studio.db import session_scope
from studio.models import Clip, ClipStatus, LedgerEntry, User
from studio.storage import ClipObjects
from temporal import queues
from tests.conftest import make_clip, make_user
from workflows.speech_session import NOTHING_SPOKEN, SpeechSession
from workflows.types import (
    ASSEMBLE_SESSION,
    BAD_INPUT,
    DROP_SESSION_PARTS,
    SESSION_QUEUE,
    SPEAK_SEGMENT,
    AssembleRequest,
    AssembleResult,
    SegmentRequest,
    SegmentResult,
    SessionRequest,
    SessionSegment,
)

pytestmark = pytest.mark.usefixtures("studio_env")

PRICE = 50


@dataclass
class FakeTts:
    """Records what the session asked of the TTS side; a segment's text decides its fate."""

    spoken: list[tuple[str, int, float]] = field(default_factory=list)  # (text, first part, lead)
    assembled: list[AssembleRequest] = field(default_factory=list)
    dropped: int = 0

    @activity.defn(name=SPEAK_SEGMENT)
    async def speak(self, req: SegmentRequest) -> SegmentResult:
        if req.text.startswith("!!"):
            raise ApplicationError("Cannot speak this text", type=BAD_INPUT, non_retryable=True)
        if req.text.startswith("boom"):
            raise ApplicationError("the engine broke", non_retryable=True)
        self.spoken.append((req.text, req.first_part, req.lead_seconds))
        return SegmentResult(parts=2, duration_seconds=1.0, pause_after=0.3 if req.text.rstrip().endswith(".") else 0)

    @activity.defn(name=ASSEMBLE_SESSION)
    async def assemble(self, req: AssembleRequest) -> AssembleResult:
        self.assembled.append(req)
        return AssembleResult(req.objects.audio(".wav"), 2.0 * len(self.spoken))

    @activity.defn(name=DROP_SESSION_PARTS)
    async def drop(self, objects: ClipObjects) -> None:
        self.dropped += 1


@asynccontextmanager
async def workers(client: Client, fake: FakeTts) -> AsyncIterator[None]:
    with ThreadPoolExecutor(4) as executor:
        async with (
            Worker(client, task_queue=queues.ORCHESTRATION, workflows=[SpeechSession],
                   activities=[*credit_activities.ALL, *session_activities.ALL], activity_executor=executor),
            Worker(client, task_queue=SESSION_QUEUE, activities=[fake.speak, fake.assemble, fake.drop]),
        ):  # fmt: skip
            yield


async def start(env: WorkflowEnvironment, credits: int = 1000) -> tuple[User, Clip, WorkflowHandle]:
    user = make_user(credits=credits)
    clip = make_clip(user, cost=PRICE, text="Hello")
    req = SessionRequest(
        str(clip.id), str(user.id), "af_heart", {"speed": 1.0, "session": True},
        ClipObjects.for_kind("tts", str(clip.id), {}), idle_seconds=20, max_chars=100,
    )  # fmt: skip
    handle = await env.client.start_workflow(
        SpeechSession.run, req, id=f"clip-{clip.id}", task_queue=queues.ORCHESTRATION
    )
    return user, clip, handle


def state(user: User, clip: Clip) -> tuple[int, Clip, list[tuple[str, int]]]:
    with session_scope() as s:
        ledger = s.scalars(select(LedgerEntry).where(LedgerEntry.clip_id == clip.id).order_by(LedgerEntry.id))
        return s.get(User, user.id).credits, s.get(Clip, clip.id), [(e.kind.value, e.delta) for e in ledger]


async def send(handle: WorkflowHandle, *texts: str, first: int = 0) -> None:
    for seq, text in enumerate(texts, start=first):
        await handle.signal(SpeechSession.add_segment, SessionSegment(seq, text))


async def test_many_segments_are_one_clip_charged_once(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "Hello there. ", "How are ", "you today? ")
        await send(handle, "How are ", first=1)  # a repeated signal (a retried RPC) is dropped
        await handle.signal(SpeechSession.end_input)
        await handle.signal(SpeechSession.delivered)
        key = await handle.result()
        progress = await handle.query(SpeechSession.progress)
    assert [t for t, _, _ in fake.spoken] == ["Hello there. ", "How are ", "you today? "]
    assert [(p, lead) for _, p, lead in fake.spoken] == [(0, 0.0), (2, 0.3), (4, 0.0)]  # parts follow on
    assert fake.assembled[0].parts == 6 and fake.assembled[0].text == "Hello there. How are you today?"
    assert fake.dropped == 1 and key == f"tts/{clip.id}.wav"
    assert (progress.segments, progress.spoken, progress.parts, progress.ended) == (3, 3, 6, True)
    balance, row, ledger = state(user, clip)
    assert balance == 1000 - PRICE and ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row.status == ClipStatus.SUCCEEDED and row.text == "Hello there. How are you today?"
    assert row.settings["segments"] == 3 and row.duration_seconds == 6.0


async def test_the_site_vanishing_ends_the_session_and_keeps_what_it_sent(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """No end, no keep-alive, no delivery: after the idle wait the text received is finished,
    stored and charged once, and the parts are dropped after another wait."""
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "Only this arrived. ")
        key = await handle.result()  # the test server skips the idle timers
    assert key and [t for t, _, _ in fake.spoken] == ["Only this arrived. "] and fake.dropped == 1
    balance, row, ledger = state(user, clip)
    assert row.status == ClipStatus.SUCCEEDED and ledger == [("reserve", -PRICE), ("charge", 0)]


async def test_keep_alives_hold_the_session_open(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        for _ in range(3):  # 3 x 15 s of silence, each inside the 20 s idle wait
            await handle.signal(SpeechSession.keep_alive)
            await time_skipping_env.sleep(15)
        assert not (await handle.query(SpeechSession.progress)).ended
        await send(handle, "Still here. ")
        await handle.signal(SpeechSession.end_input)
        await handle.result()
    assert [t for t, _, _ in fake.spoken] == ["Still here. "]


async def test_an_unspeakable_segment_is_skipped_not_fatal(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "!! ", "Words. ")
        await handle.signal(SpeechSession.end_input)
        await handle.result()
    assert [(t, p) for t, p, _ in fake.spoken] == [("Words. ", 0)]
    assert state(user, clip)[1].status == ClipStatus.SUCCEEDED


async def test_nothing_spoken_is_refunded(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "!! ")
        await handle.signal(SpeechSession.end_input)
        assert await handle.result() == ""
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.FAILED and row.error == NOTHING_SPOKEN
    assert not fake.assembled


async def test_a_failed_segment_refunds_and_says_why(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "Fine. ", "boom")
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        progress = await handle.query(SpeechSession.progress)
    assert "the engine broke" in str(failure.value.cause) and progress.error == "the engine broke"
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row.status == ClipStatus.FAILED


async def test_text_past_the_limit_is_not_taken(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        _, _, handle = await start(time_skipping_env)  # max_chars=100
        await send(handle, "a" * 60, "b" * 60, "c" * 30)
        await handle.signal(SpeechSession.end_input)
        await handle.result()
    assert [t[0] for t, _, _ in fake.spoken] == ["a", "c"]


async def test_cancel_refunds(time_skipping_env: WorkflowEnvironment) -> None:
    fake = FakeTts()
    async with workers(time_skipping_env.client, fake):
        user, clip, handle = await start(time_skipping_env)
        await send(handle, "Something. ")
        while (await handle.query(SpeechSession.progress)).spoken < 1:
            await asyncio.sleep(0.05)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    balance, row, ledger = state(user, clip)
    assert balance == 1000 and row.status == ClipStatus.CANCELLED
    assert ledger == [("reserve", -PRICE), ("refund", PRICE)]
