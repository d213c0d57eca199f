"""The content encoder's training pieces: generated text, Kokoro-made batches with exact labels,
augmentation that keeps labels aligned, and the mel front end."""

import random

import numpy as np
import pytest
import torch

from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
from workers.gpu_tts.kokoro_torch.model import load_model
from workers.gpu_vc.content import corpus
from workers.gpu_vc.content.augment import augment, resample_rows
from workers.gpu_vc.content.encoder import ContentEncoder, load_encoder, save_encoder
from workers.gpu_vc.content.mel import N_MELS, LogMel
from workers.gpu_vc.content.synth import Corpus, make_batch
from workers.gpu_vc.content.train import losses


def test_generated_sentences_are_reproducible_and_phonemised() -> None:
    words = corpus.dictionary_words(random.Random(0))
    first = [corpus.sentence(random.Random(1), words) for _ in range(3)]
    assert first == [corpus.sentence(random.Random(1), words) for _ in range(3)]
    assert len(words) > 50_000  # the CMU dictionary's plain words
    ids, offsets = corpus.phonemised(first, random.Random(2))
    assert offsets[0] == 0 and offsets[-1] == len(ids) and np.all(np.diff(offsets) > 5)
    assert ids.min() > 0  # no boundary tokens inside a sentence


def test_mel_has_two_frames_per_decoder_frame_and_ignores_the_level() -> None:
    audio = torch.randn(2, 24_000) * torch.linspace(0.2, 1, 24_000)
    samples = torch.tensor([24_000, 18_000])
    mel = LogMel()(audio, samples)
    assert mel.shape == (2, N_MELS, 80)  # 40 decoder frames a second, two mel frames each
    assert mel[1, :, 60:].abs().max() == 0  # padding stays zero
    quieter = LogMel()(audio * 0.05, samples)
    assert torch.allclose(mel, quieter, atol=1e-3)  # per-bin mean removed: the level does not matter


def test_encoder_weights_round_trip(tmp_path) -> None:  # noqa: ANN001
    encoder = ContentEncoder(dim=64, layers=2, heads=2).eval()
    save_encoder(encoder, tmp_path / "e.pt")
    loaded = load_encoder(tmp_path / "e.pt")
    mel, frames = torch.randn(1, N_MELS, 40), torch.tensor([20])
    a, b = encoder(mel, frames), loaded(mel, frames)
    assert a.tokens.shape == (1, 178, 20) and a.f0.shape == (1, 40)
    assert torch.allclose(a.asr, b.asr, atol=0.05)  # float16 storage


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Three short sentences and the English stock packs (the training corpus has all 54)."""
    sentences = ["We sat by the fire.", "Is it cold outside?", "Bring me the map."]
    ids, offsets = corpus.phonemised(sentences, random.Random(0))
    voices = dict(np.load(ensure_assets()[1]))
    names = sorted(voices)[:6]
    rows = np.arange(4, 60, 5)
    path = tmp_path_factory.mktemp("corpus") / "corpus.npz"
    packs = np.stack([voices[n].reshape(-1, 256)[rows] for n in names]).astype(np.float16)
    held_out = np.asarray([i < 2 for i in range(6)])
    np.savez(path, ids=ids, offsets=offsets, voices=np.asarray(names), held_out=held_out, pack_rows=rows, packs=packs)
    return Corpus(path, torch.device("cpu"))


def test_batches_carry_exact_frame_labels_through_augmentation(tiny_corpus: Corpus) -> None:
    torch.manual_seed(0)
    model = load_model(ensure_torch_weights(ensure_assets()[0]))
    gen = torch.Generator().manual_seed(0)
    batch = make_batch(model, tiny_corpus, 2, gen)
    frames = batch.frames
    assert torch.equal(batch.samples, frames * 600)
    assert batch.asr.shape[-1] == int(frames.max()) and batch.f0.shape[-1] == 2 * int(frames.max())
    assert batch.tokens[0, 0] == 0 and batch.tokens[0, frames[0] // 2] > 0  # silence token at the edge, speech inside
    faster = resample_rows(batch, torch.tensor([1.1, 1.0]))
    assert faster.frames[0] == int(frames[0] / 1.1) and faster.frames[1] == frames[1]
    before, after = batch.f0[0, : 2 * frames[0]], faster.f0[0, : 2 * faster.frames[0]]
    assert float(after[after > 10].median()) == pytest.approx(float(before[before > 10].median()) * 1.1, rel=0.05)
    noisy = augment(batch, gen)
    assert noisy.audio.abs().max() <= 1.0 and torch.isfinite(noisy.audio).all()
    assert noisy.tokens.shape[-1] == noisy.asr.shape[-1]
    loss = losses(ContentEncoder(dim=64, layers=1, heads=2), LogMel(), noisy)
    assert all(torch.isfinite(v) for v in loss.values())
