"""A user's own voices: listing, finding (only their own), readiness, recipes, renaming, deleting.

Voices are private: every lookup is by (user, voice id), and another user's voice is simply not
found, so the site and the API answer 404 exactly as for a voice that never existed. A voice's
readiness is its design clip's status (``studio.models.CustomVoice``). Making a voice (admission,
credits, the workflow) is ``api.generation``'s job; this module only reads and edits rows.
"""

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from studio.kinds import KINDS, ClipKind
from studio.models import Clip, CustomVoice, VoiceCategory
from studio.stages import ClipStatus
from studio.storage import ClipObjects
from studio.voices import VoiceRecipe


class VoiceState(enum.StrEnum):
    READY = "ready"
    FITTING = "fitting"
    FAILED = "failed"


class VoiceNotFound(LookupError):
    """No such voice for this user (it may be another user's: they must not learn that)."""


class VoiceNotReady(ValueError):
    """The voice exists but cannot speak yet (still fitting) or ever (its fit failed); says which."""


@dataclass(frozen=True)
class OwnVoice:
    """A user's voice with its design clip (None if that clip was deleted from the history)."""

    voice: CustomVoice
    clip: Clip | None

    @property
    def id(self) -> str:
        return self.voice.id

    @property
    def state(self) -> VoiceState:
        if self.voice.category is VoiceCategory.BLEND:
            return VoiceState.READY  # a blend speaks at once; its clip only renders the preview
        if self.clip is None:  # the clip was deleted from the history after it succeeded
            return VoiceState.READY
        if self.clip.status is ClipStatus.SUCCEEDED:
            return VoiceState.READY
        if self.clip.status.finished:
            return VoiceState.FAILED
        return VoiceState.FITTING

    @property
    def error(self) -> str | None:
        return self.clip.error if self.clip is not None and self.state is VoiceState.FAILED else None

    @property
    def preview_key(self) -> str | None:
        """The preview's MP3 in the store, once the design clip made it."""
        if self.clip is None or self.clip.status is not ClipStatus.SUCCEEDED:
            return None
        return ClipObjects.of(self.clip).audio(".mp3")

    @property
    def pack_key(self) -> str | None:
        """A fitted voice's style pack in the store (kept when the design clip is deleted)."""
        if self.voice.category is not VoiceCategory.CLONED or self.voice.design_clip_id is None:
            return None
        return ClipObjects(design_prefix(), str(self.voice.design_clip_id)).voice_pack

    @property
    def fit_details(self) -> dict[str, Any]:
        """What the fit reported (similarities, steps, nearest stock voices), once done."""
        return dict(self.clip.settings or {}) if self.clip is not None else {}

    def recipe(self) -> VoiceRecipe:
        """How a worker makes this voice; raises VoiceNotReady while it cannot speak."""
        state = self.state
        if state is VoiceState.FITTING:
            raise VoiceNotReady(f"The voice “{self.voice.name}” is still being made; try again when it is ready.")
        if state is VoiceState.FAILED:
            raise VoiceNotReady(f"The voice “{self.voice.name}” could not be made: {self.error or 'it failed'}.")
        if self.voice.category is VoiceCategory.BLEND:
            return VoiceRecipe(self.voice.lang, blend=dict(self.voice.blend or {}))
        return VoiceRecipe(self.voice.lang, pack_key=self.pack_key)


def design_prefix() -> str:
    return KINDS[ClipKind.VOICE_DESIGN].key_prefix


def _own(user_id: uuid.UUID) -> Select:
    """(voice, design clip) rows of one user's voices."""
    return (
        select(CustomVoice, Clip)
        .outerjoin(Clip, Clip.id == CustomVoice.design_clip_id)
        .where(CustomVoice.user_id == user_id)
    )


def user_voices(db: Session, user_id: uuid.UUID) -> list[OwnVoice]:
    """The user's voices, newest first."""
    rows = db.execute(_own(user_id).order_by(CustomVoice.created_at.desc())).all()
    return [OwnVoice(voice, clip) for voice, clip in rows]


def find_voice(db: Session, user_id: uuid.UUID, voice_id: str) -> OwnVoice:
    """The user's voice ``voice_id``; raises VoiceNotFound (also for another user's voice)."""
    row = db.execute(_own(user_id).where(CustomVoice.id == voice_id)).first()
    if row is None:
        raise VoiceNotFound(voice_id)
    return OwnVoice(*row)


def count_voices(db: Session, user_id: uuid.UUID) -> int:
    return db.scalar(select(func.count()).select_from(CustomVoice).where(CustomVoice.user_id == user_id)) or 0


def rename_voice(db: Session, user_id: uuid.UUID, voice_id: str, name: str, description: str | None = None) -> OwnVoice:
    own = find_voice(db, user_id, voice_id)
    own.voice.name = name.strip()
    if description is not None:
        own.voice.description = description.strip()
    return own


def delete_voice(db: Session, user_id: uuid.UUID, voice_id: str) -> OwnVoice:
    """Remove the row; the caller deletes the pack from the store (``OwnVoice.pack_key``) and
    cancels a fit still running. Clips made with the voice stay in the history."""
    own = find_voice(db, user_id, voice_id)
    db.delete(own.voice)
    return own
