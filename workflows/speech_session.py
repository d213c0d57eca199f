"""SpeechSession: one clip whose text arrives while it is spoken (the ElevenLabs websocket).

Shape, and why:

- **One clip, one workflow per websocket** (id ``clip-<clip id>``, like ``GenerateAudio``). The
  price is a clip's price and the admission (rate limit) is taken once, when the session starts,
  so a session of many flushed segments costs what the same text costs as one request and never
  trips the per-minute limit. The session is a clip of kind ``tts`` (settings ``{"session":
  true}``): history, downloads, captions, the status card, cancel and the reconciler all apply.
- **Segments arrive by signal** (``add_segment``), numbered so a repeat is dropped. Signals are
  durable once the server has them, so text the site has passed on is never lost, and the site does
  not wait for a workflow task per segment. ``keep_alive`` says the site is still there;
  ``end_input`` says no more text will come (the client closed, left, or went quiet).
- **Each segment is one activity** on the TTS workers' session queue (``SESSION_QUEUE``), run in
  order: it publishes its audio and timestamps as stream parts in the object store, which the
  websocket sends as they appear (audio never passes through Temporal). A segment the engine
  cannot speak (only symbols) is skipped; any other failure ends the session and refunds it.
- **Then one assembly activity** joins the parts into the clip's WAV, MP3, timestamps and
  captions, the session's text is recorded, and the hold becomes a charge (``activities.credits``,
  as ``GenerateAudio`` does). A session that spoke nothing is refunded.
- **It never waits forever**: if nothing (segment, keep-alive, end) is heard for ``idle_seconds``
  the input is over, as if the site had said so; the site sends a keep-alive every few seconds
  while its socket is open, so this fires only when the site process is gone. The parts are
  deleted once the site says it sent them, or after the same wait.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from activities.credits import commit_clip, refund_clip, reserve_credits
    from activities.speech_session import record_session_text
    from studio.kinds import TTS_CHARS_PER_AUDIO_SECOND, ClipKind
    from studio.stages import Stage
    from temporal import queues
    from workflows.types import (
        ASSEMBLE_SESSION,
        BAD_INPUT,
        DROP_SESSION_PARTS,
        SESSION_QUEUE,
        SPEAK_SEGMENT,
        AssembleRequest,
        AssembleResult,
        CommitRequest,
        GenerateRequest,
        GenerationStatus,
        RefundRequest,
        SegmentRequest,
        SegmentResult,
        SessionProgress,
        SessionRequest,
        SessionSegment,
        SessionText,
    )

SEGMENT_COMPUTE_PER_AUDIO_SECOND = 4.0  # as GenerateAudio: ~7x the 2-core CPU's real-time factor
MIN_SEGMENT_START_TO_CLOSE = timedelta(minutes=1)
SEGMENT_HEARTBEAT = timedelta(seconds=30)  # the activity beats every few seconds
STORE_STEP = timedelta(minutes=2)  # assembly (read parts, encode MP3, write) and the parts' clean-up
NOTHING_SPOKEN = "Nothing in this session could be spoken; nothing was charged."


DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
TTS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_attempts=3, non_retryable_error_types=[BAD_INPUT]
)


def is_cancel(err: BaseException) -> bool:
    """The workflow was cancelled: directly, or seen through the activity it was awaiting."""
    cancelled = (asyncio.CancelledError, CancelledError)
    return isinstance(err, cancelled) or (isinstance(err, ActivityError) and isinstance(err.cause, cancelled))


def reason_of(err: BaseException) -> str:
    """A readable reason from the innermost cause of a failure."""
    while isinstance(err, ActivityError) and err.cause is not None:
        err = err.cause
    if isinstance(err, ApplicationError):
        return err.message
    if isinstance(err, ActivityTimeout):
        return "The session timed out (no worker finished a segment in time)."
    return str(err) or type(err).__name__


def segment_timeout(text: str) -> timedelta:
    """Start-to-close for one segment: time for its audio at a generous rate."""
    seconds = len(text) / TTS_CHARS_PER_AUDIO_SECOND * SEGMENT_COMPUTE_PER_AUDIO_SECOND
    return max(MIN_SEGMENT_START_TO_CLOSE, timedelta(seconds=round(seconds)))


@workflow.defn(name="SpeechSession")
class SpeechSession:
    @workflow.init
    def __init__(self, req: SessionRequest) -> None:
        self._max_chars = req.max_chars  # signals may be handled before ``run`` starts
        self._status = GenerationStatus(stage=Stage.QUEUED, progress=0.0)
        self._segments: dict[int, str] = {}
        self._chars = 0
        self._spoken = 0  # segments done (synthesized or skipped), in seq order
        self._parts = 0
        self._heard = 0  # signals so far: the idle timer restarts on each
        self._ended = False
        self._delivered = False
        self._error: str | None = None

    @workflow.query
    def status(self) -> GenerationStatus:
        """The clip card's query (same name and shape as ``GenerateAudio.status``)."""
        return self._status

    @workflow.query
    def progress(self) -> SessionProgress:
        return SessionProgress(len(self._segments), self._spoken, self._parts, self._ended, self._error)

    @workflow.signal
    def add_segment(self, segment: SessionSegment) -> None:
        """Text to speak after what came before. Repeats, and text past the session's limit or
        after the end, are dropped (the site refuses them before they get here)."""
        self._heard += 1
        if self._ended or segment.seq in self._segments or not segment.text.strip():
            return
        if self._chars + len(segment.text) > self._max_chars:
            return
        self._segments[segment.seq] = segment.text
        self._chars += len(segment.text)

    @workflow.signal
    def keep_alive(self) -> None:
        self._heard += 1

    @workflow.signal
    def end_input(self) -> None:
        self._heard += 1
        self._ended = True

    @workflow.signal
    def delivered(self) -> None:
        """The site has sent every part to its client: the parts may go."""
        self._delivered = True

    @workflow.run
    async def run(self, req: SessionRequest) -> str:
        objects = req.objects
        assert objects is not None, "the site names the clip's objects"
        try:
            self._stage(Stage.RESERVING, 0.05)
            hold = GenerateRequest(req.clip_id, req.user_id, ClipKind.TTS, "", req.voice, req.settings, objects)
            await workflow.execute_activity(
                reserve_credits, hold, task_queue=queues.ORCHESTRATION,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
            )  # fmt: skip
            await self._speak_until_the_end(req)
            text = "".join(self._segments[seq] for seq in sorted(self._segments)).strip()
            if not self._parts:
                await self._refund(req, NOTHING_SPOKEN, cancelled=False)
                self._status = GenerationStatus(Stage.FAILED, 1.0, error=NOTHING_SPOKEN)
                return ""
            self._stage(Stage.UPLOADING, 0.9, "joining the parts")
            assembled: AssembleResult = await workflow.execute_activity(
                ASSEMBLE_SESSION, AssembleRequest(req.clip_id, objects, self._parts, text), task_queue=SESSION_QUEUE,
                start_to_close_timeout=STORE_STEP, retry_policy=TTS_RETRY, result_type=AssembleResult,
            )  # fmt: skip
            self._stage(Stage.COMMITTING, 0.95)
            await workflow.execute_activity(
                record_session_text, SessionText(req.clip_id, text), task_queue=queues.ORCHESTRATION,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
            )  # fmt: skip
            details = {"segments": len(self._segments)}
            commit = CommitRequest(req.clip_id, assembled.object_key, assembled.duration_seconds, details)
            await workflow.execute_activity(
                commit_clip, commit, task_queue=queues.ORCHESTRATION,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
            )  # fmt: skip
        except BaseException as err:
            if is_cancel(err):
                self._ended = True
                await self._refund(req, "Cancelled by the user.", cancelled=True)
                self._stage(Stage.CANCELLED, self._status.progress)
                raise asyncio.CancelledError("cancelled by the user") from err
            if not isinstance(err, (ActivityError, ApplicationError)):
                raise  # a bug in this workflow: let the task fail and be fixed, not swallowed
            self._ended = True
            self._error = reason_of(err)
            await self._refund(req, self._error, cancelled=False)
            self._status = GenerationStatus(Stage.FAILED, self._status.progress, error=self._error)
            raise ApplicationError(self._error, type="GenerationFailed", non_retryable=True) from err
        self._stage(Stage.DONE, 1.0)
        await self._drop_parts_when_delivered(req)
        return assembled.object_key

    async def _speak_until_the_end(self, req: SessionRequest) -> None:
        """Speak each segment in order as it comes, until the input ends and all are spoken."""
        lead = 0.0
        while True:
            if self._spoken < len(self._segments):
                seq = sorted(self._segments)[self._spoken]
                lead = await self._speak(req, self._segments[seq], lead)
                self._spoken += 1
                continue
            if self._ended:
                return
            self._stage(Stage.SYNTHESIZING, self._status.progress or 0.1, self._detail("waiting for text"))
            if not await self._heard_within(req.idle_seconds):
                self._ended = True  # the site is gone: finish what it passed on

    async def _heard_within(self, seconds: float) -> bool:
        """Wait for the next signal (or the end); False if none came within ``seconds``."""
        heard = self._heard
        try:
            await workflow.wait_condition(
                lambda: self._heard != heard or self._ended, timeout=timedelta(seconds=seconds)
            )
        except TimeoutError:
            return False
        return True

    async def _speak(self, req: SessionRequest, text: str, lead: float) -> float:
        """One segment; returns the lead of the next. An unspeakable segment is skipped."""
        self._stage(Stage.SYNTHESIZING, 0.1 + 0.8 * self._spoken / len(self._segments), self._detail("speaking"))
        objects = req.objects
        assert objects is not None
        segment = SegmentRequest(req.clip_id, req.user_id, req.voice, req.settings, objects, text, self._parts, lead)
        timeout = segment_timeout(text)
        try:
            result: SegmentResult = await workflow.execute_activity(
                SPEAK_SEGMENT, segment, task_queue=SESSION_QUEUE, result_type=SegmentResult,
                start_to_close_timeout=timeout, schedule_to_close_timeout=timeout * 3 + STORE_STEP,
                heartbeat_timeout=SEGMENT_HEARTBEAT, retry_policy=TTS_RETRY,
                priority=Priority(fairness_key=req.user_id[:64] or req.clip_id),
            )  # fmt: skip
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == BAD_INPUT:
                workflow.logger.info("segment skipped: %s", cause.message)
                return lead
            raise
        self._parts += result.parts
        return result.pause_after

    async def _drop_parts_when_delivered(self, req: SessionRequest) -> None:
        """The stream parts are the site's to send: delete them once it has, or once it is gone."""
        try:
            await workflow.wait_condition(lambda: self._delivered, timeout=timedelta(seconds=req.idle_seconds))
        except TimeoutError:
            pass
        await workflow.execute_activity(
            DROP_SESSION_PARTS, req.objects, task_queue=SESSION_QUEUE,
            start_to_close_timeout=STORE_STEP, retry_policy=RetryPolicy(maximum_attempts=5),
        )  # fmt: skip

    def _detail(self, doing: str) -> str:
        return f"{doing}: {self._spoken} of {len(self._segments)} segments spoken"

    def _stage(self, stage: str, progress: float, detail: str = "") -> None:
        self._status = GenerationStatus(stage=stage, progress=progress, detail=detail)

    async def _refund(self, req: SessionRequest, reason: str, cancelled: bool) -> None:
        """Give the hold back and mark the clip (retries until it is done, as GenerateAudio's)."""
        self._stage(Stage.REFUNDING, self._status.progress)
        await workflow.execute_activity(
            refund_clip, RefundRequest(req.clip_id, reason, cancelled), task_queue=queues.ORCHESTRATION,
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY,
        )  # fmt: skip
