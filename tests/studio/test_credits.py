"""Credit ledger: holds, charges and refunds happen exactly once, and never overdraw."""

import threading

import pytest
from sqlalchemy import select

from studio import credits
from studio.db import session_scope
from studio.models import LedgerEntry, LedgerKind, User
from tests.conftest import make_clip, make_user

pytestmark = pytest.mark.usefixtures("studio_env")


def balance(user: User) -> int:
    with session_scope() as s:
        return s.get(User, user.id).credits


def entries(user: User) -> list[tuple[str, int]]:
    with session_scope() as s:
        rows = s.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user.id).order_by(LedgerEntry.id))
        return [(e.kind.value, e.delta) for e in rows]


def test_reserve_then_charge_is_idempotent() -> None:
    user = make_user(credits=100)
    clip = make_clip(user, cost=50)
    for _ in range(3):  # a retried activity runs the same call again
        with session_scope() as s:
            credits.reserve(s, user.id, clip.id, 50)
    assert balance(user) == 50
    for _ in range(2):
        with session_scope() as s:
            credits.settle(s, clip.id, LedgerKind.CHARGE)
    assert balance(user) == 50
    assert entries(user) == [("reserve", -50), ("charge", 0)]


def test_refund_returns_the_hold_once_and_blocks_a_later_charge() -> None:
    user = make_user(credits=100)
    clip = make_clip(user, cost=50)
    with session_scope() as s:
        credits.reserve(s, user.id, clip.id, 50)
    for _ in range(2):
        with session_scope() as s:
            settled = credits.settle(s, clip.id, LedgerKind.REFUND)
    assert settled.kind is LedgerKind.REFUND
    with session_scope() as s:
        assert credits.settle(s, clip.id, LedgerKind.CHARGE).kind is LedgerKind.REFUND
    assert balance(user) == 100
    assert entries(user) == [("reserve", -50), ("refund", 50)]


def test_refund_without_a_hold_gives_nothing() -> None:
    user = make_user(credits=10)
    clip = make_clip(user, cost=50)
    with session_scope() as s, pytest.raises(credits.InsufficientCredits):
        credits.reserve(s, user.id, clip.id, 50)
    with session_scope() as s:
        assert credits.settle(s, clip.id, LedgerKind.REFUND).kind is None
    assert balance(user) == 10
    assert entries(user) == []


def test_ledger_sums_to_the_balance() -> None:
    user = make_user(credits=0)
    with session_scope() as s:
        credits.grant(s, s.get(User, user.id), 300, key=f"signup:{user.id}")
        credits.grant(s, s.get(User, user.id), 300, key=f"signup:{user.id}")  # same key: once
    clips = [make_clip(user, cost=100) for _ in range(3)]
    for clip in clips:
        with session_scope() as s:
            credits.reserve(s, user.id, clip.id, 100)
    with session_scope() as s:
        credits.settle(s, clips[0].id, LedgerKind.CHARGE)
        credits.settle(s, clips[1].id, LedgerKind.REFUND)
    with session_scope() as s:
        assert credits.ledger_balance(s, user.id) == balance(user) == 100


def test_concurrent_reservations_never_overdraw() -> None:
    """40 threads race for a balance that covers 10 holds: exactly 10 win."""
    price, affordable, racers = 50, 10, 40
    user = make_user(credits=price * affordable)
    clips = [make_clip(user, cost=price) for _ in range(racers)]
    start = threading.Barrier(racers)
    won, refused = [], []

    def race(clip_id) -> None:  # noqa: ANN001
        start.wait()
        try:
            with session_scope() as s:
                credits.reserve(s, user.id, clip_id, price)
            won.append(clip_id)
        except credits.InsufficientCredits:
            refused.append(clip_id)

    threads = [threading.Thread(target=race, args=(c.id,)) for c in clips]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == affordable and len(refused) == racers - affordable
    assert balance(user) == 0
    assert entries(user).count(("reserve", -price)) == affordable
