"""History (issue 18): search and filters, "use again", downloads named from the clip in every
format the API offers, waveform thumbnails, durations without fetching audio, and the Temporal
link for operators only. Runs on SQLite and PostgreSQL (the ``db_url`` parameter)."""

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import numpy as np
import pytest

from api.clip_files import WAVEFORM_BARS, ascii_fallback, content_disposition, download_name
from studio.audio import decode, to_wav
from studio.db import session_scope
from studio.models import Clip, ClipKind, ClipStatus, User, workflow_id_for
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from tests.api.routers.test_clips import generate, user_by_email_fragment
from tests.site import sign_up

DAY = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def add_clip(user: User, text: str, kind: ClipKind = ClipKind.TTS, voice: str = "af_heart", minutes: int = 0,
             status: ClipStatus = ClipStatus.SUCCEEDED, **settings) -> Clip:  # fmt: skip  # noqa: ANN003
    cid = uuid.uuid4()
    with session_scope() as s:
        clip = Clip(
            id=cid, user_id=user.id, kind=kind, text=text, voice=voice, settings={"speed": 1.0} | settings,
            status=status, cost=50, workflow_id=workflow_id_for(cid), duration_seconds=83.4,
            object_key=f"{ClipObjects.for_kind(kind, str(cid), settings).audio('.wav')}",
            created_at=DAY + timedelta(minutes=minutes),
        )  # fmt: skip
        s.add(clip)
    return clip


def store_audio(clip: Clip, seconds: float = 1.0, variation: int = 1) -> np.ndarray:
    """A real WAV master: a tone that gets louder, so the waveform's bars rise."""
    t = np.arange(int(24_000 * seconds)) / 24_000
    samples = (np.sin(2 * np.pi * 220 * t) * np.linspace(0.05, 0.9, t.size)).astype(np.float32)
    get_store().put_bytes(ClipObjects.of(clip).audio(".wav", variation), to_wav(samples, 24_000))
    return samples


async def signed_in_user(site: httpx.AsyncClient, email: str | None = None) -> tuple[User, str]:
    token = await sign_up(site, email)
    return user_by_email_fragment((await site.get("/tts")).text), token


def shown(page: str) -> list[str]:
    """The texts of the cards on a page, in order."""
    return [html.unescape(t) for t in re.findall(r'<p class="text"[^>]*>([^<]+?)\s*(?:<|$)', page)]


