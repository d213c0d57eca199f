"""Speaker embeddings (resemblyzer's pretrained GE2E encoder, in PyTorch; CUDA when present).

Cosine similarity of these embeddings is how the conversion is tuned and how it is measured.
"""

import threading
import warnings

import numpy as np

_encoder = None
_load_lock = threading.Lock()
_use_lock = threading.Lock()  # one embedding at a time: the model is shared


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def encoder():  # noqa: ANN201
    global _encoder
    with _load_lock:
        if _encoder is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # webrtcvad imports pkg_resources
                from resemblyzer import VoiceEncoder
            _encoder = VoiceEncoder(_device(), verbose=False)
        return _encoder


def embed(samples: np.ndarray, rate: int) -> np.ndarray:
    """A unit-length 256-d embedding of the speaker in ``samples``."""
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(np.asarray(samples, dtype=np.float32), source_sr=rate)
    if len(wav) < rate // 4:
        wav = np.asarray(samples, dtype=np.float32)  # too little left after silence trimming: use as is
    model = encoder()
    with _use_lock:
        return model.embed_utterance(wav)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
