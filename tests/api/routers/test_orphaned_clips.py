"""A clip whose workflow was terminated from the Temporal UI: the owner's cancel and delete still work.

The site settles such a clip at once through the reconciler's path (the hold, if any, refunded
exactly once) instead of leaving it "running" with a 409 on delete.
"""

import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from activities.credits import reserve_credits
from studio.db import session_scope
from studio.models import Clip, ClipStatus, LedgerEntry, LedgerKind, User, utcnow
from temporal.client import connect
from tests.api.routers.test_clips import HTMX, generate, user_by_email_fragment
from tests.site import sign_up
from workflows.types import GenerateRequest


async def start_and_terminate(site: httpx.AsyncClient, token: str) -> Clip:
    """A clip whose workflow held its credits (the real reserve activity) and was then terminated."""
    resp = await generate(site, token)
    assert resp.status_code == 202
    clip_id = uuid.UUID(re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1))
    with session_scope() as s:
        clip = s.get(Clip, clip_id)
        s.execute(update(Clip).where(Clip.id == clip_id).values(created_at=utcnow() - timedelta(minutes=5)))
    reserve_credits(GenerateRequest(str(clip.id), str(clip.user_id), clip.kind, clip.text, clip.voice, clip.settings))
    client = await connect()
    await client.get_workflow_handle(clip.workflow_id).terminate(reason="operator test")
    return clip


def reload(clip: Clip) -> Clip | None:
    with session_scope() as s:
        return s.get(Clip, clip.id)


async def test_cancel_settles_a_clip_whose_workflow_was_terminated(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = await start_and_terminate(site, token)
    resp = await site.post(f"/clips/{clip.id}/cancel", headers=HTMX | {"X-CSRF-Token": token})
    assert resp.status_code == 200 and "stopped by an operator" in resp.text
    assert reload(clip).status == ClipStatus.FAILED
    with session_scope() as s:
        assert s.scalar(select(User.credits).where(User.id == user.id)) == user.credits  # the hold came back
        ledger = s.scalars(select(LedgerEntry.kind).where(LedgerEntry.clip_id == clip.id).order_by(LedgerEntry.id))
        assert list(ledger) == [LedgerKind.RESERVE, LedgerKind.REFUND]
    again = await site.post(f"/clips/{clip.id}/cancel", headers=HTMX | {"X-CSRF-Token": token})
    assert again.status_code == 200
    with session_scope() as s:  # a second cancel refunds nothing more
        assert s.scalar(select(User.credits).where(User.id == user.id)) == user.credits


async def test_delete_works_on_a_clip_whose_workflow_was_terminated(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    clip = await start_and_terminate(site, token)
    resp = await site.post(f"/clips/{clip.id}/delete", headers=HTMX | {"X-CSRF-Token": token})
    assert resp.status_code == 200
    assert reload(clip) is None
