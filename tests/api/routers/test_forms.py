"""The generation forms as the server renders them: the price rule the page reprices with, the
counters' limits, "use again" prefill, what the sound-effect engine can make, and error pages."""

import re
import uuid
from html import unescape

import httpx
import pytest

from studio import kinds
from studio.db import session_scope
from studio.kinds import KINDS, ClipKind
from studio.models import Clip, ClipStatus, User, workflow_id_for
from studio.sfx_catalogue import CATEGORIES, EXAMPLES
from tests.api.routers.test_clips import user_by_email_fragment
from tests.site import csrf_from, sign_up

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def user(site: httpx.AsyncClient) -> User:
    await sign_up(site)
    return user_by_email_fragment((await site.get("/tts")).text)


def submit_row(html: str) -> dict[str, str]:
    row = re.search(r'<div class="row actions submit-row"([^>]*)>', html).group(1)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', row))


def price_by_rule(row: dict[str, str], measure: int) -> int:
    """What api/static/forms.js computes from the submit row's attributes."""
    unit = int(row["unit-price"])
    if not row["units-field"]:
        return unit
    return unit * max(1, -(-measure // int(row["units-per"])))


def add_clip(user: User, kind: ClipKind, text: str, voice: str, settings: dict) -> Clip:
    cid = uuid.uuid4()
    with session_scope() as s:
        clip = Clip(
            id=cid, user_id=user.id, kind=kind, text=text, voice=voice, settings=settings,
            status=ClipStatus.SUCCEEDED, cost=50, workflow_id=workflow_id_for(cid), object_key=f"x/{cid}.wav",
        )  # fmt: skip
        s.add(clip)
    return clip


# ---- price as you type, from the server's rule ----


@pytest.mark.parametrize(
    "path, kind, field",
    [("/tts", ClipKind.TTS, ""), ("/voice-changer", ClipKind.VOICE_CONVERSION, ""),
     ("/sound-effects", ClipKind.SOUND_EFFECT, "variations")],
)  # fmt: skip
async def test_the_submit_row_prices_each_request_as_the_server_charges(
    site: httpx.AsyncClient, user: User, path: str, kind: ClipKind, field: str
) -> None:
    page = await site.get(path)
    row = submit_row(page.text)
    assert row["units-field"] == field
    for n in range(1, kinds.MAX_VARIATIONS + 1):
        settings = {field: n} if field else {}
        assert price_by_rule(row, n) == KINDS[kind].price(settings)
    # "you have" starts at the balance and names it for the script to follow the header's #balance
    assert f'data-credits="{user.credits}"' in page.text and 'id="balance"' in page.text
    assert re.search(r"Costs <strong data-price>[\d,]+</strong> credits", page.text)


async def test_a_price_over_the_balance_is_still_refused_by_the_server(site: httpx.AsyncClient, user: User) -> None:
    """The page disables the button when the price is more than the balance; the server still says no."""
    from sqlalchemy import update

    from studio.models import User as UserRow

    with session_scope() as s:
        s.execute(update(UserRow).where(UserRow.id == user.id).values(credits=120))
    page = await site.get("/sound-effects")
    assert 'data-credits="120"' in page.text
    fields = {"prompt": "rain", "duration": "2", "influence": "0.3", "variations": "3", "seed": ""}
    resp = await site.post("/sound-effects", data=fields, headers=HTMX | {"X-CSRF-Token": csrf_from(page.text)})
    assert resp.status_code == 402 and "This costs 150 credits and you have 120" in resp.text


# ---- counters: nothing cut silently; the server's 422 stays ----


async def test_the_text_is_not_cut_by_the_browser_and_an_over_limit_post_is_a_clear_422(
    site: httpx.AsyncClient, user: User
) -> None:
    page = await site.get("/tts")
    area = re.search(r'<textarea id="text"[^>]*>', page.text).group(0)
    assert "maxlength" not in area  # a paste keeps every character; the page counts and explains
    assert 'data-limit="5000"' in area and 'aria-describedby="text-counter text-limit"' in area
    assert re.search(r'id="text-limit"[^>]*aria-live="polite"', page.text)
    resp = await site.post(
        "/tts", data={"text": "x" * 6000, "voice": "af_heart", "speed": "1"},
        headers=HTMX | {"X-CSRF-Token": csrf_from(page.text)},
    )  # fmt: skip
    assert resp.status_code == 422 and "Text is 6000 characters; the limit is 5000." in resp.text


async def test_the_prompt_has_a_counter_at_the_engines_limit(site: httpx.AsyncClient, user: User) -> None:
    page = (await site.get("/sound-effects")).text
    area = re.search(r'<textarea id="prompt"[^>]*>', page).group(0)
    assert "maxlength" not in area and f'data-limit="{kinds.MAX_PROMPT_CHARS}"' in area


async def test_no_inline_scripts_in_the_form_pages(site: httpx.AsyncClient, user: User) -> None:
    """Boosted navigation would re-run them on each visit: behaviour lives in api/static/forms.js."""
    for path in ("/tts", "/voice-changer", "/sound-effects", "/account", "/nowhere"):
        page = (await site.get(path)).text
        main = page[page.index("<main") :]
        assert "<script" not in main, path


# ---- the sound-effects page says what the engine makes before anyone types ----


async def test_examples_and_categories_show_before_typing(site: httpx.AsyncClient, user: User) -> None:
    page = unescape((await site.get("/sound-effects")).text)
    for example in EXAMPLES:
        assert f'data-fill="prompt" data-text="{example.prompt}"' in page
    for category, sounds in CATEGORIES.items():
        assert f"<dt>{category}</dt>" in page
        assert ", ".join(s.label for s in sounds) in page


def test_the_sites_catalogue_matches_the_engine() -> None:
    """studio.sfx_catalogue repeats the engine's sources for the site (which may not import
    workers): every source once, and each example understood as written."""
    from workers.gpu_sfx.engine import ProceduralEngine
    from workers.gpu_sfx.sources import SOURCES

    listed = [s.source for sounds in CATEGORIES.values() for s in sounds]
    assert sorted(listed) == sorted(SOURCES)
    engine = ProceduralEngine()
    for example in EXAMPLES:
        plan = engine.understand(example.prompt)
        assert plan.accepted and tuple(plan.sources) == example.sources, example.prompt


# ---- "use again" ----


def selected(html: str, select_id: str) -> str:
    block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)"\s*selected', block).group(1)


async def test_use_again_fills_the_speech_form(site: httpx.AsyncClient, user: User) -> None:
    clip = add_clip(user, ClipKind.TTS, "Welcome <back> to the studio.", "bf_emma", {"speed": 1.35})
    page = (await site.get(f"/tts?use={clip.id}")).text
    assert ">Welcome &lt;back&gt; to the studio.</textarea>" in page
    assert selected(page, "voice") == "bf_emma"
    assert 'value="1.35"' in page and "1.35×" in page
    assert 'id="char-count">29<' in page


async def test_use_again_fills_the_sound_effect_form(site: httpx.AsyncClient, user: User) -> None:
    settings = {"duration_seconds": 4.5, "prompt_influence": 0.7, "variations": 3, "seed": 1234}
    clip = add_clip(user, ClipKind.SOUND_EFFECT, "rain on a tin roof", "", settings)
    page = (await site.get(f"/sound-effects?use={clip.id}")).text
    assert ">rain on a tin roof</textarea>" in page
    assert re.search(r'id="duration"[^>]*value="4.5"', page) and "4.5 s" in page
    assert re.search(r'id="influence"[^>]*value="0.7"', page) and "0.70" in page
    assert selected(page, "variations") == "3" and 'value="1234"' in page
    price = KINDS[ClipKind.SOUND_EFFECT].price({"variations": 3})
    assert f"Costs <strong data-price>{price}</strong>" in page  # priced for 3 before any script runs


async def test_use_again_fills_the_voice_changer_settings_and_says_the_recording_is_not(
    site: httpx.AsyncClient, user: User
) -> None:
    settings = {"source_name": "me.wav", "pitch": -3.0, "formant": 0.9, "source_key": "uploads/x.wav"}
    clip = add_clip(user, ClipKind.VOICE_CONVERSION, "me.wav", "am_adam", settings)
    page = (await site.get(f"/voice-changer?use={clip.id}")).text
    assert selected(page, "voice") == "am_adam" and selected(page, "formant") == "0.88"
    assert re.search(r'id="pitch"[^>]*value="-3"', page) and ">-3</output>" in page
    assert "me.wav" in page and "a recording cannot be refilled" in page


@pytest.mark.parametrize("path", ["/tts", "/sound-effects", "/voice-changer"])
async def test_use_again_of_a_clip_that_is_not_yours_is_an_empty_form_with_a_note(
    site: httpx.AsyncClient, user: User, path: str
) -> None:
    mine = add_clip(user, ClipKind.TTS, "mine and secret", "af_heart", {"speed": 1.0})
    await sign_up(site)  # someone else
    for use in (str(mine.id), str(uuid.uuid4()), "not-a-uuid"):
        page = await site.get(f"{path}?use={use}")
        assert page.status_code == 200
        assert "is not in your history" in page.text and "mine and secret" not in page.text


async def test_use_again_of_another_kind_is_refused(site: httpx.AsyncClient, user: User) -> None:
    speech = add_clip(user, ClipKind.TTS, "just words", "af_heart", {"speed": 1.0})
    page = (await site.get(f"/sound-effects?use={speech.id}")).text
    assert "is not in your history" in page and "just words" not in page


# ---- error pages ----


async def test_unknown_page_and_wrong_method_answer_html_in_the_layout(site: httpx.AsyncClient, user: User) -> None:
    missing = await site.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text and 'class="email"' in missing.text and 'href="/history"' in missing.text
    assert "Error 404" in missing.text
    wrong = await site.put("/tts")
    assert wrong.status_code == 405 and "Not available at this address" in wrong.text
    assert 'class="email"' in wrong.text and "PUT is not accepted at /tts" in wrong.text
    assert "GET" in wrong.headers.get("allow", "")


async def test_error_pages_without_a_session_have_no_nav_and_api_errors_stay_json(site: httpx.AsyncClient) -> None:
    missing = await site.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert 'class="email"' not in missing.text and 'href="/login"' in missing.text
    api = await site.get("/v1/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
    assert (await site.delete("/v1/models")).headers["content-type"].startswith("application/json")


async def test_an_htmx_error_is_a_fragment_not_a_page(site: httpx.AsyncClient, user: User) -> None:
    token = csrf_from((await site.get("/tts")).text)
    resp = await site.post("/tts", data={"text": " "}, headers=HTMX | {"X-CSRF-Token": token})
    assert resp.status_code == 422 and resp.text.startswith('<div class="alert error"') and "<nav" not in resp.text


async def test_use_again_survives_odd_stored_settings_and_a_voice_now_gone(site: httpx.AsyncClient, user: User) -> None:
    speech = add_clip(user, ClipKind.TTS, "odd speed", "zz_deleted_voice", {"speed": "fast"})
    page = await site.get(f"/tts?use={speech.id}")
    assert page.status_code == 200 and ">odd speed</textarea>" in page.text and 'value="1.0"' in page.text
    assert "no longer available" in page.text and selected(page.text, "voice") == "af_heart"
    sound = add_clip(user, ClipKind.SOUND_EFFECT, "rain", "", {"duration_seconds": "long", "variations": 99})
    page = await site.get(f"/sound-effects?use={sound.id}")
    assert page.status_code == 200 and ">rain</textarea>" in page.text  # the prompt, at least
    assert re.search(rf'id="duration"[^>]*value="{kinds.DEFAULT_SECONDS}"', page.text)


@pytest.mark.usefixtures("studio_env")
async def test_an_unexpected_error_is_a_500_page_in_the_layout_and_json_under_the_api() -> None:
    from api.main import create_app

    app = create_app()

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    app.add_api_route("/v1/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/broken")
        assert page.status_code == 500 and "Something went wrong on our side" in page.text and "a bug" not in page.text
        assert 'href="/login"' in page.text  # the layout, with the way in
        api = await client.get("/v1/broken")
        assert api.status_code == 500 and api.headers["content-type"].startswith("application/json")
