"""ElevenLabs' ``apply_text_normalization``: checked, stored with the clip, and honoured by the TTS
front end (the site's and the websocket's paths share ``normalise.spoken_text``)."""

import httpx
import pytest
from sqlalchemy import select

from studio import kinds
from studio.db import session_scope
from studio.models import Clip, ClipKind, User
from studio.settings import get_settings
from temporal.client import connect
from tests.api.routers.test_clips import user_by_email_fragment
from tests.site import create_key, sign_up
from workers.gpu_tts.activities import validate
from workers.gpu_tts.markup import spoken_text
from workflows.types import GenerateRequest

PRICE = "It costs $5.99 on 12/25/1987."


def test_off_speaks_the_text_as_typed_auto_and_on_normalise() -> None:
    assert spoken_text(PRICE, "us", {kinds.TEXT_NORMALIZATION: "off"}) == PRICE
    for settings in ({}, {kinds.TEXT_NORMALIZATION: "auto"}, {kinds.TEXT_NORMALIZATION: "on"}):
        spoken = spoken_text(PRICE, "us", settings)
        assert "five dollars and ninety-nine cents" in spoken and "$" not in spoken and "/" not in spoken
    # the TTS activity's own check and chunking follow the setting
    off = GenerateRequest("c1", "u1", ClipKind.TTS, PRICE, "af_heart", {kinds.TEXT_NORMALIZATION: "off"})
    assert "".join(validate(off)[0]) == PRICE
    assert kinds.tts_problem(PRICE, "af_heart", 1.0, {kinds.TEXT_NORMALIZATION: "sometimes"}).startswith(
        "apply_text_normalization must be one of auto, on, off"
    )


@pytest.fixture
async def api(site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> tuple[httpx.AsyncClient, User, str]:
    monkeypatch.setenv("STUDIO_API_TIMEOUT_SECONDS", "0.5")  # no TTS worker here: the call gives up at once
    get_settings.cache_clear()
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    return site, user, await create_key(site)


async def test_the_route_checks_and_stores_the_choice(api, temporal_dev: str) -> None:  # noqa: ANN001
    site, user, key = api
    bad = await site.post(
        "/v1/text-to-speech/af_heart", json={"text": PRICE, "apply_text_normalization": "always"},
        headers={"xi-api-key": key},
    )  # fmt: skip
    assert bad.status_code == 422 and "apply_text_normalization" in bad.text
    for mode in ("off", "auto"):
        resp = await site.post(
            "/v1/text-to-speech/af_heart", json={"text": PRICE, "apply_text_normalization": mode},
            headers={"xi-api-key": key},
        )  # fmt: skip
        assert resp.status_code == 504  # admitted and started; no worker answers in this test
    with session_scope() as s:
        clips = list(s.scalars(select(Clip).where(Clip.user_id == user.id).order_by(Clip.created_at)))
    assert [c.settings.get(kinds.TEXT_NORMALIZATION) for c in clips] == ["off", None]  # auto: not stored
    client = await connect()
    for clip in clips:
        await client.get_workflow_handle(clip.workflow_id).terminate("test over")
