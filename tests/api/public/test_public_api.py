"""The public API in-process: keys, auth, JSON errors, voices/models/user, history and its cursor."""

import httpx
import pytest
from sqlalchemy import select, update

from studio.db import session_scope
from studio.models import Admission, ApiKey, ClipStatus, User
from studio.storage import get_store
from tests.api.routers.test_clips import add_clips, user_by_email_fragment
from tests.site import create_key, csrf_from, sign_up


@pytest.fixture
async def api(site: httpx.AsyncClient) -> tuple[httpx.AsyncClient, User, str]:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    return site, user, await create_key(site)


async def test_keys_are_shown_once_and_stored_hashed(api) -> None:  # noqa: ANN001
    site, user, key = api
    assert key.startswith("sk_studio_") and len(key) > 40
    account = (await site.get("/account")).text
    assert key not in account and key[:14] in account and "laptop" in account
    with session_scope() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.user_id == user.id))
        assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64


async def test_both_header_styles_authenticate(api) -> None:  # noqa: ANN001
    site, user, key = api
    for headers in ({"xi-api-key": key}, {"Authorization": f"Bearer {key}"}):
        resp = await site.get("/v1/user", headers=headers)
        assert resp.status_code == 200
        assert resp.json()["subscription"]["character_limit"] == 10_000


async def test_missing_wrong_and_revoked_keys_get_401_json(api) -> None:  # noqa: ANN001
    site, user, key = api
    site.cookies.clear()  # a browser session is not an API credential
    missing = await site.get("/v1/voices")
    assert missing.status_code == 401 and missing.json()["detail"]["status"] == "needs_authorization"
    wrong = await site.get("/v1/voices", headers={"xi-api-key": "sk_studio_nope"})
    assert wrong.status_code == 401 and "Invalid" in wrong.json()["detail"]["message"]
    openai_style = await site.post("/v1/audio/speech", json={}, headers={"Authorization": "Bearer nope"})
    assert openai_style.status_code == 401 and openai_style.json()["error"]["code"] == "invalid_api_key"
    with session_scope() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.user_id == user.id))
    await sign_up(site)  # another user cannot revoke it
    token = csrf_from((await site.get("/account")).text)
    assert (await site.post(f"/account/keys/{key_id}/revoke", data={"csrf_token": token})).status_code == 404
    with session_scope() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=ApiKey.created_at))
    assert (await site.get("/v1/voices", headers={"xi-api-key": key})).status_code == 401


