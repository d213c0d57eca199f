"""Your own voices through the real stack (site, Temporal, the TTS worker's fit, S3, PostgreSQL):
the official ElevenLabs SDK's instant voice clone, unchanged, then speech in that voice; privacy
between users; a refused recording; and a blend made on the site, then spoken.

The fit runs with a token budget (``STUDIO_VOICE_FIT_STEPS=2``, one probe sentence: see
conftest): this checks the path end to end, not the fit's quality (``bench/voice_fit``)."""

import asyncio
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from studio.audio import decode, read_wav, to_wav
from studio.voices import PREVIEW_TEXT
from tests.e2e.conftest import Stack
from tests.e2e.test_api_clients import assert_speech
from tests.e2e.test_tts_e2e import wait_until_finished
from tests.site import create_key, sign_up
from tests.speech import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

HTMX = {"HX-Request": "true"}
MODEL = "kokoro-82m"
SENTENCE = "My own voice can read the morning news to you."
# About fifteen seconds of one speaker: what the clone is fitted to.
READING = (
    "The old lighthouse stood at the edge of the harbour for more than a century. "
    "Every evening the keeper climbed the narrow stairs and lit the great lamp. "
    "Ships far out at sea could see its beam sweeping slowly across the dark water. "
    "In the morning he wrote the weather in a small book and made a pot of tea."
)
FIT_TIMEOUT_S = 900  # a CPU fit, model loading included, on a busy 2-core machine


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workers.gpu_tts.engine import tts_engine

    samples = tts_engine().synthesize(READING, "bm_george")
    assert len(samples) / 24_000 > 12
    path = tmp_path_factory.mktemp("voices") / "george reading.wav"
    path.write_bytes(to_wav(samples, 24_000))
    return path


def new_key(stack: Stack, name: str) -> str:
    async def make() -> str:
        async with httpx.AsyncClient(base_url=stack.site_url, timeout=30) as site:
            await sign_up(site)
            return await create_key(site, name)

    return asyncio.run(make())


def wait_until_fitted(client: ElevenLabs, voice_id: str) -> str:
    """The voice's ``fine_tuning.state`` once it is no longer "fine_tuning" (the add may answer before)."""
    deadline = time.monotonic() + FIT_TIMEOUT_S
    while True:
        state = client.voices.get(voice_id).fine_tuning.state[MODEL]
        if state != "fine_tuning" or time.monotonic() > deadline:
            return state
        time.sleep(2)


def status_of(call) -> int:  # noqa: ANN001
    with pytest.raises(ApiError) as err:
        result = call()
        if not isinstance(result, bytes | dict) and hasattr(result, "__iter__"):
            b"".join(result)
    return err.value.status_code


