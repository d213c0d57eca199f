"""activities.credits run directly in an activity context, against SQLite and PostgreSQL.

Each step is keyed by the clip id: running it a second time (a retry after the worker died past
the commit, or a replay) changes nothing. The ledger rules themselves are in tests/studio/test_credits.py;
the whole workflow is in tests/workflows/test_generate_audio.py.
"""

import uuid

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.credits import commit_clip, refund_clip, reserve_credits, settle_clip
from studio.db import session_scope
from studio.models import Clip, ClipStatus, LedgerEntry, User
from studio.storage import ClipObjects, get_store
from tests.conftest import make_clip, make_user
from workflows.types import INSUFFICIENT_CREDITS, CommitRequest, GenerateRequest, RefundRequest

pytestmark = pytest.mark.usefixtures("studio_env")

PRICE = 50


def snapshot(user: User, clip: Clip) -> tuple[int, list[tuple[str, int]], dict]:
    """The user's balance, the clip's ledger entries and every clip column, as plain values."""
    with session_scope() as s:
        ledger = s.scalars(select(LedgerEntry).where(LedgerEntry.clip_id == clip.id).order_by(LedgerEntry.id))
        row = s.get(Clip, clip.id)
        columns = {c.key: getattr(row, c.key) for c in Clip.__table__.columns}
        return s.get(User, user.id).credits, [(e.kind.value, e.delta) for e in ledger], columns


def request(user: User, clip: Clip) -> GenerateRequest:
    return GenerateRequest(str(clip.id), str(user.id), "tts", clip.text, clip.voice, settings={"speed": 1.0})


def reserved(credits: int = 1000) -> tuple[User, Clip]:
    user = make_user(credits=credits)
    clip = make_clip(user, cost=PRICE)
    ActivityEnvironment().run(reserve_credits, request(user, clip))
    return user, clip


def set_status(clip: Clip, status: ClipStatus, error: str | None = None) -> None:
    with session_scope() as s:
        row = s.get(Clip, clip.id)
        row.status, row.error = status, error


# --- reserve_credits ------------------------------------------------------------------------


def test_reserve_holds_the_price_and_marks_the_clip_running_once() -> None:
    user = make_user(credits=1000)
    clip = make_clip(user, cost=PRICE)
    env = ActivityEnvironment()
    env.run(reserve_credits, request(user, clip))
    first = snapshot(user, clip)
    balance, ledger, row = first
    assert balance == 1000 - PRICE and ledger == [("reserve", -PRICE)]
    assert row["status"] == ClipStatus.RUNNING
    env.run(reserve_credits, request(user, clip))  # the retry
    assert snapshot(user, clip) == first


def test_reserve_without_enough_credits_is_a_non_retryable_insufficient_credits() -> None:
    user = make_user(credits=PRICE - 1)
    clip = make_clip(user, cost=PRICE)
    before = snapshot(user, clip)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(reserve_credits, request(user, clip))
    assert err.value.type == INSUFFICIENT_CREDITS and err.value.non_retryable
    assert f"needs {PRICE} credits" in str(err.value)
    assert snapshot(user, clip) == before  # no hold, still queued
    assert before[2]["status"] == ClipStatus.QUEUED


@pytest.mark.parametrize("status", [ClipStatus.FAILED, ClipStatus.CANCELLED, ClipStatus.SUCCEEDED])
def test_reserve_refuses_a_finished_clip(status: ClipStatus) -> None:
    """E.g. the reconciler settled the clip before the workflow's first attempt ran: never hold again."""
    user = make_user(credits=1000)
    clip = make_clip(user, cost=PRICE)
    set_status(clip, status, "settled elsewhere")
    before = snapshot(user, clip)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(reserve_credits, request(user, clip))
    assert err.value.type == "ClipFinished" and err.value.non_retryable
    assert snapshot(user, clip) == before


def test_reserve_after_the_reconciler_refunded_holds_nothing() -> None:
    user = make_user(credits=1000)
    clip = make_clip(user, cost=PRICE)
    assert settle_clip(RefundRequest(str(clip.id), "the run was lost")) is True
    with pytest.raises(ApplicationError, match="already failed"):
        ActivityEnvironment().run(reserve_credits, request(user, clip))
    balance, ledger, row = snapshot(user, clip)
    assert balance == 1000 and ledger == [] and row["error"] == "the run was lost"


def test_an_unknown_clip_is_a_non_retryable_clip_missing() -> None:
    user = make_user()
    ghost = GenerateRequest(str(uuid.uuid4()), str(user.id), "tts", "Hi.", "af_heart")
    for fn, req in [
        (reserve_credits, ghost),
        (commit_clip, CommitRequest(ghost.clip_id, f"tts/{ghost.clip_id}.wav", 1.0)),
        (refund_clip, RefundRequest(ghost.clip_id, "whatever")),
    ]:
        with pytest.raises(ApplicationError) as err:
            ActivityEnvironment().run(fn, req)
        assert err.value.type == "ClipMissing" and err.value.non_retryable, fn
    with session_scope() as s:
        assert s.get(User, user.id).credits == 1000


# --- commit_clip ----------------------------------------------------------------------------


