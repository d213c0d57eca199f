"""How close Kokoro's own word timestamps (``workers.gpu_tts.timing``) are to where an acoustic
aligner puts the words: pocketsphinx forced alignment (its default en-us model, 10 ms frames) of
the same audio against the same words.

    .venv/bin/python -m bench.timing_accuracy [--engine onnx|torch] [--quiet]

Prints each word's start and end by both, the errors, and the median / 95th percentile / max of
the absolute boundary error (starts and ends together): between words (where one word ends or the
next starts, pauses included) and at the audio's two edges, where the aligner has no silence to
place and stretches the first and last word to the very first and last sample (a quiet decay
Kokoro's timing leaves out). ``tests/workers/gpu_tts/test_timing.py`` runs the same measure
(``boundary_errors``) with thresholds taken from these figures.
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from tests.speech import to_16k

# Plain words (all in pocketsphinx's dictionary), several voices and accents, commas and pauses.
SENTENCES = [
    ("Hello there, this is a test of the timing.", "af_heart"),
    ("The quick brown fox jumps over the lazy dog.", "am_michael"),
    ("She sells sea shells by the sea shore, and the shells she sells are surely seashells.", "bf_emma"),
    ("Please call me back when you get home, because we need to talk about the weekend.", "af_bella"),
    ("A cup of the tea would be lovely after such a long walk in the rain.", "bm_george"),
    ("Yesterday the river was calm; today it is rising fast, so keep away from the bank.", "am_adam"),
]


def forced_alignment(samples: np.ndarray, rate: int, words: list[str]) -> list[tuple[str, float, float]]:
    """pocketsphinx's (word, start s, end s) for ``words`` in ``samples``; silences left out."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16_000, loglevel="FATAL")
    pcm = (np.clip(to_16k(samples, rate), -1, 1) * 32767).astype("<i2").tobytes()
    decoder.set_align_text(" ".join(words))
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    frames = 100  # per second (pocketsphinx's default frame rate)
    out = []
    for seg in decoder.seg():
        word = re.sub(r"\(\d+\)$", "", seg.word)  # alternative pronunciations are "word(2)"
        if word.startswith("<") or word.startswith("["):
            continue
        out.append((word, seg.start_frame / frames, (seg.end_frame + 1) / frames))
    return out


def boundary_errors(engine, text: str, voice: str) -> list[tuple[str, float, float, float, float]]:  # noqa: ANN001
    """(word, our start, our end, aligner's start, aligner's end) for each word of ``text``."""
    samples, timing = engine.synthesize_timed(text, voice)
    ours = [(w.word.lower(), w.start, w.end) for w in timing.words]
    theirs = forced_alignment(samples, engine.sample_rate, [w for w, _, _ in ours])
    if [w for w, _, _ in theirs] != [w for w, _, _ in ours]:
        raise RuntimeError(f"pocketsphinx aligned other words: {theirs}")
    return [(w, s, e, ts, te) for (w, s, e), (_, ts, te) in zip(ours, theirs, strict=True)]


def summary(errors_ms: list[float]) -> dict[str, float]:
    a = np.abs(np.asarray(errors_ms))
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max()), "n": len(a)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--quiet", action="store_true", help="the summary only")
    args = parser.parse_args()

    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
    from workers.gpu_tts.backends import OnnxBackend, TorchBackend
    from workers.gpu_tts.engine import KokoroEngine

    model, voices = ensure_assets()
    backend = OnnxBackend(model) if args.engine == "onnx" else TorchBackend(ensure_torch_weights(model), "cpu")
    engine = KokoroEngine(backend, voices)
    inner: list[float] = []
    edges: list[float] = []
    for text, voice in SENTENCES:
        rows = boundary_errors(engine, text, voice)
        if not args.quiet:
            print(f"\n{voice}: {text}")
            print(f"  {'word':12s} {'start':>7s} {'ps':>7s} {'err ms':>7s}   {'end':>7s} {'ps':>7s} {'err ms':>7s}")
        for k, (w, s, e, ts, te) in enumerate(rows):
            (edges if k == 0 else inner).append(1000 * (s - ts))
            (edges if k == len(rows) - 1 else inner).append(1000 * (e - te))
            if not args.quiet:
                print(
                    f"  {w:12s} {s:7.3f} {ts:7.3f} {1000 * (s - ts):+7.0f}   {e:7.3f} {te:7.3f} {1000 * (e - te):+7.0f}"
                )
    print()
    for name, errors in (("between words", inner), ("audio edges", edges), ("all", inner + edges)):
        stats = ", ".join(f"{k} {v:.0f}" for k, v in summary(errors).items())
        print(f"{args.engine}, {name}: |error| ms {stats}; mean signed {np.mean(errors):+.0f} ms")


if __name__ == "__main__":
    main()
