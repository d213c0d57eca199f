"""Database steps of GenerateAudio: reserve credits, commit the clip, refund it.

Each is idempotent by clip id (see studio.credits), so a retried or replayed activity never
charges, refunds or changes a finished clip twice.
"""

import uuid

from sqlalchemy import update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from studio import credits, storage
from studio.db import session_scope
from studio.models import Clip, ClipKind, ClipStatus, CustomVoice, LedgerKind, utcnow
from studio.voices import LANGS
from workflows.types import INSUFFICIENT_CREDITS, CommitRequest, GenerateRequest, RefundRequest


def _clip(session, clip_id: str) -> Clip:  # noqa: ANN001
    clip = session.get(Clip, uuid.UUID(clip_id), with_for_update=True)
    if clip is None:
        raise ApplicationError(f"clip {clip_id} does not exist", type="ClipMissing", non_retryable=True)
    return clip


@activity.defn
def reserve_credits(req: GenerateRequest) -> None:
    """Hold the price of the clip on the user's balance and mark the clip running."""
    try:
        with session_scope() as session:
            clip = _clip(session, req.clip_id)
            if clip.status.finished:  # settled already (e.g. by the reconciler): never hold again
                raise ApplicationError(
                    f"clip {req.clip_id} is already {clip.status.value}", type="ClipFinished", non_retryable=True
                )
            credits.reserve(session, clip.user_id, clip.id, clip.cost)
            if clip.status == ClipStatus.QUEUED:
                clip.status = ClipStatus.RUNNING
    except credits.InsufficientCredits as exc:
        raise ApplicationError(str(exc), type=INSUFFICIENT_CREDITS, non_retryable=True) from exc


@activity.defn
def commit_clip(req: CommitRequest) -> None:
    """The clip is done: record where its audio is and turn the hold into a charge."""
    with session_scope() as session:
        clip = _clip(session, req.clip_id)
        settled = credits.settle(session, clip.id, LedgerKind.CHARGE)
        if settled.kind is not LedgerKind.CHARGE:
            raise ApplicationError(
                f"clip {req.clip_id} cannot be charged (settled as {settled.kind})",
                type="NotChargeable",
                non_retryable=True,
            )
        clip.status = ClipStatus.SUCCEEDED
        clip.object_key = req.object_key
        if req.details:
            clip.settings = {**clip.settings, **req.details}
        clip.duration_seconds = req.duration_seconds
        clip.error = None
        clip.finished_at = clip.finished_at or utcnow()
        if clip.kind is ClipKind.VOICE_DESIGN and req.details.get("lang") in LANGS:  # the fit heard its accent
            session.execute(update(CustomVoice).where(CustomVoice.design_clip_id == clip.id).values(
                lang=req.details["lang"]
            ))  # fmt: skip


def settle_clip(req: RefundRequest) -> bool:
    """Give the hold back (if any), mark the clip failed or cancelled, and delete any audio the run
    already put in the store. Idempotent; a charged clip is left as it is. Returns True when this
    call finished the clip (it was still unfinished)."""
    with session_scope() as session:
        clip = _clip(session, req.clip_id)
        settled = credits.settle(session, clip.id, LedgerKind.REFUND)
        if settled.kind is LedgerKind.CHARGE:
            return False  # already committed: a finished clip stays finished, with its audio
        finishing = not clip.status.finished  # one settled before (e.g. by the reconciler) keeps its reason
        if finishing:
            clip.status = ClipStatus.CANCELLED if req.cancelled else ClipStatus.FAILED
            clip.error = req.reason
        clip.finished_at = clip.finished_at or utcnow()
        session.flush()
        session.expunge(clip)
    # After the refund is committed, so an unreachable store delays only this (retried, idempotent)
    # clean-up, never the refund. The upload of a voice changer's source stays with the clip row.
    store = storage.get_store()
    storage.delete_clip_objects(clip, store, include_source=False)
    if clip.kind is ClipKind.VOICE_DESIGN:  # a fit that did not finish leaves no pack behind
        store.delete(storage.ClipObjects.of(clip).voice_pack)
    return finishing


@activity.defn
def refund_clip(req: RefundRequest) -> None:
    """Compensation: give the hold back (if any), mark the clip failed or cancelled, and delete any
    audio the run already put in the store (a cancel or failure during the upload)."""
    settle_clip(req)


ALL = [reserve_credits, commit_clip, refund_clip]
