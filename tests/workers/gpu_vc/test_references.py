"""The voice changer gets its targets' reference speech from the TTS worker, through the object store.

The VC worker never loads the TTS engine: the TTS side renders a reference (here a stand-in engine,
so the tests stay fast), publishes it in a real store, and the VC side reads it back and measures
the profile; a missing reference is asked of the TTS worker through Temporal, or is a clear error.
"""

import ast
import asyncio
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from studio.settings import get_settings
from studio.storage import ObjectStore, get_store
from tests.conftest import API_TEST_NAMESPACE, reset_caches, s3_env
from workers.gpu_tts import vc_references
from workers.gpu_vc import profiles, reference
from workers.gpu_vc.activities import VcActivities
from workers.gpu_worker import WorkerContext

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("kokoro", "kokoro_onnx", "workers.gpu_tts", "onnxruntime", "misaki", "phonemizer")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def test_the_vc_worker_does_not_import_the_tts_engine() -> None:
    code = (
        "import sys, workers.gpu_vc.worker, workers.gpu_vc.engine, workers.gpu_vc.profiles, workers.gpu_vc.activities\n"
        f"print('\\n'.join(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r})))\n"
        "print('workers.gpu_vc.kokoro_engine' if 'workers.gpu_vc.kokoro_engine' in sys.modules else '')"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == []
    # nor later, from inside a function; the Kokoro-decoder engine renders with Kokoro's own model
    # code and assets by design, and is imported only when STUDIO_VC_ENGINE=kokoro chooses it
    for path in (ROOT / "workers" / "gpu_vc").glob("*.py"):
        if path.name == "kokoro_engine.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            assert not [n for n in names if _forbidden(n)], f"{path.name} imports {names}"


class ToneEngine:
    """Stands in for Kokoro: a voiced harmonic tone per text, pitched by the voice."""

    sample_rate = reference.REFERENCE_RATE

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def synthesize(self, text: str, voice: str, speed: float = 1.0, owner: object = None) -> np.ndarray:
        self.calls.append((text, voice))
        t = np.arange(int(self.sample_rate * 1.2)) / self.sample_rate
        f0 = (110 if voice.startswith(("am", "bm")) else 210) * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
        phase = 2 * np.pi * np.cumsum(f0) / self.sample_rate
        tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.hanning(len(t)) ** 0.1
        return (0.3 * tone / np.abs(tone).max()).astype(np.float32)


@pytest.fixture
def vc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh var dir: an empty profile cache and, unless a test points elsewhere, an empty local store."""
    monkeypatch.setenv("STUDIO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_STORAGE_BACKEND", "local")
    monkeypatch.delenv("STUDIO_VC_PROFILE_CACHE", raising=False)
    reset_caches()
    profiles._cache.clear()
    yield tmp_path
    profiles._cache.clear()
    reset_caches()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, vc_env: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    if request.param == "s3":
        for name, value in s3_env(request.getfixturevalue("seaweedfs"), f"vc-{uuid.uuid4().hex[:8]}").items():
            monkeypatch.setenv(name, value)
        reset_caches()
    get_store().ensure_ready()
    return get_store()


def test_published_reference_reads_back_and_measures(store: ObjectStore) -> None:
    engine = ToneEngine()
    assert vc_references.publish(store, lambda: engine, ["af_heart", "am_adam"]) == ["af_heart", "am_adam"]
    assert vc_references.publish(store, lambda: engine, ["af_heart"]) == []  # idempotent: no second render
    assert len(engine.calls) == 2 * len(reference.PROFILE_TEXTS)

    renders, rate = profiles.fetch_reference(store, "af_heart")
    assert rate == reference.REFERENCE_RATE
    expected = [engine.synthesize(text, "af_heart") for text in reference.PROFILE_TEXTS]
    assert all(np.array_equal(r, e) for r, e in zip(renders, expected, strict=True))

    female, male = profiles.get("af_heart"), profiles.get("am_adam")
    assert np.exp(female.stats.lf0_mean) == pytest.approx(210, rel=0.05)
    assert np.exp(male.stats.lf0_mean) == pytest.approx(110, rel=0.05)
    assert female.embedding.shape == male.embedding.shape
    assert profiles.cached("af_heart")  # measured once per machine, under var/vc_profiles


def test_a_missing_reference_is_a_clear_error(vc_env: Path) -> None:
    with pytest.raises(profiles.ProfileNotPublished, match="profile for voice 'bf_emma' is not published yet"):
        profiles.get("bf_emma")
    with pytest.raises(KeyError):
        profiles.get("nobody")


async def test_the_vc_activity_asks_the_tts_worker_for_a_missing_reference(vc_env: Path, temporal_dev: str) -> None:
    store = get_store()
    client = await Client.connect(temporal_dev, namespace=API_TEST_NAMESPACE)
    vc = VcActivities(None, WorkerContext(get_settings().spool_dir / "vc", "unused", store, client))  # type: ignore[arg-type]
    engine = ToneEngine()
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with vc_references.reference_worker(client, engine, store, executor):  # type: ignore[arg-type]
            # two conversions at once share one render
            await asyncio.gather(*(ActivityEnvironment().run(vc.await_reference, "bm_lewis") for _ in range(2)))
            await ActivityEnvironment().run(vc.await_reference, "bm_lewis")  # present: nothing asked
    assert store.exists(reference.reference_key("bm_lewis"))
    assert len(engine.calls) == len(reference.PROFILE_TEXTS)


async def test_without_a_tts_worker_the_wait_ends_in_a_retryable_error(vc_env: Path, temporal_dev: str) -> None:
    client = await Client.connect(temporal_dev, namespace=API_TEST_NAMESPACE)
    vc = VcActivities(None, WorkerContext(get_settings().spool_dir / "vc", "unused", get_store(), client))  # type: ignore[arg-type]
    with pytest.raises(profiles.ProfileNotPublished, match="bf_lily"):
        await ActivityEnvironment().run(vc.await_reference, "bf_lily", None, 1.0)
    await client.get_workflow_handle(reference.publish_workflow_id("bf_lily")).terminate("test over")


class PackToneEngine(ToneEngine):
    """The stand-in with stock packs: a user's voice arrives as the pack its recipe makes."""

    voices = {"am_adam": np.full((510, 1, 256), 1.0, np.float32), "bf_emma": np.full((510, 1, 256), 3.0, np.float32)}

    def synthesize(self, text: str, voice: object, speed: float = 1.0, owner: object = None) -> np.ndarray:
        self.spoken = [*getattr(self, "spoken", []), voice]
        return super().synthesize(text, "am_adam" if float(voice.pack.mean()) < 2 else "af_heart")  # type: ignore[attr-defined]


def test_a_users_own_voice_is_rendered_from_its_recipe(store: ObjectStore) -> None:
    from studio.voices import VoiceRecipe, new_custom_voice_id
    from workers.gpu_tts.voice_packs import SpeakingVoice

    engine = PackToneEngine()
    own = new_custom_voice_id()
    recipe = VoiceRecipe("en-gb", blend={"bf_emma": 0.25, "am_adam": 0.75}).as_settings()
    assert vc_references.publish_one(store, lambda: engine, own, recipe)
    assert store.exists(reference.reference_key(own))
    speaking = engine.spoken[0]
    assert len(engine.spoken) == len(reference.PROFILE_TEXTS) and all(v is speaking for v in engine.spoken)
    assert isinstance(speaking, SpeakingVoice)
    assert speaking.lang == "en-gb" and float(speaking.pack.mean()) == pytest.approx(0.25 * 3 + 0.75 * 1)
    missing = VoiceRecipe("en-us", pack_key="voices/deleted.npy").as_settings()
    with pytest.raises(KeyError):  # the voice was deleted: the worker answers non-retryable
        vc_references.publish_one(store, lambda: engine, new_custom_voice_id(), missing)
