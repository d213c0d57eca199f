"""Voice changer speed: RTF per stage on a device, and throughput with concurrent conversions.

    # on a machine with the TTS model: render the source clips and build the target profiles
    .venv/bin/python -m bench.vc_speed --prepare var/bench/vc_sources.npz
    # anywhere with the VC engine's packages (e.g. the GPU machine, see bench/device/vc_setup.sh)
    python -m bench.vc_speed var/bench/vc_sources.npz [--device cuda] [--clients 1 4 16]

Stages are timed from the converter's progress reports: analysis (F0 and aperiodicity on the
CPU, envelope on the device), warp trials (mapping + resynthesis of the most voiced 8 s per
candidate, then their speaker embeddings with the source's), final mapping + resynthesis.
RTF = compute seconds per audio second.
Throughput runs N threads converting clips in a closed loop (the worker runs activities
concurrently the same way). Prints figures; asserts nothing.
"""

import argparse
import os
import platform
import statistics
import threading
import time

import numpy as np
import torch

from bench.load import run_threads

SOURCES = ("am_michael", "bf_lily", "af_sky", "bm_lewis")
TARGETS = ("af_heart", "bf_emma", "am_adam", "bm_george")
TEXTS = (
    "A quiet morning walk along the river helps me think clearly about the day ahead.",
    "Please bring the blue notebook to the meeting tomorrow morning, and tell the others "
    "that the museum opens at nine and the tickets are cheaper online.",
)
STAGES = ("profile", "analysis", "warp trials", "final resynthesis")


def prepare(path: str) -> None:
    from studio.storage import get_store
    from workers.gpu_tts.engine import tts_engine
    from workers.gpu_tts.vc_references import publish
    from workers.gpu_vc import profiles

    engine = tts_engine()
    clips = {f"{voice}:{i}": engine.synthesize(text, voice) for voice in SOURCES for i, text in enumerate(TEXTS)}
    np.savez(path, **clips)
    store = get_store()
    store.ensure_ready()
    publish(store, voices=TARGETS)  # the targets' reference speech, as the TTS worker renders it
    for target in TARGETS:
        profiles.get(target)  # measured into the profile cache (STUDIO_VC_PROFILE_CACHE)
    print(f"wrote {len(clips)} clips ({sum(len(c) for c in clips.values()) / 24_000:.1f} s) to {path}")


def machine(device: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    gpu = f" · {torch.cuda.get_device_name()}" if device == "cuda" else ""
    return f"{platform.node()} · {cpu} · {os.cpu_count()} CPUs{gpu} · torch {torch.__version__}"


def timed_convert(converter, clip: np.ndarray, target: str) -> tuple[list[float], float]:  # noqa: ANN001
    marks = [time.perf_counter()]
    result = converter.convert(clip, 24_000, target, progress=lambda done, total: marks.append(time.perf_counter()))
    if converter.device.type == "cuda":
        torch.cuda.synchronize()
    return [b - a for a, b in zip(marks, marks[1:], strict=False)], result.similarity_after


def throughput(converter, items: list, clients: int, seconds: float) -> str:  # noqa: ANN001
    """One table row: ``clients`` threads converting ``items`` in a closed loop for ``seconds``."""
    cuda = converter.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    stop = time.perf_counter() + seconds
    audio, latencies, stage_seconds, lock = [0.0], [], [0.0] * len(STAGES), threading.Lock()

    def client(offset: int) -> None:
        i = offset
        while time.perf_counter() < stop:
            clip, target = items[i % len(items)]
            stages, _ = timed_convert(converter, clip, target)
            with lock:
                audio[0] += len(clip) / 24_000
                latencies.append(sum(stages))
                for k, seconds in enumerate(stages):
                    stage_seconds[k] += seconds
            i += clients

    elapsed = run_threads(client, clients)
    memory = f" (peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB)" if cuda else ""
    split = ", ".join(
        f"{name} {seconds / len(latencies):.2f}" for name, seconds in zip(STAGES[1:], stage_seconds[1:], strict=True)
    )
    return (
        f"| {clients} | {audio[0] / elapsed:.1f} | {len(latencies) / elapsed:.2f} "
        f"| {statistics.median(latencies):.2f} |{memory} (s per conversion: {split})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips")
    parser.add_argument("--prepare", action="store_true", help="render the clips and profiles into CLIPS")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--clients", nargs="*", type=int, default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each throughput run")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.clips)
        return
    from workers.gpu_vc import speaker
    from workers.gpu_vc.engine import WorldConverter

    clips = dict(np.load(args.clips))
    converter = WorldConverter(args.device)
    speaker.encoder()
    for target in TARGETS:
        timed_convert(converter, clips[f"{SOURCES[0]}:0"], target)  # warm-up: profiles, kernels
    print(f"\n## Voice changer speed ({machine(args.device)}, converter on {args.device})\n")
    per_stage, audio, similarities = [[] for _ in STAGES], 0.0, []
    for clip in clips.values():
        for target in TARGETS:
            stages, similarity = timed_convert(converter, clip, target)
            for i, seconds in enumerate(stages):
                per_stage[i].append(seconds)
            audio += len(clip) / 24_000
            similarities.append(similarity)
    total = sum(sum(s) for s in per_stage)
    print("| stage | seconds per audio second |\n|---|---|")
    for stage, seconds in zip(STAGES, per_stage, strict=True):
        print(f"| {stage} | {sum(seconds) / audio:.4f} |")
    print(f"| **total (RTF)** | **{total / audio:.4f}** |")
    print(f"\n{len(similarities)} conversions of {audio / len(similarities):.1f} s on average; "
          f"mean similarity to the target after conversion {statistics.mean(similarities):.3f}")  # fmt: skip

    print("\n| concurrent conversions | audio s per s | conversions per s | p50 latency s |\n|---|---|---|---|")
    items = [(clip, target) for clip in clips.values() for target in TARGETS]
    for clients in args.clients:
        print(throughput(converter, items, clients, args.seconds))


if __name__ == "__main__":
    main()
