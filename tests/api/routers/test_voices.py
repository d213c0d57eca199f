"""The voices page in-process: stock voices with previews and filters, blends, fits from a
recording (consent, checks, cancel on delete), rename, delete, the pickers, and privacy: another
user's voice is 404 on every page route, in text to speech, the voice changer and the API.

No GPU workers run here: a voice's design workflow is started on the real Temporal dev server and
stays queued, which is what a fit looks like while it waits for the TTS worker."""

import re
import uuid

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from studio.audio import to_wav
from studio.db import session_scope
from studio.kinds import KINDS
from studio.models import Clip, ClipKind, ClipStatus, CustomVoice, User, VoiceCategory
from studio.settings import get_settings
from studio.storage import get_store, stock_preview_key
from studio.voices import RECIPE_SETTING
from temporal.client import connect
from tests.api.routers.test_clips import user_by_email_fragment
from tests.site import create_key, sign_up

HTMX = {"HX-Request": "true"}
RATE = 24_000


def speechlike(seconds: float) -> bytes:
    """A tone with a syllable-like envelope: decodes, is not silent (the site checks no more)."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 160 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return to_wav(tone.astype(np.float32), RATE)


@pytest.fixture
def roomy(monkeypatch: pytest.MonkeyPatch) -> None:
    """More generations a minute than the default 3 (a blend is admitted like any generation)."""
    monkeypatch.setenv("STUDIO_RATE_LIMIT_PER_MINUTE", "30")
    get_settings.cache_clear()


async def signed_up(site: httpx.AsyncClient) -> tuple[str, User]:
    token = await sign_up(site)
    return token, user_by_email_fragment((await site.get("/tts")).text)


def voices_of(user: User) -> list[CustomVoice]:
    with session_scope() as s:
        return list(s.scalars(select(CustomVoice).where(CustomVoice.user_id == user.id)))


def clips_of(user: User) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Clip).where(Clip.user_id == user.id))


DEFAULT_ROWS = (("af_heart", "60"), ("bf_emma", "40"))


async def blend(site: httpx.AsyncClient, token: str, name: str = "Warm mix", rows: tuple = DEFAULT_ROWS,
                **form) -> httpx.Response:  # noqa: ANN003  # fmt: skip
    data = {"name": name, "blend_voice": [v for v, _ in rows], "blend_weight": [w for _, w in rows]} | form
    return await site.post("/voices/blend", data=data, headers=HTMX | {"X-CSRF-Token": token})


async def fit(site: httpx.AsyncClient, token: str, audio: bytes, consent: str | None = "yes", **form) -> httpx.Response:  # noqa: ANN003
    data = {"name": "My voice", "description": "read aloud"} | ({"consent": consent} if consent else {}) | form
    return await site.post("/voices/fit", data=data, files={"audio": ("me.wav", audio, "audio/wav")},
                           headers=HTMX | {"X-CSRF-Token": token})  # fmt: skip


def new_voice_id(resp: httpx.Response) -> str:
    return re.search(r'id="voice-([A-Za-z0-9]{20})"', resp.text).group(1)


async def test_page_lists_stock_voices_with_previews_and_filters(site: httpx.AsyncClient) -> None:
    await signed_up(site)
    get_store().put_bytes(stock_preview_key("bf_emma", ".mp3"), b"ID3-emma")
    page = await site.get("/voices")
    assert page.status_code == 200
    assert len(re.findall(r'<li class="stock-voice"', page.text)) == 28
    assert page.text.count("Preview not ready") == 27
    assert 'src="/voices/bf_emma/preview"' in page.text
    fit_price = KINDS[ClipKind.VOICE_DESIGN].price({"method": "fit"})
    assert f"Costs <strong data-price>{fit_price:,}</strong> credits" in page.text
    assert f'data-unit-price="{fit_price}"' in page.text  # forms.js keeps "you have" live beside it
    assert 'href="/voices"' in page.text  # the nav link

    link = await site.get("/voices/bf_emma/preview")
    assert link.status_code == 307
    served = await site.get(link.headers["location"])
    assert served.status_code == 200 and served.content == b"ID3-emma"
    assert (await site.get("/voices/af_heart/preview")).status_code == 404  # not rendered yet
    assert (await site.get("/voices/zz_nobody/preview")).status_code == 404

    def shown(html: str) -> list[str]:
        return re.findall(r'<li class="stock-voice" id="stock-(\w+)"[^>]*?(?<!hidden)>', html)

    british_men = (await site.get("/voices", params={"accent": "British", "gender": "Male"})).text
    assert sorted(shown(british_men)) == ["bm_daniel", "bm_fable", "bm_george", "bm_lewis"]
    assert len(re.findall(r'<li class="stock-voice"', british_men)) == 28  # the others are hidden, not gone
    assert shown((await site.get("/voices", params={"q": "EMMA"})).text) == ["bf_emma"]
    nothing = (await site.get("/voices", params={"q": "nobody at all"})).text
    assert shown(nothing) == [] and 'id="no-match" >' in nothing
    assert (await site.get("/voices", params={"accent": "Martian"})).status_code == 200  # ignored


@pytest.mark.parametrize(
    "rows, form, message",
    [
        ((("", "60"), ("", "")), {}, "Choose at least one stock voice"),
        (tuple((v, "10") for v in ("af_heart", "af_bella", "bf_emma", "am_adam", "bm_george", "af_sky")), {},
         "Blend at most 5 voices"),
        ((("af_heart", "sixty"), ("bf_emma", "40")), {}, "positive weight"),
        ((("af_heart", "0"), ("bf_emma", "40")), {}, "positive weight"),
        ((("af_heart", "-5"),), {}, "positive weight"),
        ((("af_heart", "nan"),), {}, "positive weight"),
        ((("af_heart", ""),), {}, "positive weight"),
        ((("af_heart", "50"), ("af_heart", "50")), {}, "each voice once"),
        ((("zz_nobody", "50"),), {}, "Unknown stock voice"),
        ((("af_heart", "60"),), {"name": "   "}, "Give the voice a name"),
        ((("af_heart", "60"),), {"name": "x" * 101}, "the limit is 100"),
    ],
)  # fmt: skip
async def test_bad_blends_get_a_message_and_make_nothing(
    site: httpx.AsyncClient, rows: tuple, form: dict, message: str
) -> None:
    token, user = await signed_up(site)
    resp = await blend(site, token, rows=rows, **form)
    assert resp.status_code == 422 and message in resp.text and 'role="alert"' in resp.text
    assert voices_of(user) == [] and clips_of(user) == 0


async def test_a_blend_is_ready_at_once_and_speaks_in_text_to_speech(site: httpx.AsyncClient, roomy: None) -> None:
    token, user = await signed_up(site)
    resp = await blend(site, token, name="  Warm   mix ", description="for stories")
    assert resp.status_code == 201, resp.text
    assert resp.headers["HX-Retarget"] == "#own-voices" and resp.headers["HX-Reswap"] == "afterbegin"
    voice_id = new_voice_id(resp)
    assert "Warm mix" in resp.text and "60% Heart" in resp.text and "40% Emma" in resp.text
    assert 'id="blend-message" class="form-message" hx-swap-oob="true"' in resp.text  # old message cleared
    [voice] = voices_of(user)
    assert voice.id == voice_id and voice.category is VoiceCategory.BLEND and voice.description == "for stories"
    assert voice.blend == {"af_heart": 0.6, "bf_emma": 0.4} and voice.lang == "en-us"
    with session_scope() as s:
        design = s.get(Clip, voice.design_clip_id)
    assert design.kind is ClipKind.VOICE_DESIGN and design.cost == 0 and design.voice == voice_id
    assert (await (await connect()).get_workflow_handle(design.workflow_id).describe()).workflow_type == "GenerateAudio"

    page = (await site.get("/voices")).text
    assert f'id="voice-{voice_id}"' in page and "Rendering its preview" in page
    status = await site.get(f"/voices/{voice_id}/status", headers=HTMX)
    assert status.status_code == 200 and 'hx-trigger="every 2s"' in status.text  # polls until the preview is made

    tts = (await site.get("/tts")).text
    assert re.search(rf'<optgroup label="Your voices">\s*<option value="{voice_id}"\s*>Warm mix', tts)
    assert tts.index("Your voices") < tts.index('label="American"')
    assert re.search(rf'<option value="{voice_id}" selected>', (await site.get(f"/tts?voice={voice_id}")).text)
    assert f'<option value="{voice_id}"' in (await site.get("/voice-changer")).text

    made = await site.post("/tts", data={"text": "Hello there.", "voice": voice_id, "speed": "1.0"},
                           headers=HTMX | {"X-CSRF-Token": token})  # fmt: skip
    assert made.status_code == 202, made.text
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', made.text).group(1)
    with session_scope() as s:
        clip = s.get(Clip, uuid.UUID(clip_id))
    assert clip.voice == voice_id
    assert clip.settings[RECIPE_SETTING] == {"lang": "en-us", "blend": {"af_heart": 0.6, "bf_emma": 0.4},
                                             "pack_key": None}  # fmt: skip
    assert "Warm mix" in made.text  # the card (and the history) names the voice, not its id


async def test_the_blend_form_works_without_javascript(site: httpx.AsyncClient) -> None:
    token, user = await signed_up(site)
    data = {"name": "Plain", "blend_voice": ["bm_george", "", ""], "blend_weight": ["1", "", ""], "csrf_token": token}
    resp = await site.post("/voices/blend", data=data)
    assert resp.status_code == 303 and resp.headers["location"] == "/voices"
    assert [v.blend for v in voices_of(user)] == [{"bm_george": 1.0}]
    bad = await site.post("/voices/blend", data=data | {"blend_weight": ["x", "", ""]})
    assert bad.status_code == 422 and "<html" in bad.text and "positive weight" in bad.text


async def test_rename_and_delete(site: httpx.AsyncClient, roomy: None) -> None:
    token, user = await signed_up(site)
    voice_id = new_voice_id(await blend(site, token))
    headers = HTMX | {"X-CSRF-Token": token}

    renamed = await site.post(f"/voices/{voice_id}/rename", data={"name": " Bedtime  voice "}, headers=headers)
    assert renamed.status_code == 200 and renamed.headers["HX-Retarget"] == f"#voice-{voice_id}"
    assert "Bedtime voice" in renamed.text and [v.name for v in voices_of(user)] == ["Bedtime voice"]
    empty = await site.post(f"/voices/{voice_id}/rename", data={"name": "  "}, headers=headers)
    assert empty.status_code == 422 and "Give the voice a name" in empty.text
    assert [v.name for v in voices_of(user)] == ["Bedtime voice"]

    deleted = await site.post(f"/voices/{voice_id}/delete", headers=headers)
    assert deleted.status_code == 200 and deleted.headers["HX-Reswap"] == "delete"
    assert voices_of(user) == [] and clips_of(user) == 1  # the design clip stays in the history
    assert (await site.get(f"/voices/{voice_id}/card")).status_code == 404
    assert (await site.post(f"/voices/{voice_id}/delete", headers=headers)).status_code == 404
    tts = await site.post("/tts", data={"text": "Hi.", "voice": voice_id}, headers=headers)
    assert tts.status_code == 404 and "Choose one of the listed voices" in tts.text


async def test_a_fit_needs_consent_and_a_usable_recording(site: httpx.AsyncClient, roomy: None) -> None:
    token, user = await signed_up(site)
    for consent in (None, "no"):
        refused = await fit(site, token, speechlike(12), consent=consent)
        assert refused.status_code == 422 and "right to use" in refused.text and 'role="alert"' in refused.text
    short = await fit(site, token, speechlike(4))
    assert short.status_code == 422 and "at least 10 s" in short.text
    noise = await fit(site, token, b"not audio at all" * 50)
    assert noise.status_code == 422 and "not audio" in noise.text
    unnamed = await fit(site, token, speechlike(12), name=" ")
    assert unnamed.status_code == 422 and "Give the voice a name" in unnamed.text
    headers = HTMX | {"X-CSRF-Token": token}
    missing = await site.post("/voices/fit", data={"name": "x", "consent": "yes"}, headers=headers)
    assert missing.status_code == 422 and "recording" in missing.text
    assert voices_of(user) == [] and clips_of(user) == 0
    assert not list((get_store().root / "uploads").glob("*"))  # nothing kept of refused uploads


async def test_a_fit_starts_shows_its_progress_and_is_cancelled_by_delete(site: httpx.AsyncClient) -> None:
    token, user = await signed_up(site)
    resp = await fit(site, token, speechlike(12))
    assert resp.status_code == 201, resp.text
    voice_id = new_voice_id(resp)
    assert 'data-state="fitting"' in resp.text and f'hx-get="/voices/{voice_id}/status"' in resp.text
    [voice] = voices_of(user)
    assert voice.category is VoiceCategory.CLONED and voice.description == "read aloud"
    with session_scope() as s:
        design = s.get(Clip, voice.design_clip_id)
    assert design.kind is ClipKind.VOICE_DESIGN and design.status is ClipStatus.QUEUED
    assert design.cost == KINDS[ClipKind.VOICE_DESIGN].price({"method": "fit"})
    assert design.settings["source_seconds"] == 12.0 and get_store().exists(design.settings["source_key"])

    history = (await site.get("/history")).text
    assert "Voice design" in history and "fitted to me.wav (12.0 s)" in history
    card = await site.get(f"/voices/{voice_id}/card", headers=HTMX)
    assert card.status_code == 200 and "fitting" in card.text and "Use in text to speech" not in card.text
    assert f'<option value="{voice_id}"' not in (await site.get("/tts")).text  # not ready: not offered
    busy = await site.post("/tts", data={"text": "Hi.", "voice": voice_id}, headers=HTMX | {"X-CSRF-Token": token})
    assert busy.status_code == 409 and "still being made" in busy.text

    deleted = await site.post(f"/voices/{voice_id}/delete", headers=HTMX | {"X-CSRF-Token": token})
    assert deleted.status_code == 200 and voices_of(user) == []
    handle = (await connect()).get_workflow_handle(design.workflow_id)
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED in events


async def test_another_users_voice_is_not_found_anywhere(site: httpx.AsyncClient) -> None:
    token, owner = await signed_up(site)
    voice_id = new_voice_id(await blend(site, token, name="Private"))
    owner_key = await create_key(site, "owner")
    site.cookies.clear()
    token, other = await signed_up(site)
    other_key = await create_key(site, "other")
    headers = HTMX | {"X-CSRF-Token": token}

    for resp in (
        await site.get(f"/voices/{voice_id}/card"),
        await site.get(f"/voices/{voice_id}/status"),
        await site.get(f"/voices/{voice_id}/preview"),
        await site.post(f"/voices/{voice_id}/rename", data={"name": "Mine now"}, headers=headers),
        await site.post(f"/voices/{voice_id}/delete", headers=headers),
        await site.post("/tts", data={"text": "Hi.", "voice": voice_id}, headers=headers),
        await site.post(
            "/voice-changer", data={"voice": voice_id}, files={"audio": ("a.wav", speechlike(2))}, headers=headers
        ),  # fmt: skip
    ):
        assert resp.status_code == 404, (resp.request.url, resp.status_code, resp.text[:300])
    page = (await site.get("/voices")).text
    assert voice_id not in page and "Private" not in page
    assert voice_id not in (await site.get("/tts")).text

    api = {"xi-api-key": other_key}
    for method, path, kwargs in (
        ("GET", f"/v1/voices/{voice_id}", {}),
        ("DELETE", f"/v1/voices/{voice_id}", {}),
        ("POST", f"/v1/voices/{voice_id}/edit", {"data": {"name": "Mine now"}}),
        ("POST", f"/v1/text-to-speech/{voice_id}", {"json": {"text": "Hi."}}),
        ("POST", f"/v1/text-to-speech/{voice_id}/stream", {"json": {"text": "Hi."}}),
    ):
        resp = await site.request(method, path, headers=api, **kwargs)
        assert resp.status_code == 404 and resp.json()["detail"]["status"] == "voice_not_found", (path, resp.text)
    listed = (await site.get("/v1/voices", headers=api)).json()["voices"]
    assert voice_id not in {v["voice_id"] for v in listed}
    openai = await site.post("/v1/audio/speech", json={"model": "tts-1", "input": "Hi.", "voice": voice_id},
                             headers={"Authorization": f"Bearer {other_key}"})  # fmt: skip
    assert openai.status_code == 400 and "Unknown voice" in openai.json()["error"]["message"]

    assert [v.name for v in voices_of(owner)] == ["Private"]  # untouched
    assert (await site.get(f"/v1/voices/{voice_id}", headers={"xi-api-key": owner_key})).status_code == 200
    assert clips_of(other) == 0
