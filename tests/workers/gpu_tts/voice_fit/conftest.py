"""Kokoro on the CPU and a few renders, shared by the voice-fit tests (rendering is their cost).

The "recording" is Kokoro's ``am_michael`` reading five sentences; the fit tests leave that voice
out of the stock voices, so the fit has to find it. ``af_heart`` is a second, clearly different
voice. Renders are reused across tests: a whole folder run is about a minute on 2 cores.
"""

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from workers.gpu_tts.kokoro_torch import KokoroModel

TARGET = "am_michael"
OTHER = "af_heart"
RECORDING_SENTENCES = [
    "The library opens at nine and closes early on Sundays.",
    "We walked along the river until the lights came on.",
    "Could you send me the report before the end of the week?",
    "My grandmother grew tomatoes and beans behind the old house.",
    "The engineer checked every cable twice before the launch!",
]
HELD_OUT_SENTENCES = [
    "The orchestra played until well after midnight.",
    "She found an old photograph hidden inside the book.",
]
RATE = 24_000


@dataclass
class Kokoro:
    model: KokoroModel
    packs: dict[str, np.ndarray]

    def phonemize(self, text: str, lang: str) -> list[int]:
        from kokoro_onnx.tokenizer import Tokenizer

        from workers.gpu_tts.engine import vocabulary

        if not hasattr(self, "_tokenizer"):
            self._tokenizer = Tokenizer(vocab=vocabulary())
        return self._tokenizer.tokenize(self._tokenizer.phonemize(text, lang))

    def render(self, pack: np.ndarray, texts: list[str], lang: str = "en-us") -> list[np.ndarray]:
        """Each text in the voice ``pack`` (one padded batch), 24 kHz float32."""
        from workers.gpu_tts.voice_fit.render import Sentences

        sentences = Sentences([self.phonemize(t, lang) for t in texts], "cpu")
        with torch.no_grad():
            audio, samples, _ = sentences.render(torch.as_tensor(np.asarray(pack)).reshape(1, 510, 256), self.model)
        return [audio[i, : samples[i]].numpy().copy() for i in range(len(texts))]


def joined(clips: list[np.ndarray], gap_s: float = 0.3) -> np.ndarray:
    gap = np.zeros(int(gap_s * RATE), np.float32)
    return np.concatenate([x for c in clips for x in (c, gap)])


@pytest.fixture(scope="session")
def kokoro() -> Kokoro:
    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
    from workers.gpu_tts.kokoro_torch import load_model

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))  # bench/numeric_margins.py sets 1 or 2
    onnx_model, voices = ensure_assets()
    model = load_model(ensure_torch_weights(onnx_model))
    return Kokoro(model, dict(np.load(voices)))


@pytest.fixture(scope="session")
def recording(kokoro: Kokoro) -> np.ndarray:
    """``am_michael`` reading five sentences (~16 s, 24 kHz)."""
    return joined(kokoro.render(kokoro.packs[TARGET], RECORDING_SENTENCES))


@pytest.fixture(scope="session")
def other_voice(kokoro: Kokoro) -> np.ndarray:
    """``af_heart`` reading two of the same sentences (~6 s, 24 kHz)."""
    return joined(kokoro.render(kokoro.packs[OTHER], RECORDING_SENTENCES[:2]))
