"""API keys for the public API: created with 256 random bits, stored only as a SHA-256 digest.

A fast digest is enough here: the key is random, not a password, so there is nothing to
guess; looking it up by digest keeps authentication to one indexed query.
"""

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.models import ApiKey, User, utcnow

KEY_PREFIX = "sk_studio_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, user: User, name: str) -> tuple[ApiKey, str]:
    """Returns the stored row and the key itself, which is never retrievable again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user.id, name=name, prefix=key[: len(KEY_PREFIX) + 4], key_hash=digest(key))
    session.add(row)
    session.flush()
    return row, key


def user_for_key(session: Session, key: str) -> User | None:
    """The owner of a live key (and note when it was used), or None."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key), ApiKey.revoked_at.is_(None)))
    if row is None:
        return None
    row.last_used_at = utcnow()
    return session.get(User, row.user_id)


def list_keys(session: Session, user: User) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())))


def revoke_key(session: Session, user: User, key_id: uuid.UUID) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user.id:
        return False
    row.revoked_at = row.revoked_at or utcnow()
    return True
