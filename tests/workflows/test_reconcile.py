"""ReconcileClips on a real Temporal dev server, with the real credit activities on both databases.

A clip whose workflow was terminated from the UI (or never started, or lost) is settled: its hold
refunded exactly once, the clip marked failed with a reason. A running workflow's clip is left alone.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from activities import credits as credit_activities
from activities import reconcile as reconcile_activities
from activities.reconcile import INTERVAL, SCHEDULE_ID
from studio.db import session_scope
from studio.models import Clip, ClipStatus, utcnow
from studio.storage import get_store
from temporal import queues
from tests.workflows.test_generate_audio import PRICE, start_request, state
from workflows.generate_audio import GenerateAudio
from workflows.reconcile import ReconcileClips
from workflows.types import GenerateRequest, ReconcileReport, ReconcileRequest

pytestmark = pytest.mark.usefixtures("studio_env")

NAMESPACE = "default"  # the API tests use their own namespace on the same dev server


@pytest.fixture
async def client(temporal_dev: str) -> AsyncIterator[Client]:
    yield await Client.connect(temporal_dev, namespace=NAMESPACE)


@activity.defn(name="synthesize_speech")
async def endless_synthesis(req: GenerateRequest) -> None:
    """A synthesis that runs until its workflow goes away (heartbeats deliver the cancel)."""
    while True:
        activity.heartbeat()
        await asyncio.sleep(0.1)


def age(*clips: Clip, seconds: float = 300) -> None:
    """Pretend the clips were created ``seconds`` ago (the reconciler leaves fresh clips alone)."""
    with session_scope() as s:
        for clip in clips:
            s.execute(update(Clip).where(Clip.id == clip.id).values(created_at=utcnow() - timedelta(seconds=seconds)))


async def synthesizing(handle: WorkflowHandle) -> None:
    for _ in range(300):
        if (await handle.query(GenerateAudio.status)).stage == "synthesizing":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never reached the synthesis")


async def run_reconciler(client: Client, req: ReconcileRequest) -> ReconcileReport:
    return await client.execute_workflow(
        ReconcileClips.run, req, id=f"reconcile-test-{uuid.uuid4()}", task_queue=queues.ORCHESTRATION,
        execution_timeout=timedelta(minutes=2),
    )  # fmt: skip


async def test_a_terminated_workflow_is_settled_once_and_a_running_one_is_left_alone(client: Client) -> None:
    user, terminated, req_terminated = start_request()
    _, running, req_running = start_request()
    with session_scope() as s:  # both clips belong to one user, so one balance shows both holds
        s.execute(update(Clip).where(Clip.id == running.id).values(user_id=user.id))
    req_running.user_id = str(user.id)
    store = get_store()
    store.put_bytes(f"tts/{terminated.id}/part-0000.wav", b"RIFF")  # a streamed chunk it had made

    with ThreadPoolExecutor(4) as executor:
        async with (
            Worker(client, task_queue=queues.ORCHESTRATION, workflows=[GenerateAudio, ReconcileClips],
                   activities=[*credit_activities.ALL, *reconcile_activities.ALL], activity_executor=executor),
            Worker(client, task_queue=queues.GPU_TTS, activities=[endless_synthesis]),
        ):  # fmt: skip
            handles = {}
            for clip, req in ((terminated, req_terminated), (running, req_running)):
                handles[clip.id] = await client.start_workflow(
                    GenerateAudio.run, req, id=clip.workflow_id, task_queue=queues.ORCHESTRATION
                )
                await synthesizing(handles[clip.id])
            await handles[terminated.id].terminate("pressed Terminate in the Temporal UI")
            assert (await handles[terminated.id].describe()).status == WorkflowExecutionStatus.TERMINATED
            balance, row, ledger = state(user, terminated)
            assert balance == 1000 - 2 * PRICE and row.status == ClipStatus.RUNNING  # the stuck state of the issue

            scope = ReconcileRequest(user_id=str(user.id))
            fresh = await run_reconciler(client, scope)
            assert fresh.checked == 0 and fresh.settled == []  # younger than a minute: not looked at yet
            age(terminated, running)
            first = await run_reconciler(client, scope)
            second = await run_reconciler(client, scope)  # and a scheduled run racing it
            assert first.checked == 2 and first.settled == [str(terminated.id)]
            assert second.checked == 1 and second.settled == []
            assert (await handles[running.id].describe()).status == WorkflowExecutionStatus.RUNNING
            await handles[running.id].cancel()
            with contextlib.suppress(WorkflowFailureError):  # it ends as Cancelled, after its own refund
                await asyncio.wait_for(handles[running.id].result(), 30)

    balance, row, ledger = state(user, terminated)
    assert ledger == [("reserve", -PRICE), ("refund", PRICE)]  # refunded exactly once
    assert row.status == ClipStatus.FAILED and "stopped by an operator" in row.error
    assert not store.exists(f"tts/{terminated.id}/part-0000.wav")
    assert balance == 1000  # both holds back: one by the reconciler, one by the running clip's own cancel
    _, other, other_ledger = state(user, running)
    assert other.status == ClipStatus.CANCELLED and other_ledger == [("reserve", -PRICE), ("refund", PRICE)]


async def test_a_clip_whose_workflow_never_started_is_failed_without_a_refund(client: Client) -> None:
    user, lost, _ = start_request()
    _, fresh, _ = start_request()
    age(lost)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(
            client, task_queue=queues.ORCHESTRATION, workflows=[ReconcileClips], activities=reconcile_activities.ALL,
            activity_executor=executor,
        ):  # fmt: skip
            report = await run_reconciler(client, ReconcileRequest(clip_ids=[str(lost.id), str(fresh.id)]))
    assert report.settled == [str(lost.id)]
    balance, row, ledger = state(user, lost)
    assert balance == 1000 and ledger == [] and row.status == ClipStatus.FAILED and "lost" in row.error
    assert state(user, fresh)[1].status == ClipStatus.QUEUED  # too young to judge


async def test_the_schedule_is_created_idempotently(client: Client) -> None:
    try:
        await reconcile_activities.ensure_reconcile_schedule(client)
        await reconcile_activities.ensure_reconcile_schedule(client)  # a second worker start: no error
        desc = await client.get_schedule_handle(SCHEDULE_ID).describe()
        assert desc.schedule.spec.intervals[0].every == INTERVAL
        assert desc.schedule.action.workflow == "ReconcileClips"
    finally:
        await client.get_schedule_handle(SCHEDULE_ID).delete()  # nothing here should run it on a timer
