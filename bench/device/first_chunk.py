"""Engine-only time to first audio for a stream's first chunk, on CUDA (the lent H200).

Two steps, because the GPU machine has no espeak:

    .venv/bin/python bench/device/first_chunk.py prepare          # here: phonemise, var/bench/first_chunk.npz
    python bench/device/first_chunk.py run --weights var/models/kokoro-v1.0.pt   # there

The chunks are a stream's first chunks of the benchmark paragraph (``bench.realtime_ttfb``): the
websocket session's first part (the first chunk of at most 120 characters of a flushed segment)
and the next, a full chunk (what a first part is when the first sentence is long). ``run`` times ``TorchBackend.speak``
for each alone (batch of one, as on an idle worker): the process's first call (CUDA context and
kernels), then ``-n`` warm calls; prints median and p90. Prints figures; asserts nothing.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
INPUTS = ROOT / "var" / "bench" / "first_chunk.npz"
VOICE = "af_heart"


def prepare() -> None:
    from kokoro_onnx.tokenizer import Tokenizer

    from bench.realtime_ttfb import PARAGRAPH
    from workers.gpu_tts.assets import ensure_assets
    from workers.gpu_tts.chunking import STREAM_CHUNK_CHARS, split_into_chunks
    from workers.gpu_tts.engine import vocabulary
    from workers.gpu_tts.normalise import normalise_for_speech

    first, second = split_into_chunks(normalise_for_speech(PARAGRAPH), STREAM_CHUNK_CHARS)[:2]
    chunks = {"first part (a short opening sentence)": first, "a full stream chunk": second}
    _, voices_path = ensure_assets()
    pack = np.load(voices_path)[VOICE]
    tokenizer = Tokenizer(vocab=vocabulary())
    arrays = {}
    for i, (label, text) in enumerate(chunks.items()):
        tokens = tokenizer.tokenize(tokenizer.phonemize(text, "en-us"))
        arrays[f"ids{i}"] = np.array([0, *tokens, 0], dtype=np.int64)
        arrays[f"style{i}"] = pack[len(tokens) - 1].reshape(-1).astype(np.float32)
        arrays[f"label{i}"] = np.array(f"{label}: {text!r} ({len(text)} characters)")
    INPUTS.parent.mkdir(parents=True, exist_ok=True)
    np.savez(INPUTS, **arrays)
    print(f"saved {INPUTS}: {[str(arrays[k]) for k in arrays if k.startswith('label')]}")


def run(weights: Path, n: int, compile_: bool) -> None:
    import torch

    from workers.gpu_tts.backends import TorchBackend, Utterance

    data = np.load(INPUTS)
    count = len([k for k in data.files if k.startswith("ids")])
    started = time.perf_counter()
    backend = TorchBackend(weights, "cuda", "fp32", compile=compile_)
    print(f"# {torch.cuda.get_device_name()}, torch {torch.__version__}, fp32, compile={compile_}")
    print(f"model load: {time.perf_counter() - started:.1f} s")
    print("| chunk | audio s | first call ms | warm median ms | warm p90 ms |\n|---|---|---|---|---|")
    for i in range(count):
        utterance = Utterance(data[f"ids{i}"], data[f"style{i}"], 1.0)
        times = []
        for _ in range(n + 1):
            start = time.perf_counter()
            spoken = backend.speak([utterance])[0]
            torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1000)
        warm = sorted(times[1:])
        p90 = warm[min(len(warm) - 1, round(0.9 * (len(warm) - 1)))]
        seconds = len(spoken.audio) / 24_000
        print(f"| {data[f'label{i}']} | {seconds:.2f} | {times[0]:.0f} | {statistics.median(warm):.1f} | {p90:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["prepare", "run"])
    parser.add_argument("--weights", type=Path, default=ROOT / "var" / "models" / "kokoro-v1.0.pt")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--compile", action="store_true", help="torch.compile as the worker does by default")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare()
    else:
        run(args.weights, args.n, args.compile)


if __name__ == "__main__":
    main()