async def test_search_and_filters_narrow_history_and_the_pager_keeps_them(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    add_clip(user, "Welcome to the studio", minutes=1)
    add_clip(user, "welcome BACK, friend", voice="bm_george", minutes=2)
    add_clip(user, "100% real_data", minutes=3)
    add_clip(user, "rain on a tin roof", kind=ClipKind.SOUND_EFFECT, voice="sfx", minutes=4, duration_seconds=3)
    add_clip(user, "my recording.wav", kind=ClipKind.VOICE_CONVERSION, voice="bm_george", minutes=5)
    for i in range(11):
        add_clip(user, f"welcome number {i}", voice="bf_emma", minutes=10 + i)

    page = (await site.get("/history?q=WELCOME")).text  # case-insensitive, on both databases
    assert "13 clips match" in page and "Page 1 of 2" in page
    assert "/history?q=WELCOME&amp;page=2" in page  # the pager keeps the search
    second = (await site.get("/history?q=WELCOME&page=2")).text
    assert shown(second) == ["welcome number 0", "welcome BACK, friend", "Welcome to the studio"]

    assert shown((await site.get("/history?q=%25")).text) == ["100% real_data"]  # LIKE wildcards are literal
    assert shown((await site.get("/history?q=l_d")).text) == ["100% real_data"]
    assert shown((await site.get("/history?q=_")).text) == ["100% real_data"]

    sfx = (await site.get("/history?kind=sound-effect")).text
    assert "1 clip matches" in sfx and "rain on a tin roof" in sfx and "welcome" not in sfx.lower()
    george = (await site.get("/history?voice=bm_george")).text
    assert sorted(shown(george)) == ["my recording.wav → George (British male)", "welcome BACK, friend"]
    both = (await site.get("/history?voice=bm_george&kind=tts&q=back")).text
    assert shown(both) == ["welcome BACK, friend"]

    # The voice filter offers the voices this user's clips were spoken in, by name.
    assert re.findall(r'<option value="(\w+)"', george.split('id="history-voice"')[1].split("</select>")[0]) == [
        "bf_emma", "bm_george", "af_heart"]  # fmt: skip
    assert 'value="bm_george" selected' in george

    empty = (await site.get("/history?q=nothing+like+this&kind=tts")).text
    assert "No clips match “nothing like this” among speech clips" in empty
    assert 'href="/history" class="clear-filters"' in empty
    assert 'value="nothing like this"' in empty  # the form shows what was searched


async def test_bad_filters_get_a_message(site: httpx.AsyncClient) -> None:
    await signed_in_user(site)
    resp = await site.get("/history?kind=podcast")
    assert resp.status_code == 422 and "no clip kind" in resp.text and "sound-effect" in resp.text
    resp = await site.get("/history", params={"q": "x" * 201})
    assert resp.status_code == 422 and "at most 200 characters" in resp.text


async def test_only_the_owners_clips_are_searched(site: httpx.AsyncClient) -> None:
    other, _ = await signed_in_user(site)
    add_clip(other, "secret welcome")
    site.cookies.clear()
    await signed_in_user(site)
    page = (await site.get("/history?q=welcome")).text
    assert "secret" not in page and "0 clips match" in page


async def test_cards_offer_use_again_duration_downloads_and_no_emoji(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    tts = add_clip(user, "Welcome to the studio")
    sfx = add_clip(user, "rain", kind=ClipKind.SOUND_EFFECT, voice="sfx", minutes=1, variations=2, seed=7)
    vc = add_clip(user, "me.wav", kind=ClipKind.VOICE_CONVERSION, minutes=2)
    design = add_clip(user, "Narrator", kind=ClipKind.VOICE_DESIGN, minutes=3, method="blend")
    page = (await site.get("/history")).text
    assert f'href="/tts?use={tts.id}"' in page
    assert f'href="/sound-effects?use={sfx.id}"' in page
    assert f'href="/voice-changer?use={vc.id}"' in page
    assert f"?use={design.id}" not in page  # a voice is remade on the Voices page
    assert not re.search("[\U0001f300-\U0001faff]", page)  # no emoji glyphs (they render as boxes)

    card = page.split(f'id="clip-{tts.id}"')[1].split("</article>")[0]
    assert '<span class="duration">1:23</span>' in card  # the length from the database, not the player
    assert 'preload="metadata"' in card and 'preload="none"' not in card
    for fmt in ("mp3", "wav", "opus", "flac", "aac", "pcm", "ulaw", "alaw"):
        assert f"/clips/{tts.id}/audio?format={fmt}&amp;download=true" in card
    assert "Captions SRT" in card
    # The playbar's contract: the waveform button and the player say what plays and how to download it.
    assert f'data-play data-src="/clips/{tts.id}/audio" data-title="Heart – Welcome to the studio"' in card
    assert f'data-download="/clips/{tts.id}/audio?format=mp3&amp;download=true"' in card
    assert '<audio controls preload="metadata"' in card and 'data-title="Heart – Welcome to the studio"' in card

    variations = page.split(f'id="clip-{sfx.id}"')[1].split("</article>")[0]
    assert f'src="/clips/{sfx.id}/waveform.svg?v=2"' in variations
    assert f"/clips/{sfx.id}/audio?format=opus&amp;download=true&amp;v=2" in variations
    assert 'data-title="Sound effect – rain (variation 2)"' in variations


def test_download_names_are_made_from_the_clip() -> None:
    assert download_name("2026-11-30", "Heart", "Welcome to the studio", ".mp3") == (
        "2026-11-30 Heart - Welcome to the studio.mp3"
    )
    long = download_name("2026-11-30", "Heart", "A very long text " * 20, ".wav")
    assert long == "2026-11-30 Heart - A very long text A very long text A very long.wav"
    assert download_name("2026-11-30", "Heart", 'a/b\\c: "d" <e>\n\tf?*|', ".mp3") == (
        "2026-11-30 Heart - a b c d e f.mp3"
    )
    assert download_name("2026-11-30", "Sound effect", "...", ".wav", variation=2) == "2026-11-30 Sound effect (2).wav"
    assert ascii_fallback("2026-11-30 Heart - Crème brûlée 東京.mp3") == "2026-11-30 Heart - Creme brulee.mp3"
    assert ascii_fallback("東京.mp3") == "clip.mp3"
    assert content_disposition("plain name.mp3") == 'attachment; filename="plain name.mp3"'
    header = content_disposition("Crème 東京.mp3")
    assert header.startswith("attachment; filename=\"Creme.mp3\"; filename*=UTF-8''")
    assert unquote(header.split("UTF-8''")[1]) == "Crème 東京.mp3"


async def test_stored_downloads_are_named_from_the_clip(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    clip = add_clip(user, "Crème brûlée at the café, please. And more words after that.")
    store_audio(clip)
    get_store().put_bytes(ClipObjects.of(clip).audio(".mp3"), b"ID3-fake-mp3")
    resp = await site.get(f"/clips/{clip.id}/audio?format=mp3&download=true")
    assert resp.status_code == 307
    media = await site.get(resp.headers["location"])
    assert media.content == b"ID3-fake-mp3"
    disposition = media.headers["content-disposition"]
    assert disposition.startswith(
        'attachment; filename="2026-11-30 Heart - Creme brulee at the cafe, please. And more.mp3"'
    )
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        "2026-11-30 Heart - Crème brûlée at the café, please. And more.mp3"
    )
    inline = await site.get((await site.get(f"/clips/{clip.id}/audio")).headers["location"])
    assert inline.status_code == 200 and "content-disposition" not in inline.headers  # playing, not saving

    objects = ClipObjects.of(clip)
    get_store().put_bytes(objects.timing(".srt"), b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    caption = await site.get(f"/clips/{clip.id}/captions?format=srt&download=true")
    media = await site.get(caption.headers["location"])
    assert (
        'filename="2026-11-30 Heart - Creme brulee at the cafe, please. And more.srt"'
        in (media.headers["content-disposition"])
    )


@pytest.mark.parametrize(
    "fmt, media_type, extension, rate",
    [("opus", "audio/ogg", "opus", 48_000), ("flac", "audio/flac", "flac", 24_000), ("aac", "audio/aac", "aac", 24_000),
     ("ulaw", "audio/basic", "ulaw", None), ("pcm", "audio/pcm", "pcm", None)],
)  # fmt: skip
async def test_every_api_format_downloads_from_the_site(
    site: httpx.AsyncClient, fmt: str, media_type: str, extension: str, rate: int | None
) -> None:
    user, _ = await signed_in_user(site)
    clip = add_clip(user, "Welcome to the studio")
    samples = store_audio(clip, seconds=1.0)
    resp = await site.get(f"/clips/{clip.id}/audio?format={fmt}&download=true")
    assert resp.status_code == 200 and resp.headers["content-type"] == media_type
    assert resp.headers["content-disposition"] == (
        f'attachment; filename="2026-11-30 Heart - Welcome to the studio.{extension}"'
    )
    if rate:  # a container FFmpeg can read back: the same second of audio at the format's rate
        decoded, decoded_rate = decode(resp.content)
        assert decoded_rate == rate and abs(decoded.size / rate - 1.0) < 0.1  # AAC adds a frame of priming
    elif fmt == "pcm":  # raw 16-bit at the clip's own rate
        assert len(resp.content) == 2 * samples.size
    else:  # μ-law: one byte a sample at 8 kHz
        assert abs(len(resp.content) - 8_000) < 100
    # Encoded once, then kept beside the clip: the second answer is the stored file.
    key = ClipObjects.of(clip).derived(f"{clip.id}.{extension}")
    assert get_store().get_bytes(key) == resp.content
    assert (await site.get(f"/clips/{clip.id}/audio?format={fmt}")).content == resp.content


async def test_bad_formats_and_missing_audio_are_4xx(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    clip = add_clip(user, "Welcome")
    resp = await site.get(f"/clips/{clip.id}/audio?format=ogg")
    assert resp.status_code == 422 and "no audio format 'ogg'" in html.unescape(resp.text) and "opus" in resp.text
    assert (await site.get(f"/clips/{clip.id}/audio?format=flac")).status_code == 404  # no WAV stored
    assert (await site.get(f"/clips/{clip.id}/audio?format=flac&v=2")).status_code == 404
    running = add_clip(user, "Not yet", status=ClipStatus.RUNNING)
    assert (await site.get(f"/clips/{running.id}/audio?format=opus")).status_code == 404
    assert (await site.get(f"/clips/{running.id}/waveform.svg")).status_code == 404


async def test_waveform_is_computed_once_and_cached(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    clip = add_clip(user, "Welcome to the studio")
    store_audio(clip)
    resp = await site.get(f"/clips/{clip.id}/waveform.svg")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert "immutable" in resp.headers["cache-control"]
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', resp.text)]
    assert len(heights) == WAVEFORM_BARS
    assert heights[-1] > 3 * heights[0]  # the tone gets louder: so do the bars
    again = await site.get(f"/clips/{clip.id}/waveform.svg", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304

    # The peaks are kept beside the clip: the picture no longer needs the audio ...
    keys = [k for k in (get_store().root / "tts" / str(clip.id) / "derived").iterdir()]
    assert [k.name for k in keys] == [f"{clip.id}.peaks-v1.json"]
    get_store().put_bytes(ClipObjects.of(clip).audio(".wav"), to_wav(np.zeros(24_000, np.float32), 24_000))
    assert (await site.get(f"/clips/{clip.id}/waveform.svg")).text == resp.text
    # ... and go with it when the clip is deleted.
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await site.get("/history")).text).group(1)
    assert (await site.post(f"/clips/{clip.id}/delete", headers={"X-CSRF-Token": token})).status_code == 200
    assert not any(p.is_file() for p in (get_store().root / "tts").rglob("*"))

    site.cookies.clear()
    await signed_in_user(site)
    assert (await site.get(f"/clips/{clip.id}/waveform.svg")).status_code == 404


async def test_unreadable_audio_gets_no_waveform_and_no_500(site: httpx.AsyncClient) -> None:
    user, _ = await signed_in_user(site)
    clip = add_clip(user, "Welcome")
    get_store().put_bytes(clip.object_key, b"RIFF-not-really")
    resp = await site.get(f"/clips/{clip.id}/waveform.svg")
    assert resp.status_code == 404 and "could not be read" in resp.text


async def test_the_temporal_link_is_for_operators_only(
    site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = f"Ops-{uuid.uuid4().hex[:6]}@Example.com"
    monkeypatch.setenv("STUDIO_OPERATOR_EMAILS", f" someone@else.org , {operator.upper()}")
    get_settings.cache_clear()

    user, token = await signed_in_user(site)
    add_clip(user, "A user's clip")
    assert "/workflows/clip-" not in (await site.get("/history")).text
    live = await generate(site, token)
    assert live.status_code == 202 and "Workflow in Temporal" not in live.text

    site.cookies.clear()
    ops, token = await signed_in_user(site, operator.lower())
    clip = add_clip(ops, "An operator's clip")
    page = (await site.get("/history")).text
    assert f'href="{get_settings().temporal_ui_url}/namespaces/' in page and f"/workflows/clip-{clip.id}" in page
    live = await generate(site, token)
    assert "Workflow in Temporal" in live.text
