"""The official ElevenLabs and OpenAI Python SDKs, pointed at the live studio, just work."""

import time

import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from openai import OpenAI

from studio.audio import decode
from tests.e2e.conftest import Stack
from tests.speech import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

SENTENCE = "Existing clients can talk to this studio without any changes."
LONG = " ".join(
    [
        "The first sentence arrives quickly.",
        "Then the studio keeps speaking while the rest is still being made.",
        "A streaming client can start playing before the whole text is finished.",
        "That is what makes long answers feel fast.",
    ]
)


def assert_speech(audio: bytes, text: str, max_wer: float = 0.3, rate: int | None = None) -> np.ndarray:
    samples, decoded_rate = decode(audio) if rate is None else (np.frombuffer(audio, "<i2") / 32768, rate)
    heard = transcribe(samples.astype(np.float32), decoded_rate)
    assert word_error_rate(text, heard) <= max_wer, heard
    return samples


def test_elevenlabs_sdk(stack: Stack, api_key: str) -> None:
    client = ElevenLabs(api_key=api_key, base_url=stack.site_url)
    voices = client.voices.get_all().voices
    assert {v.voice_id for v in voices} >= {"af_heart", "am_michael", "bm_george"}
    found = client.voices.search(search="george").voices
    assert [v.voice_id for v in found] == ["bm_george"]
    assert client.models.list()[0].model_id == "kokoro-82m"
    assert client.user.get().subscription.character_limit == 10_000

    audio = b"".join(
        client.text_to_speech.convert(
            voice_id="am_michael", text=SENTENCE, model_id="eleven_multilingual_v2", output_format="mp3_44100_128"
        )
    )
    samples, rate = decode(audio)
    assert rate == 44_100
    assert_speech(audio, SENTENCE)

    arrivals, chunks, start = [], [], time.monotonic()
    for chunk in client.text_to_speech.stream(voice_id="af_heart", text=LONG, output_format="pcm_24000"):
        arrivals.append(time.monotonic() - start)
        chunks.append(chunk)
    pcm = b"".join(chunks)
    assert len(pcm) % 2 == 0 and len(pcm) / 2 / 24_000 > 5
    assert_speech(pcm, LONG, max_wer=0.35, rate=24_000)
    assert arrivals[0] < 0.8 * arrivals[-1], arrivals  # sound started before synthesis ended

    history = client.history.list(page_size=10).history
    assert [h.text for h in history[:2]] == [LONG, SENTENCE]
    item = client.history.get(history_item_id=history[1].history_item_id)
    assert item.voice_id == "am_michael"
    stored = b"".join(client.history.get_audio(history_item_id=item.history_item_id))
    assert_speech(stored, SENTENCE)
    assert client.history.delete(history_item_id=item.history_item_id).status == "ok"
    remaining = [h.history_item_id for h in client.history.list(page_size=10).history]
    assert item.history_item_id not in remaining


def test_openai_sdk(stack: Stack, api_key: str) -> None:
    client = OpenAI(api_key=api_key, base_url=f"{stack.site_url}/v1")
    wav = client.audio.speech.create(model="tts-1", voice="onyx", input=SENTENCE, response_format="wav")
    samples = assert_speech(wav.content, SENTENCE)
    assert wav.content[:4] == b"RIFF" and len(samples) / 24_000 > 2

    chunks = []
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=LONG, response_format="mp3"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        for chunk in response.iter_bytes():
            chunks.append(chunk)
    assert len(chunks) > 1
    assert_speech(b"".join(chunks), LONG, max_wer=0.35)

    for fmt in ("opus", "flac", "aac"):
        audio = client.audio.speech.create(model="tts-1", voice="af_sky", input="Format check.", response_format=fmt)
        samples, rate = decode(audio.content)
        assert rate in (24_000, 48_000) and len(samples) / rate > 0.5


def check_alignment(alignment, text: str, duration: float) -> None:  # noqa: ANN001 - the SDK's model
    """What the peers' bug reports were about: never empty or null, every character once and in
    order, times monotonic and inside the audio."""
    assert alignment is not None and "".join(alignment.characters) == text
    starts, ends = alignment.character_start_times_seconds, alignment.character_end_times_seconds
    assert len(starts) == len(ends) == len(text)
    assert all(0 <= s <= e <= duration + 0.05 for s, e in zip(starts, ends, strict=True))
    assert all(a <= b for a, b in zip(starts, starts[1:], strict=False))


def test_elevenlabs_sdk_timestamps(stack: Stack, api_key: str) -> None:
    import base64

    client = ElevenLabs(api_key=api_key, base_url=stack.site_url)
    text = "It costs $5.99, Dr. Smith said."
    whole = client.text_to_speech.convert_with_timestamps(voice_id="af_heart", text=text, output_format="pcm_24000")
    heard = "it costs five dollars ninety nine doctor smith said"
    samples = assert_speech(base64.b64decode(whole.audio_base_64), heard, max_wer=0.34, rate=24_000)
    duration = len(samples) / 24_000
    check_alignment(whole.alignment, text, duration)
    spoken = "".join(whole.normalized_alignment.characters)
    assert "five dollars" in spoken
    check_alignment(whole.normalized_alignment, spoken, duration)

    chunks = list(
        client.text_to_speech.stream_with_timestamps(voice_id="af_heart", text=LONG, output_format="pcm_24000")
    )
    audio = b"".join(base64.b64decode(c.audio_base_64) for c in chunks if c.audio_base_64)
    streamed = [c.normalized_alignment for c in chunks if c.normalized_alignment is not None]
    assert len(streamed) >= 2  # a sentence at a time
    assert_speech(audio, LONG, rate=24_000)
    starts = [t for a in streamed for t in a.character_start_times_seconds]
    assert all(a <= b for a, b in zip(starts, starts[1:], strict=False))  # counted from the start of the clip
    assert starts[-1] <= len(audio) / 2 / 24_000
    assert " ".join("".join(a.characters) for a in streamed).split() == LONG.split()


def test_openai_sdk_server_sent_events(stack: Stack, api_key: str) -> None:
    """What LiveKit's OpenAI TTS plugin asks for: ``stream_format: "sse"``, one delta per sentence."""
    import base64
    import json

    client = OpenAI(api_key=api_key, base_url=f"{stack.site_url}/v1")
    events = []
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=LONG, response_format="pcm", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: ") :]) for line in response.iter_lines() if line.startswith("data: ")]
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) >= 2 and events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["input_tokens"] == len(LONG)
    assert_speech(b"".join(base64.b64decode(e["audio"]) for e in deltas), LONG, max_wer=0.35, rate=24_000)
