"""Kokoro-82M inference, loaded once per worker process.

Uses the int8 ONNX export through ``kokoro_onnx`` (onnxruntime picks CUDA when the install
has it, else the CPU). Text in, float32 mono samples at 24 kHz out.
"""

import logging
import threading
from pathlib import Path

import numpy as np

from studio.voices import VOICES

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000
CHUNK_PAUSE_SECONDS = 0.3  # silence between chunks, like a sentence pause


class UnknownVoice(ValueError):
    pass


class KokoroEngine:
    """A loaded Kokoro model plus its English voice packs."""

    sample_rate = SAMPLE_RATE

    def __init__(self, model_path: Path, voices_path: Path, threads: int = 0) -> None:
        import onnxruntime as ort  # heavy imports, only in the worker
        from kokoro_onnx import Kokoro
        from kokoro_onnx.session import resolve_providers

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(model_path), sess_options=options, providers=resolve_providers())
        self._kokoro = Kokoro.from_session(session, str(voices_path))
        self._lock = threading.Lock()  # one inference at a time per session keeps latency predictable
        self.providers = self._kokoro.sess.get_providers()
        log.info("Kokoro loaded from %s on %s", model_path, self.providers)

    @property
    def device(self) -> str:
        return "cuda" if "CUDAExecutionProvider" in self.providers else "cpu"

    def synthesize(self, text: str, voice_id: str, speed: float = 1.0) -> np.ndarray:
        """Speak one chunk of text; returns float32 samples at 24 kHz."""
        voice = VOICES.get(voice_id)
        if voice is None:
            raise UnknownVoice(f"unknown voice {voice_id!r}")
        style = self._kokoro.get_voice_style(voice_id)
        with self._lock:
            audio, _ = self._kokoro.create(text, voice=style, speed=speed, lang=voice.lang)
        return np.asarray(audio, dtype=np.float32)

    @staticmethod
    def pause() -> np.ndarray:
        return np.zeros(int(CHUNK_PAUSE_SECONDS * SAMPLE_RATE), dtype=np.float32)


_engine: KokoroEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> KokoroEngine:
    """The process-wide engine, loaded on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from studio.settings import get_settings
            from workers.gpu_tts.assets import ensure_assets

            model, voices = ensure_assets()
            _engine = KokoroEngine(model, voices, threads=get_settings().tts_threads)
        return _engine
