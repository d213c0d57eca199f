"""ReconcileClips: settle clips whose GenerateAudio workflow ended without settling them.

A workflow terminated from the Temporal UI (or timed out, or lost) never runs its compensation:
its clip would stay "running" with its credits held. A Temporal Schedule (see
``activities.reconcile.ensure_reconcile_schedule``) runs this workflow every minute; its one
activity finds unfinished clips older than a minute whose workflow is closed or missing, refunds
their hold through the same idempotent ledger path as the workflow's own compensation, and marks
them failed with a reason. Running it twice, or alongside a workflow's own refund, never refunds twice.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import reconcile_clips
    from temporal import queues
    from workflows.types import ReconcileReport, ReconcileRequest


@workflow.defn(name="ReconcileClips")
class ReconcileClips:
    @workflow.run
    async def run(self, req: ReconcileRequest) -> ReconcileReport:
        return await workflow.execute_activity(
            reconcile_clips, req, task_queue=queues.ORCHESTRATION,
            start_to_close_timeout=timedelta(minutes=5), heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3),
        )  # fmt: skip
