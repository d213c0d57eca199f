"""Removing a clip: its row, its audio and any upload it came from."""

from sqlalchemy.orm import Session

from studio.models import Clip
from studio.storage import ObjectStore, variation_stem


def delete_clip(session: Session, clip: Clip, store: ObjectStore) -> None:
    """Delete a finished clip's objects and row; its ledger entries stay, clip-less, for the audit."""
    keys = []
    if clip.object_key:
        stem = clip.object_key.rsplit(".", 1)[0]
        for v in range(1, clip.settings.get("variations", 1) + 1):  # sound effects keep several
            keys += [f"{variation_stem(stem, v)}{ext}" for ext in (".wav", ".mp3")]
    if source_key := clip.settings.get("source_key"):
        keys.append(source_key)  # a voice-changer upload
    for key in keys:
        store.delete(key)
    session.delete(clip)
