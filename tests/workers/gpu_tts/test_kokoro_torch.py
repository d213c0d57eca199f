"""Kokoro in PyTorch: the ONNX -> state dict converter, parity with the export, batching, and the
engine running on it. All on the CPU (the same code runs on CUDA in bench/kokoro_engine_bench.py).

What parity can promise, and what it cannot: everything up to the decoder's generator is plain
float arithmetic, so durations are identical and the decoder's inputs (aligned text features, F0,
energy) and the generator's input agree with the float-dequantised export to ~1e-6 relative. The
generator then reads the phase of the harmonic excitation's STFT, and where the excitation is
silent (unvoiced sounds: "s", "sh") that phase is numerical noise that differs between CPU code
paths (MKL/oneDNN instruction sets, thread counts, Intel vs AMD). The waveform there is a
different noise of the same spectrum: raw samples differ by 0.11-0.19 relative L2 on one machine
and 0.26 on another, so samples are never compared. What is compared is the log-mel spectrogram
(mean absolute dB over 80 mel bands), which such noise barely moves, with another voice as the
yardstick of a real difference. Figures across CPU code paths: docs/numeric_margins.md
(re-measure with bench/numeric_margins.py).
"""

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.margins import expect
from tests.speech import transcribe, word_error_rate
from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
from workers.gpu_tts.backends import TorchBackend
from workers.gpu_tts.convert import torch_name
from workers.gpu_tts.engine import KokoroEngine, choose_backend
from workers.gpu_tts.kokoro_torch import BatchRow, KokoroModel, load_model
from workers.gpu_tts.onnx_reference import float_model

SENTENCES = [
    ("Hello there.", "am_adam", 1.0),
    ("The quick brown fox jumps over the lazy dog, and then it runs away.", "af_heart", 1.0),
    ("She sells sea shells by the sea shore.", "bf_emma", 1.3),
]

# Activations compared with the export, by their names in its graph.
TAPS = {
    "text": "/encoder/MatMul_1_output_0",  # phoneme features repeated over their frames
    "f0": "/encoder/F0_proj/Conv_output_0",
    "energy": "/encoder/N_proj/Conv_output_0",
    "generator": "/decoder/decoder/decode.3/Div_4_output_0",  # the generator's input
}


def rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _mel_filters(n_fft: int = 1024, n_mels: int = 80, rate: int = 24_000) -> np.ndarray:
    """Triangular filters evenly spaced on the mel scale (HTK formula), [n_mels, n_fft // 2 + 1]."""
    mel = np.linspace(0, 2595 * np.log10(1 + rate / 2 / 700), n_mels + 2)
    edges = 700 * (10 ** (mel / 2595) - 1)
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)


MEL = _mel_filters()


def logmel_db(a: np.ndarray, b: np.ndarray, floor_db: float = 80.0) -> float:
    """Mean absolute difference of log-mel power spectrograms (1024-point STFT, hop 256) in dB over
    the common length, both floored ``floor_db`` below the loudest cell of ``b``."""
    n = min(len(a), len(b))
    window = torch.hann_window(1024)
    db = []
    for x in (a, b):
        spec = torch.stft(torch.from_numpy(np.array(x[:n], np.float32)), 1024, 256, window=window, return_complex=True)
        db.append(10 * np.log10(np.maximum(MEL @ spec.abs().numpy().astype(np.float64) ** 2, 1e-12)))
    floor = db[1].max() - floor_db
    return float(np.mean(np.abs(np.maximum(db[0], floor) - np.maximum(db[1], floor))))


@pytest.fixture(scope="module")
def paths() -> tuple[Path, Path, Path]:
    onnx_model, voices = ensure_assets()
    return onnx_model, voices, ensure_torch_weights(onnx_model)


@pytest.fixture(scope="module")
def model(paths) -> KokoroModel:  # noqa: ANN001
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))  # bench/numeric_margins.py sets 1 or 2
    return load_model(paths[2])


@pytest.fixture(scope="module")
def utterances(paths) -> list[BatchRow]:  # noqa: ANN001
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.engine import vocabulary

    tokenizer = Tokenizer(vocab=vocabulary())
    packs = np.load(paths[1])
    out = []
    for text, voice, speed in SENTENCES:
        tokens = tokenizer.tokenize(tokenizer.phonemize(text, "en-gb" if voice.startswith("b") else "en-us"))
        out.append(BatchRow([0, *tokens, 0], packs[voice][len(tokens) - 1].reshape(-1), speed))
    return out


def test_onnx_names_map_onto_the_module() -> None:
    assert torch_name("/encoder/F0.1/pool/ConvTranspose") == "predictor.F0.1.pool"
    assert torch_name("/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/attention/key_7/MatMul_quant") == (
        "bert.layer.attention.key"
    )
    assert torch_name("/encoder/text_encoder/cnn.2/cnn.2.0/Conv_quant") == "text_encoder.convs.2"
    assert torch_name("encoder.text_encoder.cnn.1.1.gamma") == "text_encoder.norms.1.gamma"
    assert torch_name("decoder.decoder.generator.noise_res.0.alpha2.1") == "decoder.generator.noise_res.0.alpha2.1"


def test_converted_weights_fill_every_tensor_of_the_module(paths) -> None:  # noqa: ANN001
    state = torch.load(paths[2], weights_only=True)
    expected = KokoroModel().state_dict()
    assert set(state) == set(expected)
    assert all(state[k].shape == expected[k].shape for k in expected)
    assert sum(t.numel() for t in state.values()) > 80_000_000  # Kokoro-82M
    assert all(torch.isfinite(t).all() for t in state.values())


