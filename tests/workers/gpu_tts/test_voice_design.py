"""The TTS worker's voice-design step with the real Kokoro: a blend's preview, a fit's refusals of
unusable recordings (non-retryable, so the workflow refunds), and a small real fit."""

import asyncio
import io
import uuid
from pathlib import Path

import numpy as np
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from studio.audio import to_wav
from studio.kinds import ClipKind
from studio.storage import ClipObjects, LocalStore
from studio.voices import PREVIEW_TEXT, RECIPE_SETTING, VoiceRecipe, new_custom_voice_id
from tests.margins import expect
from tests.speech import median_pitch, transcribe, word_error_rate
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.voice_design import load_fitter
from workers.gpu_tts.voice_packs import pack_from_bytes
from workers.gpu_worker import WorkerContext
from workflows.types import GenerateRequest

RATE = 24_000


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


@pytest.fixture
def activities(engine: KokoroEngine, tmp_path: Path) -> TtsActivities:
    store = LocalStore(tmp_path / "objects", "x")
    return TtsActivities(engine, WorkerContext(tmp_path / "spool", "tts@here", store, None))  # type: ignore[arg-type]


def design_request(settings: dict, name: str = "Narrator") -> GenerateRequest:
    clip = str(uuid.uuid4())
    return GenerateRequest(
        clip, "user", ClipKind.VOICE_DESIGN, name, new_custom_voice_id(), settings,
        ClipObjects.for_kind(ClipKind.VOICE_DESIGN, clip, settings),
    )  # fmt: skip


def wav_of(path: Path) -> np.ndarray:
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(path.read_bytes()), dtype="float32")
    assert rate == RATE
    return samples


def test_a_blend_gets_a_preview_in_between_its_voices(
    activities: TtsActivities,
    engine: KokoroEngine,
    record_property,  # noqa: ANN001
) -> None:
    recipe = VoiceRecipe("en-us", blend={"af_heart": 0.5, "am_adam": 0.5})
    req = design_request({"method": "blend", RECIPE_SETTING: recipe.as_settings()})
    result = asyncio.run(ActivityEnvironment().run(activities.design_voice, req))
    assert [a.key for a in result.artifacts] == [req.clip_objects.audio(".wav"), req.clip_objects.audio(".mp3")]
    assert result.details == {} and 3 < result.duration_seconds < 12
    preview = wav_of(activities.ctx.spool_dir / result.artifacts[0].filename)
    expect(record_property, "blend preview WER", word_error_rate(PREVIEW_TEXT, transcribe(preview, RATE)), at_most=0.35)
    pitches = {v: median_pitch(engine.synthesize(PREVIEW_TEXT, v), RATE) for v in ("af_heart", "am_adam")}
    blended = median_pitch(preview, RATE)
    expect(record_property, "blend pitch above the male voice's", blended / pitches["am_adam"], above=1.05)
    expect(record_property, "blend pitch below the female voice's", blended / pitches["af_heart"], below=0.95)


def fit_request(activities: TtsActivities, samples: np.ndarray) -> GenerateRequest:
    req = design_request({"method": "fit", "source_key": "uploads/recording.wav"})
    activities.ctx.store.put_bytes(req.settings["source_key"], to_wav(samples, RATE))
    return req


def refusal(activities: TtsActivities, samples: np.ndarray) -> str:
    with pytest.raises(ApplicationError) as err:
        asyncio.run(ActivityEnvironment().run(activities.design_voice, fit_request(activities, samples)))
    assert err.value.type == "BadInput" and err.value.non_retryable
    return err.value.message


def test_unusable_recordings_are_refused_before_any_fitting(activities: TtsActivities, engine: KokoroEngine) -> None:
    assert "silent" in refusal(activities, np.zeros(15 * RATE, np.float32))
    short = engine.synthesize("Just a few words from me.", "am_michael")
    assert "10" in refusal(activities, short)  # names the minimum
    assert activities.fitting._fitter is None  # refused before the fitter was even loaded


SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
)


@pytest.fixture(scope="module")
def recording(engine: KokoroEngine) -> np.ndarray:
    """About 15 s of one speaker (a stock voice the fit must find its way to)."""
    pause = np.zeros(RATE // 3, np.float32)
    return np.concatenate([np.concatenate([engine.synthesize(s, "am_michael"), pause]) for s in SENTENCES])


@pytest.fixture
def small_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.settings import get_settings

    monkeypatch.setenv("STUDIO_VOICE_FIT_STEPS", "2")
    monkeypatch.setenv("STUDIO_VOICE_FIT_PROBE_SENTENCES", "1")
    # the wiring is under test here, not the fit's quality (tests/workers/gpu_tts/voice_fit/): four
    # stock voices, not rendering all 28 on two CPU cores
    monkeypatch.setenv("STUDIO_VOICE_FIT_BASIS", "am_adam,am_eric,af_heart,bf_emma")
    get_settings.cache_clear()
    load_fitter.cache_clear()
    yield
    get_settings.cache_clear()
    load_fitter.cache_clear()


@pytest.mark.usefixtures("small_fit")
def test_a_fit_stores_its_pack_reports_progress_and_previews_in_the_fitted_voice(
    activities: TtsActivities,
    recording: np.ndarray,
    record_property,  # noqa: ANN001
) -> None:
    beats: list[tuple] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    req = fit_request(activities, recording)
    result = asyncio.run(env.run(activities.design_voice, req))
    pack = pack_from_bytes(activities.ctx.store.get_bytes(req.clip_objects.voice_pack))
    assert pack.shape == (510, 1, 256)
    details = result.details
    assert details["lang"] == "en-us" and details["fit_steps"] == 2
    assert details["similarity"] >= details["start_similarity"] - 1e-6  # the best pack, never worse than its start
    assert {v for v, _ in details["nearest"]} <= {"am_adam", "am_eric", "af_heart", "bf_emma"}
    assert (2, 2) in beats  # "step 2 of 2" reached the heartbeat (and the workflow's progress)
    preview = wav_of(activities.ctx.spool_dir / result.artifacts[0].filename)
    expect(
        record_property, "fitted preview WER", word_error_rate(PREVIEW_TEXT, transcribe(preview, RATE)), at_most=0.35
    )


@pytest.mark.usefixtures("small_fit")
def test_a_cancelled_fit_stops_and_frees_the_fitter(activities: TtsActivities, recording: np.ndarray) -> None:
    env = ActivityEnvironment()
    req = fit_request(activities, recording)

    async def cancel_once_fitting() -> None:
        task = asyncio.ensure_future(env.run(activities.design_voice, req))
        while activities.fitting._fitter is None or not activities.fitting.turn.locked():
            await asyncio.sleep(0.05)
        env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not activities.fitting.turn.locked()

    asyncio.run(cancel_once_fitting())
    assert not activities.ctx.store.exists(req.clip_objects.voice_pack)
