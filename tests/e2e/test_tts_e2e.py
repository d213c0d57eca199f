"""Text to speech through the real stack: site -> Temporal -> workers -> S3 -> history."""

import asyncio
import re

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from studio.audio import read_wav
from studio.db import make_engine
from studio.models import LedgerEntry, User
from tests.e2e.conftest import Stack
from tests.site import sign_up
from tests.speech import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

TEXT = "Welcome to the studio. Every clip you make is saved in your history."
HTMX = {"HX-Request": "true"}


async def wait_until_finished(site: httpx.AsyncClient, clip_id: str, timeout: float = 120) -> tuple[str, list[str]]:
    stages: list[str] = []
    for _ in range(int(timeout / 0.25)):
        html = (await site.get(f"/clips/{clip_id}/status", headers=HTMX)).text
        stage = re.search(r'data-stage="([a-z]+)"', html).group(1)
        if not stages or stages[-1] != stage:
            stages.append(stage)
        if stage in ("done", "failed", "cancelled"):
            return html, stages
        await asyncio.sleep(0.25)
    raise AssertionError(f"clip {clip_id} still {stages[-1]} after {timeout}s")


async def test_sign_up_generate_and_download_real_speech(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site, "tts-operator@example.com")  # an operator: the card links to Temporal
        resp = await site.post(
            "/tts", data={"text": TEXT, "voice": "am_michael", "speed": "1.0"}, headers=HTMX | {"X-CSRF-Token": token}
        )
        assert resp.status_code == 202, resp.text
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        html, stages = await wait_until_finished(site, clip_id)
        assert stages[-1] == "done", html
        assert "synthesizing" in stages or "uploading" in stages or "reserving" in stages
        assert f"/workflows/clip-{clip_id}" in html

        wav = await site.get(f"/clips/{clip_id}/audio?format=wav&download=true", follow_redirects=True)
        assert wav.status_code == 200 and wav.url.host == "127.0.0.1" and "X-Amz-Signature" in str(wav.url)
        day = re.search(r'<time datetime="(\d{4}-\d{2}-\d{2})', html).group(1)  # named from the clip (S3 too)
        assert wav.headers["content-disposition"] == (
            f'attachment; filename="{day} Michael - Welcome to the studio. Every clip you make is.wav"'
        )
        samples, rate = read_wav(wav.content)
        assert rate == 24_000 and 3 < len(samples) / rate < 12 and np.abs(samples).max() > 0.05
        heard = transcribe(samples, rate)
        assert word_error_rate(TEXT, heard) <= 0.3, heard

        mp3 = await site.get(f"/clips/{clip_id}/audio?format=mp3", follow_redirects=True)
        assert mp3.status_code == 200 and (mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF)

        history = (await site.get("/history")).text
        assert clip_id in history and "9,950 credits" in history

    engine = make_engine(stack.env["STUDIO_DATABASE_URL"])
    with engine.connect() as db:
        user_id = db.scalar(select(LedgerEntry.user_id).where(LedgerEntry.clip_id == clip_id))
        kinds = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.clip_id == clip_id).order_by(LedgerEntry.id))
        assert [k.value for k in kinds] == ["reserve", "charge"]
        assert db.scalar(select(User.credits).where(User.id == user_id)) == 9_950
    engine.dispose()


async def test_cancel_a_long_generation_refunds(stack: Stack) -> None:
    long_text = " ".join(f"This is sentence number {i}, spoken slowly and at length." for i in range(60))
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site)
        resp = await site.post(
            "/tts",
            data={"text": long_text, "voice": "af_bella", "speed": "0.8"},
            headers=HTMX | {"X-CSRF-Token": token},
        )
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        for _ in range(200):
            html = (await site.get(f"/clips/{clip_id}/status", headers=HTMX)).text
            if 'data-stage="synthesizing"' in html and "chunk" in html:
                break
            await asyncio.sleep(0.1)
        cancel = await site.post(f"/clips/{clip_id}/cancel", headers=HTMX | {"X-CSRF-Token": token})
        assert cancel.status_code == 200
        html, stages = await wait_until_finished(site, clip_id)
        assert stages[-1] == "cancelled" and "refunded" in html
        assert "10,000 credits" in (await site.get("/history")).text
