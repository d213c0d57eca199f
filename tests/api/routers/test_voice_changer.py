"""Voice changer uploads from the site: checked before anything starts, stored, then converted."""

import asyncio
import re
import uuid

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from studio.audio import to_wav
from studio.db import session_scope
from studio.models import Clip, ClipKind, User
from studio.storage import get_store
from tests.api.routers.test_clips import user_by_email_fragment
from tests.conftest import reset_caches
from tests.site import sign_up

RATE = 24_000
SPEECHLIKE = (0.3 * np.sin(2 * np.pi * 180 * np.arange(3 * RATE) / RATE)).astype(np.float32)


def clip_count(user: User) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Clip).where(Clip.user_id == user.id))


async def upload(site: httpx.AsyncClient, token: str, data: bytes, name: str = "me.wav", **form) -> httpx.Response:  # noqa: ANN003
    fields = {"voice": "bf_emma", "pitch": "0", "formant": "auto"} | form
    return await site.post(
        "/voice-changer", data=fields, files={"audio": (name, data, "audio/wav")},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )  # fmt: skip


async def test_page_renders_with_voices(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    page = await site.get("/voice-changer")
    assert page.status_code == 200 and 'value="bm_george"' in page.text
    # The recorder: a record button and a drop zone whose file input is hidden but still focusable
    # (its behaviour, MediaRecorder included, is in the static forms.js the layout links).
    assert "data-record" in page.text and re.search(
        r'<input type="file" id="audio"[^>]*class="visually-hidden"', page.text
    )
    assert "MediaRecorder" in (await site.get("/static/forms.js")).text


async def test_a_good_upload_is_stored_and_its_workflow_started(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    resp = await upload(site, token, to_wav(SPEECHLIKE, RATE), name="my voice.wav", pitch="3")
    assert resp.status_code == 202, resp.text
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
    with session_scope() as s:
        clip = s.get(Clip, uuid.UUID(clip_id))
    assert clip.kind == ClipKind.VOICE_CONVERSION and clip.voice == "bf_emma"
    assert clip.settings["pitch"] == 3 and clip.settings["formant"] is None
    assert clip.settings["source_name"] == "my voice.wav" and clip.settings["source_seconds"] == 3.0
    assert get_store().get_bytes(clip.settings["source_key"]) == to_wav(SPEECHLIKE, RATE)
    assert "my voice.wav" in resp.text


@pytest.mark.parametrize(
    "data, form, status, message",
    [
        (b"definitely not audio" * 100, {}, 422, "not audio"),
        (to_wav(np.zeros(RATE * 2, np.float32), RATE), {}, 422, "silent"),
        (to_wav(SPEECHLIKE, RATE)[:500], {}, 422, "too short"),
        (to_wav(SPEECHLIKE, RATE), {"voice": "nobody"}, 404, "listed voices"),  # as for another user's voice
        (to_wav(SPEECHLIKE, RATE), {"pitch": "40"}, 422, "pitch"),
        (to_wav(SPEECHLIKE, RATE), {"formant": "loud"}, 422, "formant"),
    ],
)
async def test_bad_uploads_get_a_message_and_cost_nothing(
    site: httpx.AsyncClient, data: bytes, form: dict, status: int, message: str
) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    resp = await upload(site, token, data, **form)
    assert resp.status_code == status and message in resp.text.lower()
    assert clip_count(user) == 0


async def test_missing_file_is_a_clear_422(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    resp = await site.post("/voice-changer", data={"voice": "af_heart"}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 422 and "audio" in resp.text


async def test_too_large_is_refused_while_streaming(site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    monkeypatch.setenv("STUDIO_VC_MAX_UPLOAD_BYTES", str(100_000))
    reset_caches()
    from api.main import create_app

    app = create_app()
    received = []

    async def chunked_body():  # no Content-Length: counted as it streams in
        boundary = b"--xyz\r\n"
        yield boundary + b'Content-Disposition: form-data; name="audio"; filename="big.wav"\r\n\r\n'
        for _ in range(50):
            received.append(1)
            yield b"\x00" * 10_000

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as big:
        big.cookies = site.cookies
        declared = await big.post(
            "/voice-changer", files={"audio": ("big.wav", b"\x00" * 200_000)}, headers={"X-CSRF-Token": token}
        )
        assert declared.status_code == 413 and "too large" in declared.text
        streamed = await big.post(
            "/voice-changer", content=chunked_body(),
            headers={"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=xyz"},
        )  # fmt: skip
    assert streamed.status_code == 413
    assert len(received) < 50  # refused before the whole body was read
    assert clip_count(user) == 0


async def test_uploads_at_the_same_time_both_start(site: httpx.AsyncClient) -> None:
    """Two uploads on one event loop: neither may wait on the other's database lock (SQLite's
    write lock, PostgreSQL's row lock) while that one awaits its object-store write."""
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    responses = await asyncio.gather(*(upload(site, token, to_wav(SPEECHLIKE, RATE)) for _ in range(2)))
    assert [r.status_code for r in responses] == [202, 202], [r.text[:200] for r in responses]
    assert clip_count(user) == 2


async def test_an_upload_without_credits_is_refused_and_not_kept(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    with session_scope() as s:
        s.get(User, user.id).credits = 10
    resp = await upload(site, token, to_wav(SPEECHLIKE, RATE))
    assert resp.status_code == 402 and "credits" in resp.text
    assert clip_count(user) == 0
    assert not list((get_store().root / "uploads").glob("*"))  # the site tests use the local store
