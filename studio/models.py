"""SQLAlchemy models: users, clips, the credit ledger, API keys, admissions, users' own voices and
pronunciation dictionaries."""

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from studio.kinds import ClipKind  # declared with each kind's rules
from studio.stages import ClipStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class LedgerKind(enum.StrEnum):
    GRANT = "grant"
    RESERVE = "reserve"
    CHARGE = "charge"
    REFUND = "refund"


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    credits: Mapped[int] = mapped_column(Integer)  # spendable balance; holds are already taken out
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Stored in each session cookie; bumping it (sign-out) revokes every cookie issued before.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (Index("ix_clips_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ClipKind] = mapped_column(Enum(ClipKind, native_enum=False, length=32))
    text: Mapped[str] = mapped_column(Text)
    voice: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ClipStatus] = mapped_column(Enum(ClipStatus, native_enum=False, length=16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(nullable=True)
    cost: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LedgerEntry(Base):
    """One movement of credits. ``delta`` sums (with the grant) to the user's balance.

    The idempotency key makes each movement happen at most once: ``reserve:<clip>`` for the
    hold, and ``settle:<clip>`` for whichever of charge or refund comes first, so a clip can
    never be both charged and refunded, nor either twice.
    """

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    clip_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clips.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[LedgerKind] = mapped_column(Enum(LedgerKind, native_enum=False, length=16))
    delta: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)  # credits concerned (a charge settles a hold: delta 0)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


LIVE_KEY = sql("revoked_at IS NULL")  # an API key that still authenticates


class ApiKey(Base):
    """A user's key for the public API. Only a SHA-256 of the key is stored; it is shown once."""

    __tablename__ = "api_keys"
    # A name tells a user's live keys apart on the account page, so no two live keys share one; a
    # revoked key keeps its name, which may be given to a new key (migration 0005).
    __table_args__ = (
        Index(
            "uq_api_keys_user_live_name", "user_id", "name", unique=True,
            postgresql_where=LIVE_KEY, sqlite_where=LIVE_KEY,
        ),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to tell keys apart in lists
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class VoiceCategory(enum.StrEnum):
    """How a user's voice was made (ElevenLabs' ``category``: a fitted voice is "cloned")."""

    CLONED = "cloned"  # fitted to a recording
    BLEND = "blend"  # a weighted mix of stock voices


class CustomVoice(Base):
    """A user's own voice: private to them, usable wherever a stock voice id is.

    Its readiness is its design clip's (``clips`` row of kind voice-design: the fit, or the blend's
    preview), so credits, progress, cancellation and failure are the clip's and nothing here can
    disagree with them. A blend is usable at once; a fitted voice once its clip succeeded."""

    __tablename__ = "voices"
    __table_args__ = (Index("ix_voices_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # studio.voices.new_custom_voice_id
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    category: Mapped[VoiceCategory] = mapped_column(Enum(VoiceCategory, native_enum=False, length=16))
    lang: Mapped[str] = mapped_column(String(8))  # espeak code, as a stock voice's
    blend: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # stock id -> weight
    # The clip that made it: no foreign key, since the clip may be deleted from the history while the
    # voice (and its pack, keyed by this id) lives on.
    design_clip_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Admission(Base):
    """One generation admitted past the rate limit. Kept apart from clips so that deleting clips
    cannot make room in the current window; rows older than the window are pruned."""

    __tablename__ = "admissions"
    __table_args__ = (Index("ix_admissions_user_at", "user_id", "admitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    admitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def workflow_id_for(clip_id: uuid.UUID) -> str:
    return f"clip-{clip_id}"


class PronunciationDictionary(Base):
    """A user's pronunciation dictionary (``studio.pronunciation``): ElevenLabs' shape, with the
    latest rules here and every version's rules in ``pronunciation_dictionary_versions`` (a request
    may name an older version). ``on_site`` marks the one the site edits and applies to the user's
    text to speech there."""

    __tablename__ = "pronunciation_dictionaries"
    __table_args__ = (Index("ix_pronunciation_dictionaries_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # studio.pronunciation.new_id
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[str] = mapped_column(String(32))  # the latest version, new on each change of rules
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    on_site: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # unlisted


class PronunciationDictionaryVersion(Base):
    """One version of a dictionary's rules, kept so a locator naming it still says the same."""

    __tablename__ = "pronunciation_dictionary_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dictionary_id: Mapped[str] = mapped_column(
        ForeignKey("pronunciation_dictionaries.id", ondelete="CASCADE"), index=True
    )
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
