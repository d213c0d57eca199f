"""The Kokoro-decoder voice changer's speed on CUDA (the lent H200): RTF for 10, 30 and 60 s clips.

    python bench/device/vc_kokoro_speed.py --weights var/models/kokoro-v1.0.pt \
        --encoder OUT/content_encoder.pt --corpus var/vc_train/corpus.npz

The GPU machine has no espeak, so sources are rendered from the training corpus's token ids
(sentences joined until the clip is long enough) and the target's pitch reference uses corpus
sentences too. Prints figures; asserts nothing.
"""

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workers.gpu_tts.kokoro_torch.model import BatchRow  # noqa: E402
from workers.gpu_vc.kokoro_engine import load_converter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--encoder", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seconds", type=int, nargs="*", default=[10, 30, 60])
    args = parser.parse_args()
    data = np.load(args.corpus)
    ids, offsets, packs, voices = data["ids"], data["offsets"], data["packs"].astype(np.float32), list(data["voices"])
    sentences = [ids[offsets[i] : offsets[i + 1]].astype(int).tolist() for i in range(200)]
    converter = load_converter(args.weights, args.device, lambda text, lang: sentences[hash(text) % 200], args.encoder)
    target = SimpleNamespace(
        lang="en-us", pack=np.repeat(packs[voices.index("af_heart")], 7, axis=0)[:510, None, :]
    )  # a SpeakingVoice
    source_style = packs[voices.index("am_michael")][10]
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    for seconds in args.seconds:
        pieces, total = [], 0
        for s in sentences:
            audio = converter.kokoro.synthesize([BatchRow([0, *s, 0], source_style)])[0].audio.numpy()
            pieces.append(audio)
            total += len(audio)
            if total >= seconds * 24_000:
                break
        clip = np.concatenate(pieces)[: seconds * 24_000]
        converter.convert(clip, 24_000, target)  # warm-up (kernels, the target's pitch)
        sync()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            converter.convert(clip, 24_000, target)
            sync()
            times.append(time.perf_counter() - start)
        print(f"{seconds} s clip: median {np.median(times) * 1000:.0f} ms, RTF {np.median(times) / seconds:.4f}")


if __name__ == "__main__":
    main()
