"""The ElevenLabs voice routes in-process for a user's own voices: listing (v1, v2 search),
preview links, get, edit, delete, and adding a voice (``POST /v1/voices/add``): its checks, the
joining of several files, the answer while the fit still runs, and a failed fit leaving nothing.

No GPU workers run here: design workflows start on the real Temporal dev server and wait."""

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import select, update

from studio.audio import read_wav
from studio.db import session_scope
from studio.models import Clip, ClipKind, ClipStatus, CustomVoice, User
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store, stock_preview_key
from temporal.client import connect
from tests.api.routers.test_clips import user_by_email_fragment
from tests.api.routers.test_voices import blend, fit, new_voice_id, speechlike, voices_of
from tests.site import create_key, sign_up


@pytest.fixture
async def api(site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> tuple[httpx.AsyncClient, User, str, str]:
    monkeypatch.setenv("STUDIO_RATE_LIMIT_PER_MINUTE", "30")
    get_settings.cache_clear()
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    return site, user, await create_key(site), token


def design_clip(voice_id: str) -> Clip:
    with session_scope() as s:
        voice = s.get(CustomVoice, voice_id)
        return s.get(Clip, voice.design_clip_id)


def finish_preview(voice_id: str, audio: bytes = b"ID3-preview") -> None:
    """As the TTS worker would: the design clip succeeded and its preview is in the store."""
    clip = design_clip(voice_id)
    objects = ClipObjects.of(clip)
    get_store().put_bytes(objects.audio(".mp3"), audio)
    with session_scope() as s:
        s.execute(update(Clip).where(Clip.id == clip.id).values(status=ClipStatus.SUCCEEDED,
                                                                object_key=objects.audio(".wav")))  # fmt: skip


async def test_own_voices_are_listed_searched_and_previewed(api) -> None:  # noqa: ANN001
    site, user, key, token = api
    headers = {"xi-api-key": key}
    blend_id = new_voice_id(await blend(site, token, name="Warm mix", description=""))
    fit_id = new_voice_id(await fit(site, token, speechlike(12), name="Me reading"))
    get_store().put_bytes(stock_preview_key("af_heart", ".mp3"), b"ID3-heart")

    voices = (await site.get("/v1/voices", headers=headers)).json()["voices"]
    assert len(voices) == 30 and [v["voice_id"] for v in voices[:2]] == [fit_id, blend_id]  # own first, newest first
    fitted, mixed = voices[0], voices[1]
    assert fitted["category"] == "cloned" and fitted["status"] == "fitting" and fitted["is_owner"]
    assert fitted["fine_tuning"]["state"] == {"kokoro-82m": "fine_tuning"} and fitted["preview_url"] is None
    assert mixed["category"] == "generated" and mixed["status"] == "ready"
    assert mixed["description"] == "Blend of 60% Heart, 40% Emma"
    heart = next(v for v in voices if v["voice_id"] == "af_heart")
    assert heart["preview_url"].startswith("http://testserver/media/previews/af_heart.mp3?")
    assert (await site.get(heart["preview_url"])).content == b"ID3-heart"
    assert all(v["preview_url"] is None for v in voices if v["voice_id"] not in ("af_heart",))

    finish_preview(blend_id, b"ID3-blend")
    mixed = (await site.get(f"/v1/voices/{blend_id}", headers=headers)).json()
    assert mixed["name"] == "Warm mix" and mixed["fine_tuning"]["state"] == {"kokoro-82m": "fine_tuned"}
    assert (await site.get(mixed["preview_url"])).content == b"ID3-blend"
    fitting = (await site.get(f"/v1/voices/{fit_id}", headers=headers)).json()
    assert fitting["status"] == "fitting" and fitting["fine_tuning"]["message"] == {"kokoro-82m": "queued"}
    assert fitting["fine_tuning"]["dataset_duration_seconds"] == 12.0

    async def search(**params: str) -> list[str]:
        resp = await site.get("/v2/voices", params={"page_size": 100} | params, headers=headers)
        assert resp.status_code == 200, resp.text
        return [v["voice_id"] for v in resp.json()["voices"]]

    assert await search(voice_type="personal") == [fit_id, blend_id]
    assert len(await search(voice_type="default")) == 28
    assert await search(category="cloned") == [fit_id]
    assert await search(category="generated") == [blend_id]
    assert await search(search="warm") == [blend_id]
    assert await search(voice_type="personal", sort="name", sort_direction="asc") == [fit_id, blend_id]
    assert await search(voice_ids=[blend_id, "bm_george"]) == [blend_id, "bm_george"]
    bad = await site.get("/v2/voices", params={"voice_type": "famous"}, headers=headers)
    assert bad.status_code == 422 and "voice_type" in bad.json()["detail"]["message"]
    account = (await site.get("/v1/user/subscription", headers=headers)).json()
    assert account["voice_slots_used"] == 2 and account["can_use_instant_voice_cloning"]


async def test_edit_and_delete_own_voices(api) -> None:  # noqa: ANN001
    site, user, key, token = api
    headers = {"xi-api-key": key}
    voice_id = new_voice_id(await blend(site, token))
    form = {"name": " Story  voice ", "description": "calm", "labels": '{"accent": "mixed"}'}
    edit = await site.post(f"/v1/voices/{voice_id}/edit", headers=headers, data=form)
    assert edit.status_code == 200 and edit.json() == {"status": "ok"}
    voice = (await site.get(f"/v1/voices/{voice_id}", headers=headers)).json()
    assert (voice["name"], voice["description"], voice["labels"]) == ("Story voice", "calm", {"accent": "mixed"})
    for data, files, status, fragment in (
        ({"name": "  "}, None, 422, "Give the voice a name"),
        ({"name": "x", "labels": "[1, 2]"}, None, 422, "labels"),
        ({"name": "x"}, {"files": ("a.wav", speechlike(1))}, 422, "not supported"),
    ):
        resp = await site.post(f"/v1/voices/{voice_id}/edit", headers=headers, data=data, files=files)
        assert resp.status_code == status and fragment in resp.json()["detail"]["message"], resp.text
    assert (await site.post("/v1/voices/af_heart/edit", headers=headers, data={"name": "x"})).status_code == 404

    assert (await site.delete("/v1/voices/af_heart", headers=headers)).status_code == 404  # not theirs to delete
    assert (await site.delete(f"/v1/voices/{voice_id}", headers=headers)).json() == {"status": "ok"}
    assert (await site.get(f"/v1/voices/{voice_id}", headers=headers)).status_code == 404
    assert (await site.delete(f"/v1/voices/{voice_id}", headers=headers)).status_code == 404
    assert voices_of(user) == []


async def add(site: httpx.AsyncClient, key: str, files: list, **data) -> httpx.Response:  # noqa: ANN003
    form = {"name": "Cloned me"} | data
    return await site.post("/v1/voices/add", headers={"xi-api-key": key}, data=form,
                           files=[("files", f) for f in files])  # fmt: skip


@pytest.mark.parametrize(
    "files, data, status, fragment",
    [
        ([], {}, 422, "files"),
        ([("a.wav", speechlike(12))], {"name": ""}, 422, "Give the voice a name"),
        ([("a.wav", speechlike(12))], {"labels": "not json"}, 422, "labels"),
        ([("a.txt", b"no audio here" * 100)], {}, 422, "not audio"),
        ([("a.wav", speechlike(4))], {}, 422, "at least 10 s"),
        ([("a.wav", speechlike(4)), ("b.wav", b"no audio here" * 100)], {}, 422, "b.wav: This file is not audio"),
        ([("a.wav", speechlike(100)), ("b.wav", speechlike(100))], {}, 422, "at most 3 minutes"),
    ],
)
async def test_adding_a_voice_checks_before_anything_starts(
    api, files: list, data: dict, status: int, fragment: str,  # noqa: ANN001
) -> None:  # fmt: skip
    site, user, key, _ = api
    resp = await add(site, key, files, **data)
    assert resp.status_code == status and fragment in json.dumps(resp.json()), resp.text
    assert voices_of(user) == []


async def test_adding_a_voice_without_credits_is_402(api) -> None:  # noqa: ANN001
    site, user, key, _ = api
    with session_scope() as s:
        s.execute(update(User).where(User.id == user.id).values(credits=10))
    for files in ([("a.wav", speechlike(12))], [("a.wav", speechlike(6)), ("b.wav", speechlike(6))]):
        resp = await add(site, key, files)
        assert resp.status_code == 402 and resp.json()["detail"]["status"] == "quota_exceeded"
    assert voices_of(user) == []


async def test_added_voice_id_comes_back_while_still_fitting(api, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    site, user, key, _ = api
    monkeypatch.setenv("STUDIO_API_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    resp = await add(site, key, [("one.wav", speechlike(6)), ("two.mp3", speechlike(6))], description="two takes",
                     labels='{"accent": "american", "age": "young"}', remove_background_noise="true")  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["requires_verification"] is False
    [voice] = voices_of(user)
    assert voice.id == body["voice_id"] and voice.name == "Cloned me" and voice.description == "two takes"
    assert voice.labels == {"accent": "american", "age": "young"}
    clip = design_clip(voice.id)
    assert clip.kind is ClipKind.VOICE_DESIGN and clip.settings["source_name"] == "2 samples.wav"
    samples, rate = read_wav(get_store().get_bytes(clip.settings["source_key"]))
    assert rate == 24_000 and abs(len(samples) / rate - 12.3) < 0.01  # joined, 0.3 s apart

    headers = {"xi-api-key": key}
    assert (await site.get(f"/v1/voices/{voice.id}", headers=headers)).json()["status"] == "fitting"
    busy = await site.post(f"/v1/text-to-speech/{voice.id}", json={"text": "Hi."}, headers=headers)
    assert busy.status_code == 409 and "still being made" in busy.json()["detail"]["message"]
    openai = await site.post("/v1/audio/speech", json={"model": "tts-1", "input": "Hi.", "voice": voice.id},
                             headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert openai.status_code == 409 and "still being made" in openai.json()["error"]["message"]

    single = await add(site, key, [("only.wav", speechlike(11))], name="Single")
    assert single.status_code == 200
    only = design_clip(single.json()["voice_id"])
    assert only.settings["source_name"] == "only.wav"
    assert get_store().get_bytes(only.settings["source_key"]) == speechlike(11)  # one file: stored as sent


async def test_a_fit_that_fails_answers_the_error_and_keeps_no_voice(api) -> None:  # noqa: ANN001
    site, user, key, _ = api

    async def fail_the_fit() -> None:
        while True:
            with session_scope() as s:
                clip = s.scalar(select(Clip).where(Clip.user_id == user.id, Clip.kind == ClipKind.VOICE_DESIGN))
            if clip is not None:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        await (await connect()).get_workflow_handle(clip.workflow_id).terminate("the fit broke")

    resp, _ = await asyncio.wait_for(asyncio.gather(add(site, key, [("a.wav", speechlike(12))]), fail_the_fit()), 30)
    assert resp.status_code == 502 and resp.json()["detail"]["message"], resp.text
    assert voices_of(user) == []
    assert uuid.UUID(str(clip_id_of(user)))  # the design clip stays in the history


def clip_id_of(user: User) -> uuid.UUID:
    with session_scope() as s:
        return s.scalar(select(Clip.id).where(Clip.user_id == user.id, Clip.kind == ClipKind.VOICE_DESIGN))
