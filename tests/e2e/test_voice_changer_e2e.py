"""Voice changer through the real stack: upload on the site -> gpu-vc worker -> S3 -> history."""

import re

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs

from studio.audio import decode, read_wav, to_wav
from tests.e2e.conftest import Stack
from tests.e2e.test_tts_e2e import wait_until_finished
from tests.site import create_key, sign_up
from tests.speech import median_pitch, transcribe, word_error_rate
from workers.gpu_tts.engine import tts_engine
from workers.gpu_vc import profiles, speaker

pytestmark = pytest.mark.e2e

SENTENCE = "Please bring the blue notebook to the meeting tomorrow morning."


@pytest.fixture(scope="module")
def recording() -> np.ndarray:
    return tts_engine().synthesize(SENTENCE, "am_michael")  # a "user" who is not a studio target


async def test_upload_convert_and_hear_the_target_voice(stack: Stack, recording: np.ndarray) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url, timeout=60) as site:
        token = await sign_up(site)
        resp = await site.post(
            "/voice-changer", data={"voice": "af_heart", "pitch": "0", "formant": "auto"},
            files={"audio": ("michael.wav", to_wav(recording, 24_000), "audio/wav")},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )  # fmt: skip
        assert resp.status_code == 202, resp.text
        clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
        html, stages = await wait_until_finished(site, clip_id, timeout=240)
        assert stages[-1] == "done", html
        wav = await site.get(f"/clips/{clip_id}/audio", follow_redirects=True)
        assert wav.status_code == 200
    converted, rate = read_wav(wav.content)
    assert abs(len(converted) - len(recording)) < 0.05 * rate
    assert word_error_rate(SENTENCE, transcribe(converted, rate)) <= 0.35
    target = profiles.get("af_heart").embedding
    before = speaker.similarity(speaker.embed(recording, rate), target)
    after = speaker.similarity(speaker.embed(converted, rate), target)
    assert after >= before + 0.035
    assert median_pitch(converted, rate) > 1.3 * median_pitch(recording, rate)


async def test_speech_to_speech_with_the_elevenlabs_sdk(stack: Stack, recording: np.ndarray) -> None:
    async with httpx.AsyncClient(base_url=stack.site_url) as site:
        await sign_up(site)
        key = await create_key(site, "sts")
    client = ElevenLabs(api_key=key, base_url=stack.site_url)
    audio = b"".join(
        client.speech_to_speech.convert(
            voice_id="bm_george", audio=("me.wav", to_wav(recording, 24_000), "audio/wav"),
            output_format="mp3_44100_128",
        )
    )  # fmt: skip
    samples, rate = decode(audio)
    assert rate == 44_100
    assert word_error_rate(SENTENCE, transcribe(samples, rate)) <= 0.35
    history = client.history.list().history
    assert history[0].source == "STS"
