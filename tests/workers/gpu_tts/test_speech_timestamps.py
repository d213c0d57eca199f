"""The TTS activity stores a clip's timestamps and captions beside its audio (and each streamed
part's beside the part), with the real Kokoro: every typed character once, in order, inside the audio."""

import asyncio
import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from temporalio.testing import ActivityEnvironment

from studio.audio import read_wav
from studio.kinds import ClipKind
from studio.storage import PART_SAMPLES, ClipObjects, LocalStore
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.chunking import STREAM_RAMP, boundary
from workers.gpu_tts.engine import CHUNK_PAUSE_SECONDS, KokoroEngine, pause_after, tts_engine
from workers.gpu_worker import WorkerContext
from workflows.types import GenerateRequest

TEXT = "Dr. Smith paid $5.99 on 12/25/2024. Then she left, quietly!"


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


def speak(engine: KokoroEngine, tmp_path: Path, settings: dict) -> tuple[TtsActivities, GenerateRequest, list]:
    store = LocalStore(tmp_path / "objects", "x")
    activities = TtsActivities(engine, WorkerContext(tmp_path / "spool", "tts@here", store, None))  # type: ignore[arg-type]
    clip = str(uuid.uuid4())
    req = GenerateRequest(
        clip, "user", ClipKind.TTS, TEXT, "af_heart", settings, ClipObjects.for_kind(ClipKind.TTS, clip, settings)
    )
    result = asyncio.run(ActivityEnvironment().run(activities.synthesize_speech, req))
    return activities, req, result.artifacts


def check_alignment(alignment: dict, text: str, duration: float) -> None:
    chars = alignment["characters"]
    starts, ends = alignment["character_start_times_seconds"], alignment["character_end_times_seconds"]
    assert "".join(chars) == text and len(starts) == len(ends) == len(text)
    assert all(0 <= s <= e <= duration + 1e-3 for s, e in zip(starts, ends, strict=True))
    assert all(a <= b for a, b in zip(starts, starts[1:], strict=False))


def test_a_clip_gets_its_alignments_words_and_captions(engine: KokoroEngine, tmp_path: Path) -> None:
    activities, req, artifacts = speak(engine, tmp_path, {"speed": 1.0})
    objects = req.clip_objects
    assert [a.key for a in artifacts] == objects.all_keys()  # WAV, MP3, JSON, SRT, VTT
    samples, rate = read_wav((activities.ctx.spool_dir / artifacts[0].filename).read_bytes())
    duration = len(samples) / rate
    document = json.loads((activities.ctx.spool_dir / artifacts[2].filename).read_bytes())
    assert abs(document["duration"] - duration) < 0.01
    check_alignment(document["alignment"], TEXT, duration)  # what was typed
    spoken = "".join(document["normalized_alignment"]["characters"])
    assert "dollars" in spoken and "Doctor" in spoken  # what was said
    check_alignment(document["normalized_alignment"], spoken, duration)
    words = document["words"]
    assert [w["word"] for w in words] == TEXT.split()
    assert all(a["end"] <= b["start"] + 1e-3 for a, b in zip(words, words[1:], strict=False))
    srt = (activities.ctx.spool_dir / artifacts[3].filename).read_text()
    vtt = (activities.ctx.spool_dir / artifacts[4].filename).read_text()
    assert srt.startswith("1\n00:00:0") and "$5.99" in srt
    assert vtt.startswith("WEBVTT") and "quietly!" in vtt


def test_each_streamed_part_has_its_own_timestamps(engine: KokoroEngine, tmp_path: Path) -> None:
    activities, req, artifacts = speak(engine, tmp_path, {"speed": 1.0, "stream": True})
    store, objects = activities.ctx.store, req.clip_objects
    texts, audio = [], []
    while store.exists(objects.stream_part(len(texts))):
        samples, rate = read_wav(store.get_bytes(objects.stream_part(len(texts))))
        document = json.loads(store.get_bytes(objects.stream_part(len(texts), ".json")))
        alignment = document["normalized_alignment"]
        assert document[PART_SAMPLES] == len(samples)  # a reader places the part without fetching it
        text = "".join(alignment["characters"])
        check_alignment(alignment, text, len(samples) / rate)
        if texts:  # a later part starts with the pause its predecessor's ending calls for, words after it
            assert alignment["character_start_times_seconds"][0] >= pause_after(texts[-1]) - 0.02
        texts.append(text)
        audio.append(samples)
    # The first words come alone (the first sound waits for them), then a clause, then sentences.
    assert len(texts) >= 3 and len(texts[0]) <= STREAM_RAMP[0] and len(texts[1]) <= STREAM_RAMP[1]
    assert texts[0].startswith("Doctor Smith") and boundary(texts[0]) == "word"
    assert pause_after(texts[0]) == 0.0 and pause_after(texts[-1]) == CHUNK_PAUSE_SECONDS
    whole, _ = read_wav((activities.ctx.spool_dir / artifacts[0].filename).read_bytes())
    joined = np.concatenate(audio)  # the parts are the finished clip, cut (16-bit WAV both ways)
    assert len(joined) == len(whole) and np.abs(joined - whole).max() < 1e-3