async def test_revoking_from_the_account_page(api) -> None:  # noqa: ANN001
    site, user, key = api
    with session_scope() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.user_id == user.id))
    token = csrf_from((await site.get("/account")).text)
    resp = await site.post(f"/account/keys/{key_id}/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert resp.status_code == 200 and "revoked" in resp.text
    assert (await site.get("/v1/models", headers={"xi-api-key": key})).status_code == 401


async def test_voices_and_models(api) -> None:  # noqa: ANN001
    site, _, key = api
    voices = (await site.get("/v1/voices", headers={"xi-api-key": key})).json()["voices"]
    assert len(voices) == 28
    heart = next(v for v in voices if v["voice_id"] == "af_heart")
    assert heart["labels"] == {"accent": "american", "gender": "female", "language": "en"}
    models = (await site.get("/v1/models", headers={"xi-api-key": key})).json()
    assert models[0]["model_id"] == "kokoro-82m" and models[0]["can_do_text_to_speech"]
    assert (await site.get("/v1/voices/zz_nobody", headers={"xi-api-key": key})).status_code == 404


@pytest.mark.parametrize(
    "path, body, status, fragment",
    [
        ("/v1/text-to-speech/zz_nobody", {"text": "hi"}, 404, "not found"),
        ("/v1/text-to-speech/af_heart?output_format=mp3_1_1", {"text": "hi"}, 422, "output_format"),
        ("/v1/text-to-speech/af_heart", {"text": "   "}, 422, "Type some text"),
        ("/v1/text-to-speech/af_heart", {"text": "hi", "model_id": "gpt-9"}, 422, "Unknown model_id"),
        ("/v1/text-to-speech/af_heart", {"text": "hi", "voice_settings": {"speed": 5}}, 422, "Speed must be"),
        ("/v1/text-to-speech/af_heart/stream", {"nope": 1}, 422, "text"),
        ("/v1/sound-generation", {"text": "  "}, 422, "Describe the sound"),
        ("/v1/sound-generation", {"text": "rain", "duration_seconds": 40}, 422, "Duration must be"),
        ("/v1/sound-generation", {"text": "rain", "prompt_influence": 2}, 422, "influence"),
    ],
)
async def test_elevenlabs_errors_are_json(api, path: str, body: dict, status: int, fragment: str) -> None:  # noqa: ANN001
    site, user, key = api
    resp = await site.post(path, json=body, headers={"xi-api-key": key})
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert fragment in detail["message"] and detail["status"]


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"model": "tts-1", "input": "hi", "voice": "robot"}, 400, "Unknown voice"),
        ({"model": "dall-e", "input": "hi", "voice": "alloy"}, 400, "Unknown model"),
        ({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "ogg"}, 422, "response_format"),
        ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 3.0}, 422, "Speed must be"),
        ({"model": "tts-1", "input": "", "voice": "alloy"}, 422, "Type some text"),
    ],
)
async def test_openai_errors_are_openai_shaped(api, body: dict, status: int, fragment: str) -> None:  # noqa: ANN001
    site, _, key = api
    resp = await site.post("/v1/audio/speech", json=body, headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == status, resp.text
    assert fragment in resp.json()["error"]["message"]


async def test_no_credits_is_402_and_rate_limit_is_429(api) -> None:  # noqa: ANN001
    site, user, key = api
    with session_scope() as s:
        s.execute(update(User).where(User.id == user.id).values(credits=0))
    resp = await site.post("/v1/text-to-speech/af_heart", json={"text": "hi"}, headers={"xi-api-key": key})
    assert resp.status_code == 402 and resp.json()["detail"]["status"] == "quota_exceeded"
    with session_scope() as s:
        s.add_all(Admission(user_id=user.id) for _ in range(3))  # three generations just now
    resp = await site.post("/v1/text-to-speech/af_heart", json={"text": "hi"}, headers={"xi-api-key": key})
    assert resp.status_code == 429 and "Retry-After" in resp.headers


async def test_history_cursor_get_audio_and_delete(api) -> None:  # noqa: ANN001
    site, user, key = api
    clips = add_clips(user, 5)
    headers = {"xi-api-key": key}
    seen, cursor = [], None
    while True:
        params = {"page_size": 2} | ({"start_after_history_item_id": cursor} if cursor else {})
        page = (await site.get("/v1/history", params=params, headers=headers)).json()
        seen += [item["history_item_id"] for item in page["history"]]
        cursor = page["last_history_item_id"]
        if not page["has_more"]:
            break
    assert seen == [str(c.id) for c in reversed(clips)]  # newest first, each exactly once

    item = (await site.get(f"/v1/history/{clips[0].id}", headers=headers)).json()
    assert item["text"] == "clip number 0" and item["state"] == "created" and item["voice_name"] == "George"
    mp3_key = clips[0].object_key.replace(".wav", ".mp3")
    get_store().put_bytes(mp3_key, b"ID3-fake")
    audio = await site.get(f"/v1/history/{clips[0].id}/audio", headers=headers)
    assert audio.status_code == 200 and audio.content == b"ID3-fake" and audio.headers["content-type"] == "audio/mpeg"

    assert (await site.delete(f"/v1/history/{clips[0].id}", headers=headers)).json() == {"status": "ok"}
    assert (await site.get(f"/v1/history/{clips[0].id}", headers=headers)).status_code == 404
    assert not get_store().exists(mp3_key)

    running = add_clips(user, 1, status=ClipStatus.RUNNING)[0]
    assert (await site.delete(f"/v1/history/{running.id}", headers=headers)).status_code == 409


async def test_another_users_history_is_not_found(api) -> None:  # noqa: ANN001
    site, user, key = api
    clip = add_clips(user, 1)[0]
    await sign_up(site)
    other_key = await create_key(site, "other")
    for method, path in (("GET", f"/v1/history/{clip.id}"), ("GET", f"/v1/history/{clip.id}/audio"),
                         ("DELETE", f"/v1/history/{clip.id}"), ("GET", "/v1/history/not-a-uuid")):  # fmt: skip
        resp = await site.request(method, path, headers={"xi-api-key": other_key})
        assert resp.status_code == 404
    assert (await site.get("/v1/history", headers={"xi-api-key": other_key})).json()["history"] == []


async def test_openapi_document_lists_the_public_routes(site: httpx.AsyncClient) -> None:
    spec = (await site.get("/openapi.json")).json()
    assert "/v1/text-to-speech/{voice_id}" in spec["paths"] and "/v1/audio/speech" in spec["paths"]
    assert "/tts" not in spec["paths"]  # the site's pages are not API
    schemes = spec["components"]["securitySchemes"]
    assert {s.get("name") for s in schemes.values()} >= {"xi-api-key"}
