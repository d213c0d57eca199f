"""Generating from the site: validation, credits, rate limit, history, ownership and audio links."""

import re
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from studio.db import session_scope
from studio.models import Clip, ClipKind, ClipStatus, User, workflow_id_for
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from temporal.client import connect
from tests.site import sign_up

HTMX = {"HX-Request": "true"}


def user_by_email_fragment(html: str) -> User:
    email = re.search(r'class="email">([^<]+)<', html).group(1)
    with session_scope() as s:
        return s.scalar(select(User).where(User.email == email))


def clip_count(user: User) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Clip).where(Clip.user_id == user.id))


async def generate(site: httpx.AsyncClient, token: str, **form) -> httpx.Response:  # noqa: ANN003
    data = {"text": "Hello there.", "voice": "af_heart", "speed": "1.0"} | form
    return await site.post("/tts", data=data, headers=HTMX | {"X-CSRF-Token": token})


@pytest.mark.parametrize(
    "form, status, message",
    [
        ({"text": "   "}, 422, "Type some text"),
        ({"text": "x" * 5001}, 422, "the limit is 5000"),
        ({"voice": "zz_nobody"}, 404, "Choose one of the listed voices"),  # as for another user's voice
        ({"speed": "fast"}, 422, "speed"),
        ({"speed": "9"}, 422, "Speed must be between"),
        ({"speed": "nan"}, 422, "Speed must be between"),
    ],
)
async def test_bad_input_gets_a_message_and_starts_nothing(
    site: httpx.AsyncClient, form: dict, status: int, message: str
) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    resp = await generate(site, token, **form)
    assert resp.status_code == status and message in resp.text
    assert 'role="alert"' in resp.text
    assert clip_count(user) == 0


