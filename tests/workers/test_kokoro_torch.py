"""Kokoro in PyTorch: the ONNX -> state dict converter, parity with the export, batching, and the
engine running on it. All on the CPU (the same code runs on CUDA in bench/kokoro_engine_bench.py).

Thresholds come from measuring 16 sentences x 8 voices on the CPU (docs/benchmarks.md): durations
identical on all; waveform relative L2 0.08-0.16 and STFT-magnitude relative L2 0.05-0.09 against
the float-dequantised export (the harmonic source's phase in silent bins is numerical noise the
decoder reads, so samples cannot match exactly); batched vs alone below 0.01.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from bench.kokoro_engine_bench import spectral_rel, wave_rel
from tests.speech import transcribe, word_error_rate
from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
from workers.gpu_tts.backends import TorchBackend
from workers.gpu_tts.convert import torch_name
from workers.gpu_tts.engine import KokoroEngine, choose_backend
from workers.gpu_tts.kokoro_torch import KokoroModel, Utterance, load_model
from workers.gpu_tts.onnx_reference import FloatReference

SENTENCES = [
    ("Hello there.", "am_adam", 1.0),
    ("The quick brown fox jumps over the lazy dog, and then it runs away.", "af_heart", 1.0),
    ("She sells sea shells by the sea shore.", "bf_emma", 1.3),
]


@pytest.fixture(scope="module")
def paths() -> tuple[Path, Path, Path]:
    onnx_model, voices = ensure_assets()
    return onnx_model, voices, ensure_torch_weights(onnx_model)


@pytest.fixture(scope="module")
def model(paths) -> KokoroModel:  # noqa: ANN001
    torch.set_num_threads(2)
    return load_model(paths[2])


@pytest.fixture(scope="module")
def utterances(paths) -> list[Utterance]:  # noqa: ANN001
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.engine import vocabulary

    tokenizer = Tokenizer(vocab=vocabulary())
    packs = np.load(paths[1])
    out = []
    for text, voice, speed in SENTENCES:
        tokens = tokenizer.tokenize(tokenizer.phonemize(text, "en-gb" if voice.startswith("b") else "en-us"))
        out.append(Utterance([0, *tokens, 0], packs[voice][len(tokens) - 1].reshape(-1), speed))
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


def test_parity_with_the_float_onnx_graph(paths, model, utterances) -> None:  # noqa: ANN001
    reference = FloatReference(paths[0])
    for u in utterances:
        ref_audio, ref_durations = reference.run(u.ids, u.style, u.speed)
        ours = model.synthesize([u])[0]
        assert np.array_equal(ours.durations.numpy(), ref_durations)
        assert len(ours.audio) == len(ref_audio)
        assert wave_rel(ours.audio.numpy(), ref_audio) < 0.25
        assert spectral_rel(ours.audio.numpy(), ref_audio) < 0.15
    # The measure separates voices: the same text in another voice is far off.
    other = Utterance(utterances[1].ids, utterances[0].style, 1.0)
    assert (
        spectral_rel(
            model.synthesize([other])[0].audio.numpy(), reference.run(utterances[1].ids, utterances[1].style)[0]
        )
        > 0.3
    )


def test_a_batch_gives_each_utterance_its_own_audio(model, utterances) -> None:  # noqa: ANN001
    alone = [model.synthesize([u])[0] for u in utterances]
    batched = model.synthesize(list(reversed(utterances)))[::-1]
    for a, b in zip(alone, batched, strict=True):
        assert torch.equal(a.durations, b.durations)
        assert len(a.audio) == len(b.audio)
        assert wave_rel(b.audio.numpy(), a.audio.numpy()) < 0.03


def test_speed_shortens_the_utterance(model, utterances) -> None:  # noqa: ANN001
    u = utterances[1]
    normal, fast = model.synthesize([u, Utterance(u.ids, u.style, 1.6)])
    assert len(fast.audio) < 0.75 * len(normal.audio)


def test_engine_on_the_torch_backend_speaks_the_words(paths) -> None:  # noqa: ANN001
    backend = TorchBackend(paths[2], "cpu", "fp32")
    engine = KokoroEngine(backend, paths[1], max_batch=8, window_s=0.0)
    text = "The quick brown fox jumps over the lazy dog."
    audio = engine.synthesize(text, "af_heart")
    assert word_error_rate(text, transcribe(audio, engine.sample_rate)) <= 0.3


def test_backend_choice() -> None:
    assert choose_backend("auto", "cpu") == ("onnx", "cpu")
    assert choose_backend("auto", "cuda") == ("torch", "cuda")
    assert choose_backend("torch", "cpu") == ("torch", "cpu")
    assert choose_backend("onnx", "cuda") == ("onnx", "cuda")
    engine, device = choose_backend("auto", "auto")
    assert (engine, device) == (("torch", "cuda") if torch.cuda.is_available() else ("onnx", "cpu"))
