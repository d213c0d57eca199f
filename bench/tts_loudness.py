"""TTS loudness before and after mastering: per voice, the speech level (gated RMS, dBFS), the
true peak and how many sentences would clip, on the stock voices and a set of everyday sentences.

    python -m bench.tts_loudness [--voices af_nova,am_puck,...] [--sentences N]
"""

import argparse

import numpy as np

from workers.gpu_tts import mastering
from workers.gpu_tts.engine import SAMPLE_RATE, tts_engine

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please close the door before you leave the house this evening.",
    "Our train leaves at half past seven, so we have plenty of time for breakfast.",
    "Wow! That was the loudest thunder I have ever heard.",
    "She whispered that the meeting had been moved to Thursday afternoon.",
    "Turn left at the second traffic light, then keep going until you see the bakery.",
    "Is this really what you wanted, or did you just say yes to be polite?",
    "The results are in, and the new design is faster, lighter and cheaper.",
    "Hey, watch out! The floor is still wet.",
    "Thank you all for coming; it means a great deal to the whole team.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voices", default="")
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    args = parser.parse_args()
    engine = tts_engine()
    voices = args.voices.split(",") if args.voices else sorted(engine.packs.stock)
    sentences = SENTENCES[: args.sentences]
    rows, before, after = [], [], []
    for voice in voices:
        raw = [engine.synthesize_raw(s, voice) for s in sentences]
        gain = engine.gain(engine.speaking_voice(voice))
        out = [engine.master(a, gain) for a in raw]
        lr = np.mean([mastering.speech_level_db(a, SAMPLE_RATE) for a in raw])
        lo = np.mean([mastering.speech_level_db(a, SAMPLE_RATE) for a in out])
        pr = max(mastering.db(mastering.true_peak(a).max()) for a in raw)
        po = max(mastering.db(mastering.true_peak(a).max()) for a in out)
        clips = sum(mastering.true_peak(a).max() >= 1.0 for a in raw)
        before.append(lr)
        after.append(lo)
        rows.append(f"| {voice} | {lr:.1f} | {pr:+.1f} | {clips}/{len(raw)} | {lo:.1f} | {po:+.1f} |")
    print(f"Engine: {engine.name}; target {engine.loudness_db} dBFS, ceiling {engine.peak_db} dBFS true peak")
    print("| voice | level before | true peak before | sentences over full scale | level after | true peak after |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"level spread across voices: before {np.ptp(before):.1f} dB (sd {np.std(before):.1f}), "
          f"after {np.ptp(after):.1f} dB (sd {np.std(after):.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
