"""GenerateAudio: reserve credits -> infer -> upload -> commit, refunding if it can't finish.

One workflow per clip (id ``clip-<clip id>``). Activity calls are typed: the orchestration's
own activities directly, the GPU workers' through stubs (``workflows.inference_stubs``); the
clip's kind (``studio.kinds``) picks the inference activity and its GPU task queue.
The upload runs on the queue of the worker that produced the audio, so audio bytes never pass
through Temporal. The database steps are local activities (``_db_step``): a one-sentence request is
three workflow tasks and two activity dispatches, not five and four.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, TimeoutError, TimeoutType

with workflow.unsafe.imports_passed_through():
    from activities.credits import commit_clip, refund_clip, reserve_credits
    from activities.upload import UploadActivities
    from studio.kinds import INFERENCE_STAGES, Kind, kind_of
    from studio.stages import Stage
    from temporal import queues
    from workflows.inference_stubs import INFERENCE
    from workflows.types import (
        ARTIFACT_LOST,
        BAD_INPUT,
        GENERATION_FAILED,
        INSUFFICIENT_CREDITS,
        REPORT_PROGRESS,
        CommitRequest,
        GenerateRequest,
        GenerationStatus,
        InferenceResult,
        Progress,
        RefundRequest,
        UploadRequest,
    )

A = TypeVar("A")

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
DB_STEP_TIMEOUT = timedelta(seconds=30)
# Workflows started before this patch scheduled their database steps as ordinary activities; on
# replay they keep doing so (the patch's answer is fixed for the whole run), new ones run them locally.
LOCAL_DB_STEPS = "local-db-steps"
INFERENCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_attempts=3,  # the seed's 2 retries
    non_retryable_error_types=[BAD_INPUT],
)
UPLOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_attempts=5, non_retryable_error_types=[ARTIFACT_LOST]
)


# Timeouts are sized by the work a request asks for (its audio length), with generous per-unit budgets:
# heartbeats (every few seconds) are what notice a dead worker, these only bound a live but stuck one.
COMPUTE_PER_AUDIO_SECOND = 4.0  # seconds of compute allowed per audio second: ~7x the 2-core CPU's RTF
MIN_INFERENCE_START_TO_CLOSE = timedelta(minutes=10)  # what every request got before (a one-liner's budget)
INFERENCE_QUEUE_ALLOWANCE = timedelta(minutes=30)  # waiting for a free worker, across the attempts
UPLOAD_PER_AUDIO_SECOND = 0.2  # seconds of upload time per audio second (WAV + MP3)
MIN_UPLOAD_START_TO_CLOSE = timedelta(minutes=2)


def audio_seconds(req: GenerateRequest) -> float:
    """How much audio a request will produce (an upper estimate, by its kind's rule)."""
    kind = kind_of(req.kind)
    return kind.audio_seconds(req.text, req.settings or {}) if kind else 0.0


def inference_timeouts(req: GenerateRequest) -> tuple[timedelta, timedelta]:
    """(start_to_close, schedule_to_close) for the inference activity: each attempt gets time for the
    whole job at a generous rate; the total covers every attempt plus waiting in the queue."""
    attempt = max(MIN_INFERENCE_START_TO_CLOSE, timedelta(seconds=round(audio_seconds(req) * COMPUTE_PER_AUDIO_SECOND)))
    return attempt, attempt * INFERENCE_RETRY.maximum_attempts + INFERENCE_QUEUE_ALLOWANCE


def upload_timeout(req: GenerateRequest) -> timedelta:
    return max(MIN_UPLOAD_START_TO_CLOSE, timedelta(seconds=round(audio_seconds(req) * UPLOAD_PER_AUDIO_SECOND)))


async def _db_step(step: Callable[[A], None], arg: A) -> None:
    """Run a database step (reserve, commit, refund) as a local activity: inside the workflow task
    on the worker already running the workflow, so it costs no dispatch and no extra workflow task.

    Safe because each step is idempotent by clip id (``activities.credits``): a local activity may
    run again when a workflow task is retried, and that changes nothing. The retry policy is the
    same either way; a local activity retrying past a minute backs off on a durable timer.
    """
    if workflow.patched(LOCAL_DB_STEPS):
        await workflow.execute_local_activity(step, arg, start_to_close_timeout=DB_STEP_TIMEOUT, retry_policy=DB_RETRY)
    else:
        await workflow.execute_activity(
            step, arg, task_queue=queues.ORCHESTRATION, start_to_close_timeout=DB_STEP_TIMEOUT, retry_policy=DB_RETRY
        )


def _fairness_key(req: GenerateRequest) -> str:
    """Where the server supports fairness, tasks of different users are dispatched in turn (max 64 bytes)."""
    return (req.user_id or req.clip_id)[:64]


def _innermost(err: BaseException) -> BaseException:
    while isinstance(err, ActivityError) and err.cause is not None:
        err = err.cause
    return err


def _reason(err: BaseException) -> str:
    """A readable reason from the innermost cause of an activity failure."""
    err = _innermost(err)
    if isinstance(err, TimeoutError):
        return "The generation timed out (no worker finished it in time)."
    if isinstance(err, ApplicationError):
        return err.message
    return str(err) or type(err).__name__


def _error_type(err: BaseException) -> str:
    """The failure's type for callers (BadInput, InsufficientCredits, ...); GenerationFailed otherwise."""
    err = _innermost(err)
    if isinstance(err, ApplicationError) and err.type in (BAD_INPUT, INSUFFICIENT_CREDITS):
        return err.type
    return GENERATION_FAILED


def _is_cancel(err: BaseException) -> bool:
    """The workflow was cancelled: directly, or seen through the activity it was awaiting."""
    cancelled = (asyncio.CancelledError, CancelledError)
    return isinstance(err, cancelled) or (isinstance(err, ActivityError) and isinstance(err.cause, cancelled))


def _worker_gone(err: ActivityError) -> bool:
    """The worker holding the audio vanished: its queue went unpolled or its spool is empty."""
    cause = err.cause
    if isinstance(cause, TimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_START:
        return True
    return isinstance(cause, ApplicationError) and cause.type == ARTIFACT_LOST


@workflow.defn(name="GenerateAudio")
class GenerateAudio:
    def __init__(self) -> None:
        self._status = GenerationStatus(stage=Stage.QUEUED, progress=0.0)

    @workflow.query
    def status(self) -> GenerationStatus:
        return self._status

    @workflow.signal(name=REPORT_PROGRESS)
    def report_progress(self, progress: Progress) -> None:
        """Sent by the inference activity after each chunk (best effort)."""
        if self._status.stage in INFERENCE_STAGES and progress.total > 0:
            self._status.progress = 0.1 + 0.8 * progress.done / progress.total
            self._status.detail = progress.detail or f"chunk {progress.done} of {progress.total}"

    def _stage(self, stage: str, progress: float, detail: str = "") -> None:
        self._status = GenerationStatus(stage=stage, progress=progress, detail=detail)

    @workflow.run
    async def run(self, req: GenerateRequest) -> str:
        kind = kind_of(req.kind)
        try:
            if kind is None:
                raise ApplicationError(f"Unknown kind {req.kind!r}", type=BAD_INPUT, non_retryable=True)
            self._stage(Stage.RESERVING, 0.05)
            await _db_step(reserve_credits, req)
            result = await self._infer_and_upload(req, kind)
            object_key = result.artifacts[0].key
            self._stage(Stage.COMMITTING, 0.95)
            commit = CommitRequest(req.clip_id, object_key, result.duration_seconds, result.details)
            await _db_step(commit_clip, commit)
        except BaseException as err:
            if _is_cancel(err):
                await self._refund(req, "Cancelled by the user.", cancelled=True)
                self._stage(Stage.CANCELLED, self._status.progress)
                raise asyncio.CancelledError("cancelled by the user") from err  # ends the run as Cancelled
            if not isinstance(err, (ActivityError, ApplicationError)):
                raise  # a bug in this workflow: let the task fail and be fixed, not swallowed
            reason = _reason(err)
            await self._refund(req, reason, cancelled=False)
            self._status = GenerationStatus(stage=Stage.FAILED, progress=self._status.progress, error=reason)
            raise ApplicationError(reason, type=_error_type(err), non_retryable=True) from err
        self._stage(Stage.DONE, 1.0)
        return object_key

    async def _infer_and_upload(self, req: GenerateRequest, kind: Kind) -> InferenceResult:
        """Run inference, then upload on the producing worker; redo once if that worker vanished."""
        start_to_close, schedule_to_close = inference_timeouts(req)
        for attempt in range(2):
            self._stage(kind.stage, 0.1)
            result = await workflow.execute_activity(
                INFERENCE[kind.name], req, task_queue=kind.task_queue,
                schedule_to_close_timeout=schedule_to_close, start_to_close_timeout=start_to_close,
                heartbeat_timeout=timedelta(seconds=60), retry_policy=INFERENCE_RETRY,
                priority=Priority(fairness_key=_fairness_key(req)),  # users take turns at the queue
            )  # fmt: skip
            self._stage(Stage.UPLOADING, 0.9)
            try:
                await workflow.execute_activity_method(
                    UploadActivities.upload_audio, UploadRequest(req.clip_id, result.artifacts),
                    task_queue=result.worker_queue,
                    schedule_to_start_timeout=timedelta(minutes=1), start_to_close_timeout=upload_timeout(req),
                    retry_policy=UPLOAD_RETRY,
                    # A cancel waits for a put in flight to end, so the compensation's delete comes after it.
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )  # fmt: skip
            except ActivityError as err:
                if attempt == 0 and _worker_gone(err):
                    continue
                raise
            if workflow.cancellation_reason() is not None:  # cancelled while the put finished: undo it
                raise asyncio.CancelledError("cancelled during the upload")
            return result
        raise AssertionError("unreachable")

    async def _refund(self, req: GenerateRequest, reason: str, cancelled: bool) -> None:
        """Compensation: give the hold back and mark the clip; must finish, so it retries forever."""
        self._stage(Stage.REFUNDING, self._status.progress)
        await _db_step(refund_clip, RefundRequest(req.clip_id, reason, cancelled))
