"""The TTS text normaliser: accuracy per category, before and after, and its cost per sentence.

Accuracy is checked twice per case: the normalised text against the hand-written spoken form
(exact words), and, for before/after, espeak's phonemes (what Kokoro is fed) of the raw text and
of the normalised text against the phonemes of the spoken form. "Before" is the studio without a
normaliser: espeak's own number and abbreviation reading. A second, looser phoneme check ignores
stress marks and word breaks: espeak's own spelling of "FAQ" mid-sentence (/ˌɛfˌeɪkjˈuː/) is the
right letters with another stress than the expected "F Eh Q" (/ˈɛf ˈeɪ kjˈuː/), and that should count
as read right before. Cost is the normaliser alone, per sentence, on this CPU, beside espeak's
phonemisation of the same sentences.

Run: .venv/bin/python -m bench.normalise_bench
"""

import os
import re
import time
from collections import defaultdict

from kokoro_onnx.tokenizer import Tokenizer

from tests.workers.gpu_tts.normalise_cases import CASES, HELD_OUT
from workers.gpu_tts.normalise import normalise_for_speech


def _lang(accent: str) -> str:
    return "en-gb" if accent == "uk" else "en-us"


def _loose(phonemes: str) -> str:
    return re.sub(r"[ˈˌ\s]", "", phonemes)


def score(cases: list[tuple[str, str, str, str]], phonemise) -> dict[str, list[int]]:  # noqa: ANN001
    """Per category: [cases, exact words after, phonemes right before, after, and the same ignoring
    stress and word breaks, before, after]."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for category, text, expected, accent in cases:
        said = normalise_for_speech(text, accent)
        want = phonemise(expected, _lang(accent))
        before, after = phonemise(text, _lang(accent)), phonemise(said, _lang(accent))
        row = table[category]
        row[0] += 1
        row[1] += said == expected
        row[2] += before == want
        row[3] += after == want
        row[4] += _loose(before) == _loose(want)
        row[5] += _loose(after) == _loose(want)
    return table


def report(name: str, table: dict[str, list[int]]) -> None:
    print(
        f"\n{name}: category | cases | words exact after | phonemes right before -> after"
        " | ignoring stress and word breaks"
    )
    totals = [0] * 6
    for category, row in table.items():
        _line(category, row)
        totals = [t + v for t, v in zip(totals, row, strict=True)]
    _line("all", totals)


def _line(category: str, row: list[int]) -> None:
    n, exact, before, after, loose_before, loose_after = row
    print(
        f"  {category:9s} | {n:3d} | {exact:3d}/{n} ({exact / n:4.0%}) | {before:3d}/{n} -> {after:3d}/{n}"
        f" | {loose_before:3d}/{n} -> {loose_after:3d}/{n}"
    )


def cost(texts: list[str], phonemise, rounds: int = 20) -> None:  # noqa: ANN001
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            normalise_for_speech(text)
    norm_us = (time.perf_counter() - start) / (rounds * len(texts)) * 1e6
    start = time.perf_counter()
    for _ in range(3):
        for text in texts:
            phonemise(text, "en-us")
    espeak_us = (time.perf_counter() - start) / (3 * len(texts)) * 1e6
    print(
        f"\ncost per sentence ({len(texts)} sentences): normaliser {norm_us:.0f} µs, espeak phonemes {espeak_us:.0f} µs"
    )


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    phonemise = Tokenizer().phonemize
    report("dev set (rules fitted to it)", score(CASES, phonemise))
    report("held-out set (written after, run once)", score(HELD_OUT, phonemise))
    cost([text for _, text, _, _ in CASES + HELD_OUT], phonemise)


if __name__ == "__main__":
    main()
