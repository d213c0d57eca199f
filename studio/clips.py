"""Removing a clip: its row, its audio and any upload it came from (and a voice it failed to make)."""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from studio.models import Clip, ClipKind, CustomVoice
from studio.stages import ClipStatus
from studio.storage import ObjectStore, delete_clip_objects


def delete_clip(session: Session, clip: Clip, store: ObjectStore) -> None:
    """Delete a finished clip's objects and row; its ledger entries stay, clip-less, for the audit.

    Objects are found from the clip's id and kind, so audio uploaded by a run that never committed
    (cancelled or failed during upload) goes too."""
    delete_clip_objects(clip, store)
    if clip.kind is ClipKind.VOICE_DESIGN and clip.status is not ClipStatus.SUCCEEDED:
        # the voice it failed to make goes with it (a made voice outlives its clip: its pack is its own)
        session.execute(delete(CustomVoice).where(CustomVoice.design_clip_id == clip.id))
    session.delete(clip)
