"""Faults on the real stack: a GPU worker killed mid-synthesis does not lose the clip or the credits."""

import asyncio
import re

import httpx
import pytest
from sqlalchemy import select

from studio.db import make_engine
from studio.models import LedgerEntry
from tests.e2e.conftest import Stack
from tests.e2e.test_tts_e2e import wait_until_finished
from tests.site import sign_up

pytestmark = pytest.mark.e2e

# The card says which sentence is being spoken ("sentence k of n", k from 1): past 1, a chunk is done.
PAST_FIRST_CHUNK = re.compile(r"sentence (?:[2-9]|\d{2,}) of")
TEXT = " ".join(f"Paragraph {i} keeps the worker busy for a little while longer than usual." for i in range(16))


async def test_tts_worker_killed_mid_synthesis_is_retried_and_charged_once(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site)
        resp = await site.post(
            "/tts", data={"text": TEXT, "voice": "am_adam", "speed": "1.0"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )  # fmt: skip
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        for _ in range(600):  # until at least one chunk is done, so the kill lands mid-synthesis
            html = (await site.get(f"/clips/{clip_id}/status", headers={"HX-Request": "true"})).text
            if PAST_FIRST_CHUNK.search(html):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("synthesis never reported progress")
        stack.crash("gpu_tts")
        stack.start("gpu_tts")  # a replacement worker; the heartbeat timeout hands it the retry
        html, stages = await wait_until_finished(site, clip_id, timeout=300)
        assert stages[-1] == "done", html
        assert "9,950 credits" in (await site.get("/history")).text

    engine = make_engine(stack.env["STUDIO_DATABASE_URL"])
    with engine.connect() as db:
        kinds = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.clip_id == clip_id).order_by(LedgerEntry.id))
        assert [k.value for k in kinds] == ["reserve", "charge"]
    engine.dispose()


async def test_orchestration_worker_killed_mid_request_charges_once(stack: Stack) -> None:
    """The worker running the workflow (and its local reserve and commit) dies while the GPU works: a fresh
    one replays the history, keeps the recorded reserve, and commits once."""
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site)
        resp = await site.post(
            "/tts", data={"text": TEXT, "voice": "am_adam", "speed": "1.0"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )  # fmt: skip
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        for _ in range(600):  # reserved and synthesizing: the reserve is recorded in the history
            html = (await site.get(f"/clips/{clip_id}/status", headers={"HX-Request": "true"})).text
            if PAST_FIRST_CHUNK.search(html):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("synthesis never reported progress")
        stack.crash("orchestration")
        stack.start("orchestration")
        html, stages = await wait_until_finished(site, clip_id, timeout=300)
        assert stages[-1] == "done", html
        assert "9,950 credits" in (await site.get("/history")).text

    engine = make_engine(stack.env["STUDIO_DATABASE_URL"])
    with engine.connect() as db:
        kinds = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.clip_id == clip_id).order_by(LedgerEntry.id))
        assert [k.value for k in kinds] == ["reserve", "charge"]
    engine.dispose()
