"""Cost of one fitting step on a CPU with 2 threads (the product's CPU path), measured where the
CPU is not shared: one ES generation (``--pop`` packs x the 6 PROBE sentences, one batched pass,
plus the GE2E port) and one gradient step (6 sentences, forward + backward).

    python -m bench.voice_fit.cpu_timing [--threads 2] [--pop 8]
"""

import argparse
import json
import time

import numpy as np
import torch

from bench.voice_fit import ge2e as ge2e_mod
from bench.voice_fit.fit import Sentences, cosine
from workers.gpu_tts.kokoro_torch import load_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pop", type=int, default=8)
    parser.add_argument("--weights", default="var/models/kokoro-v1.0.pt")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    inputs = np.load("var/voice_fit/inputs.npz")
    model = load_model(args.weights, "cpu").requires_grad_(False)
    enc = ge2e_mod.load("var/voice_fit/ge2e.pt", "cpu")
    row_index = {r: i for i, r in enumerate(inputs["rows"].tolist())}
    probe = Sentences(inputs, "probe", row_index, "cpu")
    packs = torch.from_numpy(inputs["packs"])[: args.pop]
    target = torch.ones(256)
    out = {"threads": args.threads, "pop": args.pop}
    with torch.no_grad():
        probe.render(model, packs[:1])  # warm-up
        t0 = time.perf_counter()
        audio, samples, groups = probe.render(model, packs)
        cosine(enc(audio, samples, groups), target[None])
        out["es_generation_s"] = time.perf_counter() - t0
        out["audio_s_per_generation"] = sum(samples) / 24_000
    model.train()
    enc.train()
    style = packs[:1].clone().requires_grad_(True)
    t0 = time.perf_counter()
    audio, samples, groups = probe.render(model, style)
    (-cosine(enc(audio, samples, groups)[0], target)).backward()
    out["grad_step_s"] = time.perf_counter() - t0
    out["audio_s_per_grad_step"] = sum(samples) / 24_000
    print(json.dumps(out))


if __name__ == "__main__":
    main()
