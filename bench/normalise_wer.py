"""The normaliser heard: pocketsphinx's word error rate against the hand-written spoken form, per
category, for Kokoro speaking the raw text (the studio without a normaliser: espeak's own reading)
and the normalised text. A recogniser's WER on short sentences full of numbers is noisy (its
language model dislikes "forty-two"), so read it beside normalise_bench's exact word and phoneme
checks; what matters here is the gap between before and after, heard through real audio.

Run: .venv/bin/python -m bench.normalise_wer [--per-category N]
"""

import argparse
import re
from collections import defaultdict

from tests.speech import transcribe, word_error_rate
from tests.workers.gpu_tts.normalise_cases import CASES
from workers.gpu_tts.engine import tts_engine
from workers.gpu_tts.normalise import normalise_for_speech


def spoken_words(text: str) -> str:
    """The form pocketsphinx writes: lower case, hyphens as spaces, no punctuation."""
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-category", type=int, default=6)
    args = parser.parse_args()
    engine = tts_engine()
    picked: dict[str, list] = defaultdict(list)
    for case in CASES:
        if case[0] != "plain" and len(picked[case[0]]) < args.per_category and case[1] != case[2]:
            picked[case[0]].append(case)
    plain = [c for c in CASES if c[1] == c[2]][: args.per_category]
    if plain:
        picked["unchanged prose"] = plain
    print("| category | sentences | WER raw text | WER normalised |")
    print("|---|---|---|---|")
    total = [0, 0.0, 0.0]
    for category, cases in picked.items():
        before = after = 0.0
        for _, text, expected, accent in cases:
            voice = "bf_emma" if accent == "uk" else "af_heart"
            reference = spoken_words(expected)
            raw = engine.synthesize(text, voice)
            said = engine.synthesize(normalise_for_speech(text, accent), voice)
            before += word_error_rate(reference, transcribe(raw, engine.sample_rate))
            after += word_error_rate(reference, transcribe(said, engine.sample_rate))
        n = len(cases)
        total = [total[0] + n, total[1] + before, total[2] + after]
        print(f"| {category} | {n} | {before / n:.2f} | {after / n:.2f} |", flush=True)
    print(f"| all | {total[0]} | {total[1] / total[0]:.2f} | {total[2] / total[0]:.2f} |")


if __name__ == "__main__":
    main()
