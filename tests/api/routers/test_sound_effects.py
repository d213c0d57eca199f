"""Sound effects from the site: settings checked before anything starts, priced per variation."""

import re
import uuid

import httpx
import pytest
from sqlalchemy import update

from studio.db import session_scope
from studio.models import Clip, ClipKind, User
from tests.api.routers.test_clips import clip_count, user_by_email_fragment
from tests.site import sign_up

HTMX = {"HX-Request": "true"}


async def generate(site: httpx.AsyncClient, token: str, **form: str) -> httpx.Response:
    fields = {"prompt": "rain on a tin roof", "duration": "5", "influence": "0.4", "variations": "2", "seed": ""}
    return await site.post("/sound-effects", data=fields | form, headers=HTMX | {"X-CSRF-Token": token})


async def test_page_renders_with_its_controls(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    page = await site.get("/sound-effects")
    assert page.status_code == 200
    for control in ('name="prompt"', 'name="duration"', 'name="influence"', 'name="variations"', 'name="seed"'):
        assert control in page.text
    assert 'max="22.0"' in page.text and 'href="/sound-effects"' in page.text


async def test_a_request_is_recorded_with_its_settings_and_priced_per_variation(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    resp = await generate(site, token, seed="42", variations="3")
    assert resp.status_code == 202, resp.text
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
    with session_scope() as s:
        clip = s.get(Clip, uuid.UUID(clip_id))
    assert clip.kind == ClipKind.SOUND_EFFECT and clip.text == "rain on a tin roof" and clip.cost == 150
    assert clip.settings == {
        "duration_seconds": 5.0, "prompt_influence": 0.4, "variations": 3, "seed": 42,
    }  # fmt: skip
    assert '<p class="text">rain on a tin roof <span class="settings">' in resp.text  # no emoji: a kind label


async def test_without_a_seed_one_is_chosen_and_shown(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    resp = await generate(site, token)
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
    with session_scope() as s:
        seed = s.get(Clip, uuid.UUID(clip_id)).settings["seed"]
    assert 0 <= seed < 2**32 and f"seed {seed}" in resp.text


@pytest.mark.parametrize(
    "form, message",
    [
        ({"prompt": "   "}, "Describe the sound you want"),
        ({"prompt": "x" * 500}, "the limit is 450"),
        ({"duration": "0.2"}, "Duration must be between 0.5 and 22"),
        ({"duration": "23"}, "Duration must be between 0.5 and 22"),
        ({"influence": "1.5"}, "Prompt influence must be between 0 and 1"),
        ({"variations": "5"}, "Variations must be between 1 and 4"),
        ({"seed": "abc"}, "The seed must be a whole number"),
        ({"seed": "99999999999"}, "The seed must be a whole number from 0"),
    ],
)
async def test_bad_settings_get_a_message_and_start_nothing(site: httpx.AsyncClient, form: dict, message: str) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/sound-effects")).text)
    before = clip_count(user)
    resp = await generate(site, token, **form)
    assert resp.status_code == 422 and message in resp.text, resp.text
    assert clip_count(user) == before


async def test_not_enough_credits_for_all_variations(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/sound-effects")).text)
    with session_scope() as s:
        s.execute(update(User).where(User.id == user.id).values(credits=120))
    resp = await generate(site, token, variations="3")
    assert resp.status_code == 402 and "This costs 150 credits and you have 120" in resp.text