def test_instant_voice_clone_with_the_official_sdk(stack: Stack, recording: Path) -> None:
    client = ElevenLabs(api_key=new_key(stack, "owner"), base_url=stack.site_url, timeout=300)
    started = time.monotonic()
    with recording.open("rb") as f:
        added = client.voices.ivc.create(name="George, cloned", files=[f], description="e2e",
                                         labels={"accent": "british"})  # fmt: skip
    assert added.requires_verification is False and re.fullmatch(r"[A-Za-z0-9]{20}", added.voice_id)
    voice_id = added.voice_id

    print(f"POST /v1/voices/add answered after {time.monotonic() - started:.0f} s")
    assert wait_until_fitted(client, voice_id) == "fine_tuned"
    print(f"fitted after {time.monotonic() - started:.0f} s")
    voice = client.voices.get(voice_id)
    assert voice.status == "ready"  # the studio's own field beside ElevenLabs' fine_tuning.state
    assert voice.category == "cloned" and voice.name == "George, cloned" and voice.labels == {"accent": "british"}
    assert voice.fine_tuning.state == {MODEL: "fine_tuned"}
    assert "similarity" in voice.fine_tuning.message[MODEL]
    preview = httpx.get(voice.preview_url)
    assert preview.status_code == 200
    samples, rate = decode(preview.content)
    assert len(samples) / rate > 2 and word_error_rate(PREVIEW_TEXT, transcribe(samples, rate)) <= 0.4
    assert voice_id in [v.voice_id for v in client.voices.search(voice_type="personal").voices]

    audio = b"".join(client.text_to_speech.convert(voice_id=voice_id, text=SENTENCE, output_format="mp3_44100_128"))
    assert_speech(audio, SENTENCE, max_wer=0.35)
    history = client.history.list(page_size=1).history[0]
    assert history.voice_id == voice_id and history.voice_name == "George, cloned"

    other = ElevenLabs(api_key=new_key(stack, "other"), base_url=stack.site_url)
    assert status_of(lambda: other.voices.get(voice_id)) == 404
    assert status_of(lambda: other.text_to_speech.convert(voice_id=voice_id, text=SENTENCE)) == 404
    assert status_of(lambda: other.voices.delete(voice_id)) == 404
    assert voice_id not in [v.voice_id for v in other.voices.get_all().voices]

    assert client.voices.delete(voice_id).status == "ok"
    assert status_of(lambda: client.voices.get(voice_id)) == 404
    assert status_of(lambda: client.text_to_speech.convert(voice_id=voice_id, text=SENTENCE)) == 404


def test_a_recording_that_is_not_speech_is_refused_and_refunded(stack: Stack, tmp_path: Path) -> None:
    client = ElevenLabs(api_key=new_key(stack, "tone"), base_url=stack.site_url, timeout=300)
    t = np.arange(15 * 24_000) / 24_000
    tone = tmp_path / "tone.wav"
    tone.write_bytes(to_wav((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24_000))
    before = client.user.get().subscription
    with tone.open("rb") as f, pytest.raises(ApiError) as err:
        client.voices.ivc.create(name="A tone", files=[f])
    assert err.value.status_code == 422 and err.value.body["detail"]["message"], err.value.body
    after = client.user.get().subscription
    assert after.character_limit - after.character_count == before.character_limit - before.character_count
    assert [v.voice_id for v in client.voices.search(voice_type="personal").voices] == []


async def test_a_blend_made_on_the_site_speaks(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=60) as site:
        token = await sign_up(site)
        headers = HTMX | {"X-CSRF-Token": token}
        made = await site.post("/voices/blend", headers=headers, data={
            "name": "Half and half", "blend_voice": ["am_michael", "bf_emma"], "blend_weight": ["50", "50"],
        })  # fmt: skip
        assert made.status_code == 201, made.text
        voice_id = re.search(r'id="voice-([A-Za-z0-9]{20})"', made.text).group(1)

        resp = await site.post("/tts", data={"text": SENTENCE, "voice": voice_id, "speed": "1.0"}, headers=headers)
        assert resp.status_code == 202, resp.text
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        html, stages = await wait_until_finished(site, clip_id, timeout=180)
        assert stages[-1] == "done", html
        wav = await site.get(f"/clips/{clip_id}/audio?format=wav", follow_redirects=True)
        samples, rate = read_wav(wav.content)
        assert word_error_rate(SENTENCE, transcribe(samples, rate)) <= 0.35

        for _ in range(240):  # its preview renders in the background
            status = await site.get(f"/voices/{voice_id}/status", headers=HTMX)
            if "every 2s" not in status.text:
                break
            await asyncio.sleep(0.5)
        assert 'data-state="ready"' in status.text and f'src="/voices/{voice_id}/preview"' in status.text
        preview = await site.get(f"/voices/{voice_id}/preview", follow_redirects=True)
        assert preview.status_code == 200 and len(decode(preview.content)[0]) > 24_000
        stock = await site.get("/voices/af_heart/preview", follow_redirects=True)  # published at the worker's start
        assert stock.status_code == 200 and len(decode(stock.content)[0]) > 24_000
