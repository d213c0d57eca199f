"""The two ways to run Kokoro on one utterance or a batch of them.

``OnnxBackend``: the int8 export through onnxruntime, one utterance per pass (fastest on a CPU).
``TorchBackend``: the PyTorch port, one padded pass per batch, on CUDA when there is one.
Both take phoneme ids with their boundary tokens and return, per utterance, float32 samples at
24 kHz and the model's own predicted duration of every token (``Spoken``; ``infer`` is the audio
alone). Durations are in frames of ``SAMPLES_PER_FRAME`` samples and add up to the audio's length:
``timing`` turns them into word and character timestamps.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLES_PER_FRAME = 600  # Kokoro v1.0: one predicted duration frame = 25 ms at 24 kHz
# The int8 export's only output is the audio; its rounded per-token durations (frames, float32,
# [1, tokens]) are this tensor inside the graph, added as a second output when the model loads.
ONNX_DURATIONS = "/encoder/Clip_output_0"


@dataclass
class Utterance:
    """One window of text the engine asks a backend to speak (the batcher's unit of work); the
    PyTorch port takes it as one ``kokoro_torch.BatchRow``."""

    ids: list[int]  # phoneme ids, with the 0 boundary token at both ends
    style: np.ndarray  # [256] voice style for this length
    speed: float = 1.0


@dataclass
class Spoken:
    """What a backend made of one ``Utterance``."""

    audio: np.ndarray  # float32 [samples] at 24 kHz
    durations: np.ndarray  # int64 [len(ids)]: frames per token, boundary tokens included


class OnnxBackend:
    name = "onnx"
    batched = False

    def __init__(self, model_path: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        model = with_durations_output(model_path)
        self.session = ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=providers)
        self.device = "cuda" if "CUDAExecutionProvider" in self.session.get_providers() else "cpu"

    def speak(self, batch: list[Utterance]) -> list[Spoken]:
        out = []
        for u in batch:
            inputs = {
                "tokens": np.array([u.ids], dtype=np.int64),
                "style": np.asarray(u.style, dtype=np.float32).reshape(1, -1),
                "speed": np.array([u.speed], dtype=np.float32),
            }
            audio, durations = self.session.run(None, inputs)
            frames = np.rint(np.asarray(durations, dtype=np.float64).ravel()).astype(np.int64)
            out.append(Spoken(np.asarray(audio, dtype=np.float32).ravel(), frames))
        return out

    def infer(self, batch: list[Utterance]) -> list[np.ndarray]:
        return [s.audio for s in self.speak(batch)]


def with_durations_output(model_path: Path):  # -> onnx.ModelProto
    """The export with its per-token durations (``ONNX_DURATIONS``) as a second output; the audio
    output and every computation are unchanged (tests/workers/gpu_tts/test_timing.py)."""
    import onnx

    model = onnx.load(str(model_path))
    if not any(ONNX_DURATIONS in node.output for node in model.graph.node):
        raise RuntimeError(f"{model_path} has no {ONNX_DURATIONS} tensor: not the Kokoro v1.0 export")
    if ONNX_DURATIONS not in [o.name for o in model.graph.output]:
        model.graph.output.append(onnx.helper.make_tensor_value_info(ONNX_DURATIONS, onnx.TensorProto.FLOAT, None))
    return model


class TorchBackend:
    name = "torch"
    batched = True

    def __init__(
        self, weights: Path, device: str = "cpu", precision: str = "fp32", threads: int = 0, compile: bool = True
    ) -> None:
        import torch

        from workers.gpu_tts.kokoro_torch import fused, load_model

        if threads:
            torch.set_num_threads(threads)
        self.device = device
        self._local = threading.local()
        self.half = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self.model = load_model(weights, device)
        self.compiled = compile and device == "cuda"
        if self.compiled:  # fuse the elementwise norm/activation passes into GPU kernels
            fused.compile()
            try:
                self.warm_up()
            except Exception:  # e.g. no working Triton/compiler here: eager is slower but correct
                log.exception("torch.compile failed; running Kokoro eagerly")
                fused.eager()
                self.compiled = False
        log.info("Kokoro (PyTorch) on %s, %s%s", device, precision, ", compiled" if self.compiled else "")

    def warm_up(self) -> None:
        """Compile every kernel variant now, not on the first requests: one row, a padded batch, and
        a batch of equal rows (nothing to mask)."""
        style = np.zeros(256, dtype=np.float32)
        short, long = (Utterance([0, *range(16, 16 + n), 0], style) for n in (12, 40))
        for rows in ([short], [short, long], [long, long, long]):
            self.infer(rows)

    def speak(self, batch: list[Utterance]) -> list[Spoken]:
        if self.device != "cuda":
            rows = self.model.synthesize(batch, half=self.half)
        else:
            import torch

            stream = getattr(self._local, "stream", None)
            if stream is None:  # one CUDA stream per calling thread, so batches from two threads overlap
                stream = self._local.stream = torch.cuda.Stream()
            with torch.cuda.stream(stream):
                rows = self.model.synthesize(batch, half=self.half)
        return [Spoken(s.audio.numpy(), s.durations.numpy().astype(np.int64)) for s in rows]

    def infer(self, batch: list[Utterance]) -> list[np.ndarray]:
        return [s.audio for s in self.speak(batch)]
