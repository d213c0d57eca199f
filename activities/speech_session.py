"""The one database step a speech session adds to GenerateAudio's: record the session's text.

A session's clip is admitted with the first text it received (so the history shows something while
it runs); its whole text is known only when the input ends, so it is written just before the commit.
Idempotent: a retry writes the same text.
"""

import uuid

from sqlalchemy import update
from temporalio import activity

from studio.db import session_scope
from studio.models import Clip
from workflows.types import SessionText


@activity.defn
def record_session_text(req: SessionText) -> None:
    with session_scope() as session:
        session.execute(update(Clip).where(Clip.id == uuid.UUID(req.clip_id)).values(text=req.text))


ALL = [record_session_text]
