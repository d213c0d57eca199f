"""Sound-effect engine benchmark: source-picking accuracy, loudness/clipping, real-time factor.

    .venv/bin/python -m bench.sfx_bench

Prints figures; asserts nothing. Accuracy is reported on the labelled prompts (the catalogue was
tuned on them) and on the held-out prompts (written afterwards, never tuned on).
"""

import statistics
import time

import numpy as np

from bench.tts_bench import machine
from tests.sfx_prompts import HELD_OUT, LABELLED
from workers.gpu_sfx.dsp import SFX_RATE
from workers.gpu_sfx.engine import ProceduralEngine


def accuracy(engine: ProceduralEngine, prompts: list, label: str) -> None:
    top1 = exact = refused = n = n_refuse = by_embedding = 0
    misses = []
    for prompt, expected in prompts:
        plan = engine.understand(prompt)
        got = plan.sources if plan.accepted else []
        by_embedding += any(layer.how == "embedding" for layer in plan.layers)
        if expected is None:
            n_refuse += 1
            refused += not got
            if got:
                misses.append(f"{prompt!r}: made {got}, should refuse")
            continue
        n += 1
        top1 += bool(got) and got[0] == expected[0]
        exact += set(got) == set(expected)
        if set(got) != set(expected):
            misses.append(f"{prompt!r}: {got or 'refused'}, expected {expected}")
    print(
        f"| {label} | {n} + {n_refuse} | {top1}/{n} ({top1 / n:.0%}) | {exact}/{n} ({exact / n:.0%}) | "
        f"{refused}/{n_refuse} | {by_embedding} |"
    )
    for miss in misses:
        print(f"|  | miss: {miss} | | | | |")


def main() -> None:
    engine = ProceduralEngine()
    engine.understand("warm up")
    print(f"# Sound effects, procedural engine ({machine()})\n")
    print("| prompt set | prompts + refusals | top-1 | all sources | refused | matched by embedding |")
    print("|---|---|---|---|---|---|")
    accuracy(engine, LABELLED, "labelled (tuned on)")
    accuracy(engine, HELD_OUT, "held-out")

    levels, peaks, rtfs = [], [], []
    prompts = [p for p, e in LABELLED if e is not None]
    for i, prompt in enumerate(prompts):
        for seconds in (2.0, 10.0):
            start = time.perf_counter()
            (audio,) = engine.generate(prompt, seconds, 0.5, i, 1).variations
            rtfs.append((time.perf_counter() - start) / seconds)
            levels.append(20 * np.log10(np.sqrt(np.mean(audio**2)) + 1e-12))
            peaks.append(float(np.max(np.abs(audio))))
            assert len(audio) == int(round(seconds * SFX_RATE))
    print(f"\n## Mastering over {len(levels)} renders ({len(prompts)} labelled prompts x 2 s and 10 s)\n")
    print(
        f"- RMS level: median {statistics.median(levels):.1f} dBFS, 10th-90th percentile "
        f"{np.percentile(levels, 10):.1f} to {np.percentile(levels, 90):.1f} (target -20; sparse events sit lower)"
    )
    print(f"- peak: max {20 * np.log10(max(peaks)):.2f} dBFS; clipped renders (|x| >= 1): {sum(p >= 1 for p in peaks)}")
    print(
        f"- RTF (compute s per audio s, incl. prompt parsing): median {statistics.median(rtfs):.4f}, "
        f"max {max(rtfs):.3f}"
    )


if __name__ == "__main__":
    main()
