"""Phonemised benchmark inputs for the Kokoro engine benchmarks, saved as one .npz.

The GPU machine has PyTorch and onnx but not espeak or kokoro-onnx, so sentences are turned into
phoneme ids and voice styles here and the file travels with the benchmark.

    .venv/bin/python -m bench.kokoro_inputs [--out var/bench/kokoro_inputs.npz]
"""

import argparse
from pathlib import Path

import numpy as np

# One-sentence requests of everyday lengths (3-25 words), the shape of most TTS traffic.
SENTENCES = [
    "Hello there.",
    "Your order has shipped.",
    "Please hold while I connect you.",
    "The meeting starts at half past nine tomorrow.",
    "Turn left at the next intersection, then keep right.",
    "The quick brown fox jumps over the lazy dog, and then it runs away.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Every clip you make is saved in your history, ready to replay or download.",
    "The studio turns your words into speech in a moment, in any of its voices.",
    "Rain is expected in the afternoon, so bring an umbrella if you are heading out.",
    "Long texts are split at sentence boundaries and joined with short pauses, so they sound natural.",
    "Thank you for calling; all of our agents are busy, but your call is important to us.",
    "In the beginning the universe was created, which made a lot of people very angry.",
    "A journey of a thousand miles begins with a single step, or so the old saying goes.",
    "The train to the city centre departs from platform four in about seven minutes.",
    "Scientists have discovered a new species of frog deep in the rainforest of Borneo.",
]
VOICES = ["af_heart", "am_adam", "bf_emma", "bm_george", "af_bella", "am_michael", "af_nicole", "bm_daniel"]


def build(out: Path) -> Path:
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.assets import ensure_assets
    from workers.gpu_tts.engine import vocabulary

    _, voices_path = ensure_assets()
    packs = np.load(voices_path)
    tokenizer = Tokenizer(vocab=vocabulary())
    ids, styles, texts = [], [], []
    for i, text in enumerate(SENTENCES):
        voice = VOICES[i % len(VOICES)]
        tokens = tokenizer.tokenize(tokenizer.phonemize(text, "en-gb" if voice.startswith("b") else "en-us"))
        ids.append(np.array([0, *tokens, 0], dtype=np.int64))
        styles.append(packs[voice][len(tokens) - 1].reshape(-1))
        texts.append(text)
    lengths = np.array([len(x) for x in ids])
    padded = np.zeros((len(ids), lengths.max()), dtype=np.int64)
    for row, x in enumerate(ids):
        padded[row, : len(x)] = x
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, ids=padded, lengths=lengths, styles=np.stack(styles).astype(np.float32), texts=np.array(texts))
    return out


def load(path: Path) -> tuple[list[list[int]], list[np.ndarray], list[str]]:
    data = np.load(path)
    ids = [row[:n].tolist() for row, n in zip(data["ids"], data["lengths"], strict=True)]
    return ids, list(data["styles"]), [str(t) for t in data["texts"]]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("var/bench/kokoro_inputs.npz"))
    print(build(parser.parse_args().out))