class ProbedReference:
    """onnxruntime on the float twin of the export, returning audio, durations and the TAPS."""

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime as ort
        from onnx import TensorProto, helper

        graph = float_model(onnx_path)
        graph.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in TAPS.values())
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # float math as written
        self.session = ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def run(self, u: BatchRow) -> dict[str, np.ndarray]:
        feeds = {
            "tokens": np.array([u.ids], dtype=np.int64),
            "style": np.asarray(u.style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([u.speed], dtype=np.float32),
        }
        audio, durations, *taps = self.session.run(None, feeds)
        out = {k: np.asarray(v)[0] for k, v in zip(TAPS, taps, strict=True)}
        return out | {"audio": np.asarray(audio, np.float32).ravel(), "durations": durations.ravel().astype(np.int64)}


@contextmanager
def tapped(model: KokoroModel):
    """Capture the same activations on the torch side (row 0 of the batch)."""
    seen: dict[str, np.ndarray] = {}

    def decoder_inputs(_module, args) -> None:  # noqa: ANN001
        asr, f0, energy = args[:3]
        seen.update(text=asr[0].numpy(), f0=f0[0].numpy(), energy=energy[0].numpy())

    def generator_input(_module, args) -> None:  # noqa: ANN001
        seen["generator"] = args[0][0].numpy()

    hooks = [
        model.decoder.register_forward_pre_hook(decoder_inputs),
        model.decoder.generator.register_forward_pre_hook(generator_input),
    ]
    try:
        yield seen
    finally:
        for h in hooks:
            h.remove()


@pytest.fixture(scope="module")
def reference(paths) -> ProbedReference:  # noqa: ANN001
    return ProbedReference(paths[0])


def test_parity_with_the_float_onnx_graph(model, utterances, reference, record_property) -> None:  # noqa: ANN001
    """Durations identical; decoder and generator inputs within 1e-4 (measured <= 1.5e-6 on every
    code path); log-mel within 2 dB (measured 0.50-0.70 dB), where the same text in another voice
    is 21 dB away."""
    for u, (_, voice, _) in zip(utterances, SENTENCES, strict=True):
        ref = reference.run(u)
        with tapped(model) as ours:
            synthesis = model.synthesize([u])[0]
        assert np.array_equal(synthesis.durations.numpy(), ref["durations"])
        assert len(synthesis.audio) == len(ref["audio"])
        for name in TAPS:
            assert ours[name].size == ref[name].size, name
            expect(record_property, f"kokoro parity {name} rel [{voice}]", rel(ours[name], ref[name]), below=1e-4)
        expect(record_property, f"kokoro parity log-mel dB [{voice}]", logmel_db(synthesis.audio.numpy(), ref["audio"]),
               below=2.0)  # fmt: skip
    # The measure separates voices: the same text in another voice is far off.
    other = model.synthesize([BatchRow(utterances[1].ids, utterances[0].style, 1.0)])[0]
    expect(record_property, "kokoro parity log-mel dB, another voice",
           logmel_db(other.audio.numpy(), reference.run(utterances[1])["audio"]), above=10.0)  # fmt: skip


def test_a_batch_gives_each_utterance_its_own_audio(model, utterances, record_property) -> None:  # noqa: ANN001
    """Padding changes matrix shapes, so the noise in silent bins (module docstring) differs from
    running alone: durations and lengths are identical, spectra within 1 dB (measured <= 0.012 dB;
    re-drawing every silent bin's phase at random moves it 0.38 dB at most); a row given another
    row's audio would be ~20 dB off."""
    alone = [model.synthesize([u])[0] for u in utterances]
    batched = model.synthesize(list(reversed(utterances)))[::-1]
    for a, b, (_, voice, _) in zip(alone, batched, SENTENCES, strict=True):
        assert torch.equal(a.durations, b.durations)
        assert len(a.audio) == len(b.audio)
        expect(record_property, f"kokoro batched vs alone log-mel dB [{voice}]",
               logmel_db(b.audio.numpy(), a.audio.numpy()), below=1.0)  # fmt: skip


def test_speed_shortens_the_utterance(model, utterances, record_property) -> None:  # noqa: ANN001
    u = utterances[1]
    normal, fast = model.synthesize([u, BatchRow(u.ids, u.style, 1.6)])
    expect(record_property, "kokoro length at speed 1.6 / at 1.0", len(fast.audio) / len(normal.audio), below=0.75)


def test_engine_on_the_torch_backend_speaks_the_words(paths, record_property) -> None:  # noqa: ANN001
    backend = TorchBackend(paths[2], "cpu", "fp32")
    engine = KokoroEngine(backend, paths[1], max_batch=8, window_s=0.0)
    text = "The quick brown fox jumps over the lazy dog."
    audio = engine.synthesize(text, "af_heart")
    wer = word_error_rate(text, transcribe(audio, engine.sample_rate))
    expect(record_property, "kokoro torch engine WER", wer, at_most=0.34)  # measured 2/9: one word of slack


def test_backend_choice() -> None:
    assert choose_backend("auto", "cpu") == ("onnx", "cpu")
    assert choose_backend("auto", "cuda") == ("torch", "cuda")
    assert choose_backend("torch", "cpu") == ("torch", "cpu")
    assert choose_backend("onnx", "cuda") == ("onnx", "cuda")
    engine, device = choose_backend("auto", "auto")
    assert (engine, device) == (("torch", "cuda") if torch.cuda.is_available() else ("onnx", "cpu"))
