"""How the voice changer's two CPU-heavy parts scale with threads: analysis and embeddings.

    PYTHONPATH=. python bench/device/vc_concurrency.py cuda

Prints audio seconds processed per second with 1, 4 and 16 threads (clips from
bench/vc_speed.py --prepare). Found that resemblyzer's VAD packing held the GIL
(workers/gpu_vc/speaker.py says how it is avoided).
"""

import sys

import numpy as np

from bench.load import run_threads
from workers.gpu_vc import speaker, world

CLIPS = list(np.load("var/bench/vc_sources.npz").values())


def rate(step, threads: int, reps: int = 6) -> float:  # noqa: ANN001
    def work(_: int) -> None:
        for clip in CLIPS[:reps]:
            step(clip)

    return threads * sum(len(c) for c in CLIPS[:reps]) / 24_000 / run_threads(work, threads)


def main(device: str) -> None:
    speaker.encoder()
    steps = {
        "analyse": lambda clip: world.analyse(clip, 24_000, device).sp.sum().item(),
        "embed": lambda clip: speaker.embed(clip, 24_000),
    }
    for name, step in steps.items():
        print(name, " ".join(f"{n}:{rate(step, n):.1f}" for n in (1, 4, 16)), "audio-s/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cpu")
