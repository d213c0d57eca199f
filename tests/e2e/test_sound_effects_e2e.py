"""Sound effects through the real stack: the site's form -> gpu-sfx worker -> S3 -> history, the
ElevenLabs SDK's sound generation, and a prompt the engine cannot make (refused, refunded)."""

import re

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from sqlalchemy import select

from studio.audio import decode, read_wav
from studio.db import make_engine
from studio.models import LedgerEntry, LedgerKind
from tests.e2e.conftest import Stack
from tests.e2e.test_tts_e2e import HTMX, wait_until_finished
from tests.site import create_key, sign_up

pytestmark = pytest.mark.e2e


def _ledger(stack: Stack, clip_id: str) -> list[LedgerKind]:
    engine = make_engine(stack.env["STUDIO_DATABASE_URL"])
    with engine.connect() as db:
        kinds = list(
            db.scalars(select(LedgerEntry.kind).where(LedgerEntry.clip_id == clip_id).order_by(LedgerEntry.id))
        )
    engine.dispose()
    return kinds


async def test_generate_two_variations_and_download_them(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site)
        form = {"prompt": "rain on a tin roof with distant thunder", "duration": "4", "influence": "0.5",
                "variations": "2", "seed": "1234"}  # fmt: skip
        resp = await site.post("/sound-effects", data=form, headers=HTMX | {"X-CSRF-Token": token})
        assert resp.status_code == 202, resp.text
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        html, stages = await wait_until_finished(site, clip_id, timeout=120)
        assert stages[-1] == "done", html
        assert "Variation 2" in html and "seed 1234" in html
        assert "made as “" in html and "rain" in html.split("made as “")[1].split("”")[0]
        variations = []
        for v in (1, 2):
            wav = await site.get(f"/clips/{clip_id}/audio?v={v}", follow_redirects=True)
            assert wav.status_code == 200
            variations.append(read_wav(wav.content))
            mp3 = await site.get(f"/clips/{clip_id}/audio?v={v}&format=mp3&download=true", follow_redirects=True)
            assert mp3.status_code == 200 and (mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF)
        assert (await site.get(f"/clips/{clip_id}/audio?v=3")).status_code == 404
    for samples, rate in variations:
        assert rate == 44_100 and abs(len(samples) - 4 * rate) <= 1
        assert 0.01 < np.sqrt(np.mean(samples**2)) and np.max(np.abs(samples)) < 0.95
    assert not np.allclose(variations[0][0], variations[1][0])
    assert _ledger(stack, clip_id) == [LedgerKind.RESERVE, LedgerKind.CHARGE]


@pytest.mark.parametrize("prompt", ["a violin sonata", "creaky door"])  # issue 11: no knock for a creak
async def test_a_prompt_it_cannot_make_fails_clearly_and_is_refunded(stack: Stack, prompt: str) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
        token = await sign_up(site)
        form = {"prompt": prompt, "duration": "3", "influence": "0.3", "variations": "1", "seed": ""}
        resp = await site.post("/sound-effects", data=form, headers=HTMX | {"X-CSRF-Token": token})
        assert resp.status_code == 202, resp.text
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        html, stages = await wait_until_finished(site, clip_id, timeout=120)
        assert stages[-1] == "failed"
        assert "No sound in this engine matches" in html and "refunded" in html
    assert _ledger(stack, clip_id) == [LedgerKind.RESERVE, LedgerKind.REFUND]


async def test_sound_generation_with_the_elevenlabs_sdk(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url) as site:
        await sign_up(site)
        key = await create_key(site, "sfx")
    client = ElevenLabs(api_key=key, base_url=stack.site_url)
    audio = b"".join(
        client.text_to_sound_effects.convert(text="a dog barking twice", duration_seconds=2.0, prompt_influence=0.6)
    )
    samples, rate = decode(audio)
    assert abs(len(samples) / rate - 2.0) < 0.1
    assert np.max(np.abs(samples)) > 0.1
