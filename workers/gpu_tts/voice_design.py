"""The voice-design step on the TTS worker: fit a user's recording to a Kokoro voice, or render a
blend's preview.

A fit: the recording (from the store) is decoded and checked (one speaker's speech, long enough),
``voice_fit.VoiceFitter`` optimises a style pack through the PyTorch Kokoro (progress "step i of
n, similarity x" reaches the workflow's query; a cancellation stops it within a step), the pack
goes to the store at the clip's ``voice_pack`` key, and the preview sentence spoken in it is the
clip's audio. The fit's figures (similarities, nearest stock voices, the accent it heard) are the
clip's details. A blend needs no fitting: its preview is rendered from the recipe.

One fit at a time per worker (a fit holds the GPU, or every CPU core, for its whole budget); the
fitter and its own Kokoro are loaded on the first fit, not at start-up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time

import numpy as np

from activities.inference import Heartbeat, bad_input, check_request, heartbeating
from studio.kinds import is_fit
from studio.settings import get_settings
from studio.uploads import UnusableAudio, decode_upload
from studio.voices import PREVIEW_TEXT
from workers.gpu_tts.engine import SAMPLE_RATE, KokoroEngine
from workers.gpu_tts.voice_packs import SpeakingVoice, pack_bytes
from workflows.types import GenerateRequest

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 2.0  # a GPU step takes a fraction of a second: report fewer than that
PREVIEW_OWNER = "voice-previews"  # the batcher's turn-taking name for previews


class Fitting:
    """The worker's voice fitter, loaded on first use, used by one fit at a time."""

    def __init__(self, engine: KokoroEngine) -> None:
        self.engine = engine
        self._fitter = None
        self._load_lock = threading.Lock()
        self.turn = asyncio.Lock()  # one fit at a time; others wait (heartbeating) for their turn

    def fitter(self):  # noqa: ANN201 - a voice_fit.VoiceFitter (imported lazily: torch)
        with self._load_lock:
            if self._fitter is None:
                self._fitter = load_fitter(self.engine)
            return self._fitter


@functools.cache  # one per engine, i.e. per process: the stock voices' embeddings are computed once
def load_fitter(engine: KokoroEngine):  # noqa: ANN201
    """A VoiceFitter with its own PyTorch Kokoro on the TTS device (the engine's backend may be
    the ONNX export, and the fit needs gradients and training mode, which a shared model would
    disturb)."""
    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
    from workers.gpu_tts.engine import choose_backend
    from workers.gpu_tts.kokoro_torch import load_model
    from workers.gpu_tts.voice_fit.fitter import VoiceFitter

    cfg = get_settings()
    _, device = choose_backend(cfg.tts_engine, cfg.tts_device)
    model_path, _ = ensure_assets()
    model = load_model(ensure_torch_weights(model_path), device)
    basis = {
        voice: pack for voice, pack in engine.voices.items() if not cfg.voice_fit_basis or voice in cfg.voice_fit_basis
    }
    log.info("voice fitter loaded on %s, %d stock voices", device, len(basis))
    return VoiceFitter(model, basis, engine.token_ids, device)


def fit_budget(device: str):  # noqa: ANN201 - a voice_fit.FitBudget
    """The fitter's budget for this device, with the settings' overrides."""
    from dataclasses import replace

    from workers.gpu_tts.voice_fit.fitter import CPU_BUDGET, GPU_BUDGET

    cfg = get_settings()
    budget = GPU_BUDGET if device == "cuda" else CPU_BUDGET
    if cfg.voice_fit_steps:
        budget = replace(budget, steps=cfg.voice_fit_steps)
    if cfg.voice_fit_probe_sentences:
        budget = replace(budget, probe_sentences=cfg.voice_fit_probe_sentences)
    return budget


class ThrottledProgress:
    """The fitter's per-step callback, reported at most every few seconds (and at the last step)."""

    def __init__(self, beat: Heartbeat) -> None:
        self.beat, self.last = beat, 0.0

    def __call__(self, step: int, total: int, similarity: float) -> None:
        now = time.monotonic()
        if step < total and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        self.beat.progress_from_thread(step, total, f"step {step} of {total}, similarity {similarity:.2f}")


async def recording(store, req: GenerateRequest) -> np.ndarray:  # noqa: ANN001
    """The recording to fit, decoded at Kokoro's rate; raises BadInput when it is not usable."""
    from workers.gpu_tts.voice_fit.recording import check_recording

    data = await asyncio.to_thread(store.get_bytes, req.settings["source_key"])
    try:
        samples = await asyncio.to_thread(decode_upload, data, SAMPLE_RATE)
    except UnusableAudio as exc:
        raise bad_input(str(exc)) from exc
    if message := await asyncio.to_thread(check_recording, samples, SAMPLE_RATE):
        raise bad_input(message)
    return samples


async def fit(fitting: Fitting, samples: np.ndarray, beat: Heartbeat):  # noqa: ANN201 - a FittedVoice
    """Run the fit in a thread; a cancellation of the activity stops it at the next step."""
    from workers.gpu_tts.voice_fit.fitter import FitCancelled

    stop = threading.Event()
    async with fitting.turn:
        fitter = await asyncio.to_thread(fitting.fitter)
        budget = fit_budget(fitter.device.type)
        await beat.progress(0, budget.steps, f"step 0 of {budget.steps}")
        try:
            return await asyncio.to_thread(
                fitter.fit, samples, SAMPLE_RATE, budget, ThrottledProgress(beat), stop.is_set
            )
        except asyncio.CancelledError:
            stop.set()  # the thread stops at its next step; the turn is released now
            raise
        except FitCancelled as exc:  # only ever after stop.set(), i.e. cancelled
            raise asyncio.CancelledError from exc


def fit_details(fitted) -> dict:  # noqa: ANN001 - a FittedVoice
    """What the user sees of a fit (merged into the clip's settings at commit)."""
    return {
        "lang": fitted.lang,
        "similarity": round(float(fitted.similarity), 4),
        "start_similarity": round(float(fitted.start_similarity), 4),
        "nearest": [[voice, round(float(sim), 4)] for voice, sim in fitted.nearest[:3]],
        "start_blend": {voice: round(float(w), 4) for voice, w in fitted.start_blend.items()},
        "fit_steps": int(fitted.steps),
        "fit_seconds": round(float(fitted.seconds), 1),
    }


async def design(activities, fitting: Fitting, req: GenerateRequest) -> tuple[np.ndarray, dict]:  # noqa: ANN001
    """The preview's samples and the details, after fitting (and storing the pack) if asked to."""
    check_request(req)
    store = activities.ctx.store
    async with heartbeating() as beat:
        if is_fit(req.settings):
            samples = await recording(store, req)
            fitted = await fit(fitting, samples, beat)
            key = req.clip_objects.voice_pack
            await asyncio.to_thread(store.put_bytes, key, pack_bytes(fitted.pack))
            activities.packs.forget(key)
            voice, details = SpeakingVoice(fitted.lang, fitted.pack.astype(np.float32)), fit_details(fitted)
        else:
            voice, details = await activities.speaking_voice(req), {}
        preview = await activities.engine.synthesize_async(PREVIEW_TEXT, voice, 1.0, PREVIEW_OWNER)
    return preview, details