def test_commit_charges_records_the_audio_and_merges_details_once() -> None:
    user, clip = reserved()
    key = ClipObjects.for_kind("tts", str(clip.id), {}).audio()
    commit = CommitRequest(str(clip.id), key, 2.25, details={"interpretation": "rain", "speed": 1.5})
    env = ActivityEnvironment()
    env.run(commit_clip, commit)
    first = snapshot(user, clip)
    balance, ledger, row = first
    assert balance == 1000 - PRICE and ledger == [("reserve", -PRICE), ("charge", 0)]
    assert row["status"] == ClipStatus.SUCCEEDED and row["object_key"] == key
    assert row["duration_seconds"] == 2.25 and row["error"] is None and row["finished_at"] is not None
    assert row["settings"] == {"speed": 1.5, "interpretation": "rain"}  # merged: the details win
    env.run(commit_clip, commit)  # the retry: same charge, same finish time
    assert snapshot(user, clip) == first


def test_commit_without_details_keeps_the_settings() -> None:
    user, clip = reserved()
    ActivityEnvironment().run(commit_clip, CommitRequest(str(clip.id), f"tts/{clip.id}.wav", 1.0))
    assert snapshot(user, clip)[2]["settings"] == {"speed": 1.0}


def test_commit_after_a_refund_is_refused_and_changes_nothing() -> None:
    user, clip = reserved()
    ActivityEnvironment().run(refund_clip, RefundRequest(str(clip.id), "GPU on fire"))
    before = snapshot(user, clip)
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(commit_clip, CommitRequest(str(clip.id), f"tts/{clip.id}.wav", 1.0))
    assert err.value.type == "NotChargeable" and err.value.non_retryable
    assert snapshot(user, clip) == before
    assert before[0] == 1000 and before[2]["status"] == ClipStatus.FAILED and before[2]["object_key"] is None


# --- refund_clip / settle_clip --------------------------------------------------------------


@pytest.mark.parametrize(("cancelled", "status"), [(False, ClipStatus.FAILED), (True, ClipStatus.CANCELLED)])
def test_refund_returns_the_hold_and_finishes_the_clip_once(cancelled: bool, status: ClipStatus) -> None:
    user, clip = reserved()
    env = ActivityEnvironment()
    env.run(refund_clip, RefundRequest(str(clip.id), "GPU on fire", cancelled=cancelled))
    first = snapshot(user, clip)
    balance, ledger, row = first
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row["status"] == status and row["error"] == "GPU on fire" and row["finished_at"] is not None
    env.run(refund_clip, RefundRequest(str(clip.id), "a later reason", cancelled=not cancelled))
    assert snapshot(user, clip) == first  # the first reason and status stay


def test_refund_deletes_the_runs_audio_but_not_the_source_upload() -> None:
    user, clip = reserved()
    settings = {"variations": 2, "source_key": ClipObjects.upload_key(str(clip.id), ".wav")}
    with session_scope() as s:
        s.get(Clip, clip.id).settings = settings
    objects = ClipObjects.for_kind("tts", str(clip.id), settings)
    store = get_store()
    ours = [objects.audio(".wav"), objects.audio(".mp3"), objects.audio(".mp3", 2), objects.stream_part(0)]
    keep = [objects.source_key, ClipObjects.for_kind("tts", str(uuid.uuid4()), {}).audio()]  # + another clip's
    for key in ours + keep:
        store.put_bytes(key, b"RIFF")
    env = ActivityEnvironment()
    env.run(refund_clip, RefundRequest(str(clip.id), "cancelled", cancelled=True))
    assert [k for k in ours if store.exists(k)] == []
    assert [k for k in keep if not store.exists(k)] == []
    after = snapshot(user, clip)
    env.run(refund_clip, RefundRequest(str(clip.id), "cancelled", cancelled=True))  # nothing left to delete
    assert snapshot(user, clip) == after and store.exists(objects.source_key)


def test_refund_of_a_committed_clip_leaves_it_charged_with_its_audio() -> None:
    user, clip = reserved()
    key = f"tts/{clip.id}.wav"
    get_store().put_bytes(key, b"RIFF")
    ActivityEnvironment().run(commit_clip, CommitRequest(str(clip.id), key, 1.0))
    before = snapshot(user, clip)
    assert settle_clip(RefundRequest(str(clip.id), "too late")) is False
    ActivityEnvironment().run(refund_clip, RefundRequest(str(clip.id), "too late"))
    assert snapshot(user, clip) == before and before[2]["status"] == ClipStatus.SUCCEEDED
    assert get_store().exists(key)


def test_settle_says_whether_this_call_finished_the_clip() -> None:
    """The reconciler counts the clips it settled by this return value."""
    user, clip = reserved()
    assert settle_clip(RefundRequest(str(clip.id), "lost")) is True
    assert settle_clip(RefundRequest(str(clip.id), "lost again")) is False
    never_reserved = make_clip(user, cost=PRICE)  # still queued, no hold to give back
    assert settle_clip(RefundRequest(str(never_reserved.id), "never started")) is True
    balance, ledger, row = snapshot(user, never_reserved)
    assert balance == 1000 and ledger == [] and row["status"] == ClipStatus.FAILED


def test_settle_keeps_the_reason_of_a_clip_finished_elsewhere_but_returns_its_hold() -> None:
    """A clip marked failed (e.g. by the API) while its hold was still out: refund it, keep the reason."""
    user, clip = reserved()
    set_status(clip, ClipStatus.FAILED, "first reason")
    assert settle_clip(RefundRequest(str(clip.id), "second reason")) is False
    balance, ledger, row = snapshot(user, clip)
    assert balance == 1000 and ledger == [("reserve", -PRICE), ("refund", PRICE)]
    assert row["error"] == "first reason" and row["finished_at"] is not None
