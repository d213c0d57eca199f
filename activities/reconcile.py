"""The reconciler's activity, and the Schedule that runs it (see ``workflows.reconcile``).

For each unfinished clip older than a minute it asks Temporal about the clip's workflow:
running -> left alone; closed (terminated, timed out, failed, cancelled, even completed) or
unknown to Temporal -> the clip is settled through ``activities.credits.settle_clip``, the same
idempotent path the workflow's compensation uses: the hold is refunded at most once (ledger key
``settle:<clip>``), a charged clip is never touched, uploaded audio is deleted, and the clip is
marked failed with a readable reason.
"""

import asyncio
import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.credits import settle_clip
from studio.db import session_scope
from studio.models import Clip, ClipStatus, utcnow
from temporal import queues
from workflows.types import ReconcileReport, ReconcileRequest, RefundRequest

log = logging.getLogger(__name__)

SCHEDULE_ID = "reconcile-clips"
INTERVAL = timedelta(minutes=1)  # how often the Schedule runs ReconcileClips

CONCURRENT_LOOKUPS = 8

# Why a clip's workflow ended without settling it, as the owner reads it on the clip card.
REASONS = {
    WorkflowExecutionStatus.TERMINATED: "The job was stopped by an operator before it finished.",
    WorkflowExecutionStatus.TIMED_OUT: "The job ran out of time before it finished.",
    None: "The job for this clip was lost before it finished.",
}
OTHER_REASON = "The job ended without finishing this clip."
SUFFIX = " Any credits held for it were returned."


def reason_for(status: WorkflowExecutionStatus | None) -> str:
    return REASONS.get(status, OTHER_REASON) + SUFFIX


def candidates(req: ReconcileRequest) -> list[tuple[str, str]]:
    """(clip id, workflow id) of unfinished clips old enough that their workflow must have started."""
    cutoff = utcnow() - timedelta(seconds=req.min_age_seconds)
    query = select(Clip.id, Clip.workflow_id).where(
        Clip.status.in_([ClipStatus.QUEUED, ClipStatus.RUNNING]), Clip.created_at < cutoff
    )
    if req.user_id:
        query = query.where(Clip.user_id == uuid.UUID(req.user_id))
    if req.clip_ids is not None:
        query = query.where(Clip.id.in_([uuid.UUID(c) for c in req.clip_ids]))
    with session_scope() as session:
        rows = session.execute(query.order_by(Clip.created_at).limit(req.limit)).all()
    return [(str(clip_id), workflow_id) for clip_id, workflow_id in rows]


async def workflow_status(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The status of the latest run with this id; None when Temporal has no such workflow."""
    try:
        return (await client.get_workflow_handle(workflow_id).describe()).status
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def reconcile(client: Client, req: ReconcileRequest) -> ReconcileReport:
    """Settle every candidate clip whose workflow is closed or missing; leave running ones alone."""
    found = await asyncio.to_thread(candidates, req)
    report = ReconcileReport(checked=len(found))
    gate = asyncio.Semaphore(CONCURRENT_LOOKUPS)

    async def check(clip_id: str, workflow_id: str) -> None:
        async with gate:
            try:
                status = await workflow_status(client, workflow_id)
                if status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW):
                    return
                if await asyncio.to_thread(settle_clip, RefundRequest(clip_id, reason_for(status))):
                    log.warning("clip %s: workflow %s is %s; settled", clip_id, workflow_id, status and status.name)
                    report.settled.append(clip_id)
            except Exception:  # one clip's trouble must not keep the others unsettled; the next run retries
                log.exception("could not reconcile clip %s", clip_id)
                report.errors += 1
            finally:
                if activity.in_activity():
                    activity.heartbeat(clip_id)

    await asyncio.gather(*(check(c, w) for c, w in found))
    report.settled.sort()
    return report


@activity.defn(name="reconcile_clips")
async def reconcile_clips(req: ReconcileRequest) -> ReconcileReport:
    return await reconcile(activity.client(), req)


ALL = [reconcile_clips]


def reconcile_schedule() -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "ReconcileClips",
            ReconcileRequest(),
            id=SCHEDULE_ID,
            task_queue=queues.ORCHESTRATION,
            execution_timeout=timedelta(minutes=10),
        ),  # fmt: skip
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=INTERVAL)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=INTERVAL),
    )


async def ensure_reconcile_schedule(client: Client) -> None:
    """Create the reconciler's Schedule, or bring an existing one up to this definition (idempotent)."""
    schedule = reconcile_schedule()
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
        log.info("created schedule %s", SCHEDULE_ID)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(SCHEDULE_ID).update(replace)
