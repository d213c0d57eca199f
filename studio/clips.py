"""Removing a clip: its row, its audio and any upload it came from."""

from sqlalchemy.orm import Session

from studio.models import Clip
from studio.storage import ObjectStore, delete_clip_objects


def delete_clip(session: Session, clip: Clip, store: ObjectStore) -> None:
    """Delete a finished clip's objects and row; its ledger entries stay, clip-less, for the audit.

    Objects are found from the clip's id and kind, so audio uploaded by a run that never committed
    (cancelled or failed during upload) goes too."""
    delete_clip_objects(clip, store)
    session.delete(clip)
