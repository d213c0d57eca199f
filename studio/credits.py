"""Credit movements: grant, reserve (hold), and settle the hold as a charge or a refund.

Every function runs inside the caller's transaction and is idempotent per clip:
- the hold is an atomic conditional ``UPDATE ... WHERE credits >= price`` (safe on SQLite,
  which ignores FOR UPDATE, and on PostgreSQL under concurrency), recorded as ``reserve:<clip>``;
- charge and refund share the key ``settle:<clip>``, so whichever lands first wins and the
  other becomes a no-op: a clip is never both charged and refunded, nor either twice.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from studio.models import LedgerEntry, LedgerKind, User


class InsufficientCredits(Exception):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"This needs {needed} credits and you have {available}.")
        self.needed, self.available = needed, available


@dataclass(frozen=True)
class Settlement:
    kind: LedgerKind | None  # CHARGE or REFUND once settled; None when nothing was held


def _entry(session: Session, key: str) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


def grant(session: Session, user: User, amount: int, key: str) -> None:
    """Give credits (sign-up grant, top-up) exactly once per key."""
    if _entry(session, key):
        return
    session.execute(update(User).where(User.id == user.id).values(credits=User.credits + amount))
    session.add(LedgerEntry(user_id=user.id, kind=LedgerKind.GRANT, delta=amount, amount=amount, idempotency_key=key))
    session.flush()


def reserve(session: Session, user_id: uuid.UUID, clip_id: uuid.UUID, amount: int) -> bool:
    """Hold ``amount`` credits for a clip. Returns False if this clip already holds them."""
    key = f"reserve:{clip_id}"
    if _entry(session, key):
        return False
    taken = session.execute(
        update(User).where(User.id == user_id, User.credits >= amount).values(credits=User.credits - amount)
    ).rowcount
    if taken != 1:
        available = session.scalar(select(User.credits).where(User.id == user_id)) or 0
        raise InsufficientCredits(amount, available)
    session.add(
        LedgerEntry(
            user_id=user_id, clip_id=clip_id, kind=LedgerKind.RESERVE, delta=-amount, amount=amount, idempotency_key=key
        )
    )
    session.flush()  # a concurrent duplicate fails here on the unique key and rolls the hold back
    return True


def settle(session: Session, clip_id: uuid.UUID, outcome: LedgerKind) -> Settlement:
    """Turn the clip's hold into a charge, or give it back as a refund, exactly once."""
    assert outcome in (LedgerKind.CHARGE, LedgerKind.REFUND)
    hold = _entry(session, f"reserve:{clip_id}")
    if hold is None:
        return Settlement(kind=None)
    key = f"settle:{clip_id}"
    done = _entry(session, key)
    if done is not None:
        return Settlement(kind=done.kind)
    delta = hold.amount if outcome is LedgerKind.REFUND else 0
    if delta:
        session.execute(update(User).where(User.id == hold.user_id).values(credits=User.credits + delta))
    session.add(
        LedgerEntry(
            user_id=hold.user_id, clip_id=clip_id, kind=outcome, delta=delta, amount=hold.amount, idempotency_key=key
        )
    )
    session.flush()
    return Settlement(kind=outcome)


def ledger_balance(session: Session, user_id: uuid.UUID) -> int:
    """The balance the ledger says the user should have (for audits and tests)."""
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(LedgerEntry.user_id == user_id))