async def test_a_malformed_post_is_a_4xx_not_a_500(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    resp = await site.post("/tts", content=b"\xff\xfe garbage", headers={"X-CSRF-Token": token,
                           "content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert 400 <= resp.status_code < 500


async def test_generate_starts_a_workflow_named_after_the_clip(
    site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OPERATOR_EMAILS", "ops@example.com")  # operators see the Temporal link
    get_settings.cache_clear()
    token = await sign_up(site, "ops@example.com")
    resp = await generate(site, token, text="  A clip that waits for a worker.  ")
    assert resp.status_code == 202
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
    with session_scope() as s:
        clip = s.get(Clip, uuid.UUID(clip_id))
    assert clip.workflow_id == f"clip-{clip_id}" and clip.text == "A clip that waits for a worker."
    assert clip.cost == 50 and clip.status == ClipStatus.QUEUED
    client = await connect()
    desc = await client.get_workflow_handle(clip.workflow_id).describe()
    assert desc.workflow_type == "GenerateAudio"
    assert f"/workflows/clip-{clip_id}" in resp.text  # link to the Temporal UI
    status = await site.get(f"/clips/{clip_id}/status", headers=HTMX)
    assert status.status_code == 200 and f'data-events="/clips/{clip_id}/events"' in status.text
    assert "data-listen" in resp.text and clip.settings["stream"] == "site"  # the new card plays as it is made


async def test_insufficient_credits_is_refused_before_starting(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    with session_scope() as s:
        s.execute(update(User).where(User.id == user.id).values(credits=49))
    resp = await generate(site, token)
    assert resp.status_code == 402 and "costs 50 credits and you have 49" in resp.text
    assert clip_count(user) == 0


async def test_rate_limit_says_when_to_try_again(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    for _ in range(3):
        assert (await generate(site, token)).status_code == 202
    resp = await generate(site, token)
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 60 and f"Try again in {wait} s" in resp.text
    assert clip_count(user) == 3


def add_clips(user: User, n: int, status: ClipStatus = ClipStatus.SUCCEEDED) -> list[Clip]:
    clips = []
    with session_scope() as s:
        for i in range(n):
            cid = uuid.uuid4()
            clip = Clip(
                id=cid, user_id=user.id, kind=ClipKind.TTS, text=f"clip number {i}", voice="bm_george",
                settings={"speed": 1.0}, status=status, cost=50, workflow_id=workflow_id_for(cid),
                object_key=f"tts/{cid}.wav", duration_seconds=1.0,
            )  # fmt: skip
            s.add(clip)
            s.flush()
            clips.append(clip)
    return clips


async def test_history_is_paginated_newest_first(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    add_clips(user, 12)
    card_texts = r'<p class="text"[^>]*>clip number (\d+)'  # the card's text (its title repeats it)
    first = (await site.get("/history")).text
    shown = re.findall(card_texts, first)
    assert shown == [str(i) for i in range(11, 1, -1)]
    assert "Page 1 of 2" in first and "/history?page=2" in first
    second = (await site.get("/history?page=2")).text
    assert re.findall(card_texts, second) == ["1", "0"]
    assert (await site.get("/history?page=0")).status_code == 422


async def test_another_users_clip_is_not_found(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    owner = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(owner, 1)[0]
    assert (await site.get(f"/clips/{clip.id}/status")).status_code == 200
    site.cookies.clear()
    token = await sign_up(site)
    for resp in (
        await site.get(f"/clips/{clip.id}/status"),
        await site.get(f"/clips/{clip.id}/audio"),
        await site.post(f"/clips/{clip.id}/cancel", headers={"X-CSRF-Token": token}),
        await site.get("/clips/not-a-uuid/audio"),
    ):
        assert resp.status_code == 404
    assert "clip number" not in (await site.get("/history")).text


async def test_audio_links_are_signed_and_expire(site: httpx.AsyncClient, tmp_path: Path) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1)[0]
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF-fake-wav")
    get_store().put_file(clip.object_key, wav)
    resp = await site.get(f"/clips/{clip.id}/audio?download=true")
    assert resp.status_code == 307
    link = resp.headers["location"]
    media = await site.get(link)
    assert media.status_code == 200 and media.content == b"RIFF-fake-wav"
    assert media.headers["content-type"] == "audio/wav" and "attachment" in media.headers["content-disposition"]
    assert (await site.get(link.replace("sig=", "sig=0"))).status_code == 403
    expired = get_store().link(clip.object_key, ttl=-1)
    assert (await site.get(expired)).status_code == 403
    assert (await site.get(f"/clips/{clip.id}/audio?format=ogg")).status_code == 422


async def test_without_temporal_history_still_renders_and_generate_says_so(
    site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import reset_caches
    from tests.services import free_port

    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    add_clips(user, 1)
    monkeypatch.setenv("STUDIO_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")  # nothing listens there
    reset_caches()
    from api.main import create_app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://testserver") as down:
        down.cookies = site.cookies
        assert (await down.get("/history")).status_code == 200
        resp = await generate(down, token)
    assert resp.status_code == 503 and "unavailable" in resp.text
    assert clip_count(user) == 1


async def test_delete_from_history(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    done, running = add_clips(user, 1)[0], add_clips(user, 1, status=ClipStatus.RUNNING)[0]
    get_store().put_bytes(done.object_key, b"RIFF")
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    assert (await site.post(f"/clips/{running.id}/delete", headers=headers)).status_code == 409
    assert (await site.post(f"/clips/{done.id}/delete", headers=headers)).status_code == 200
    assert (await site.get(f"/clips/{done.id}/status")).status_code == 404
    assert not get_store().exists(done.object_key)
    assert (await site.post(f"/clips/{done.id}/delete", headers={"X-CSRF-Token": "bad"})).status_code == 403


async def test_a_speech_clips_captions_download_and_are_private(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1)[0]
    assert (await site.get(f"/clips/{clip.id}/captions?format=srt")).status_code == 404  # none stored yet
    objects = ClipObjects.of(clip)
    srt = "1\n00:00:00,000 --> 00:00:01,000\nclip number 0\n"
    get_store().put_bytes(objects.timing(".srt"), srt.encode())
    get_store().put_bytes(objects.timing(".json"), b'{"words": [{"word": "clip", "start": 0.0, "end": 0.3}]}')
    history = (await site.get("/history")).text
    assert f'data-words="/clips/{clip.id}/captions?format=json"' in history and "Captions SRT" in history
    resp = await site.get(f"/clips/{clip.id}/captions?format=srt&download=true")
    assert resp.status_code == 307
    media = await site.get(resp.headers["location"])
    assert media.text == srt and media.headers["content-type"].startswith("application/x-subrip")
    assert "attachment" in media.headers["content-disposition"]
    assert (await site.get(f"/clips/{clip.id}/captions?format=txt")).status_code == 422
    words = await site.get(f"/clips/{clip.id}/captions?format=json")  # for the page's script: same origin
    assert words.status_code == 200 and words.json()["words"][0]["word"] == "clip"
    site.cookies.clear()
    await sign_up(site)
    assert (await site.get(f"/clips/{clip.id}/captions?format=srt")).status_code == 404
