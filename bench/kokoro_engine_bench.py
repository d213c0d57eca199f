"""Kokoro engine benchmark: parity of the PyTorch port, single-request RTF, and throughput and
latency under concurrent load with and without cross-request batching. Prints figures.

Runs anywhere PyTorch runs (the GPU machine has no espeak, so inputs come phonemised from
``bench.kokoro_inputs``):

    .venv/bin/python -m bench.kokoro_inputs                       # once, on a machine with espeak
    python -m bench.kokoro_engine_bench --onnx var/models/kokoro-v1.0.int8.onnx \\
        --inputs var/bench/kokoro_inputs.npz --device cuda --parts parity,rtf,load

On CUDA it reports fp32, bf16 and fp16 (autocast); ``--backends onnx,torch`` adds onnxruntime.
The lent GPU machine takes at most 64 MiB per call, so the export travelled xz-compressed (60 MB):
``xz -6 -c var/models/kokoro-v1.0.int8.onnx > var/transport/kokoro.onnx.xz``, carried, then
``python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('var/transport/kokoro.onnx.xz'),
open('var/models/kokoro-v1.0.int8.onnx','wb'))"`` before the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import torch

from bench.kokoro_inputs import load as load_inputs
from bench.load import run_threads
from workers.gpu_tts.backends import OnnxBackend, TorchBackend, Utterance
from workers.gpu_tts.batcher import Batcher
from workers.gpu_tts.convert import WEIGHTS_FILE, convert

SAMPLE_RATE = 24_000


def spectral_rel(a: np.ndarray, b: np.ndarray) -> float:
    """Relative L2 distance of STFT magnitudes (1024-point, hop 256) over the common length."""
    n = min(len(a), len(b))
    window = torch.hann_window(1024)
    mag = [
        torch.stft(torch.from_numpy(x[:n].copy()), 1024, 256, window=window, return_complex=True).abs() for x in (a, b)
    ]
    return float((mag[0] - mag[1]).norm() / mag[1].norm())


def wave_rel(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.linalg.norm(a[:n] - b[:n]) / np.linalg.norm(b[:n]))


def bench_parity(onnx_path: Path, torch_backends: dict[str, TorchBackend], utts: list[Utterance]) -> dict:
    from workers.gpu_tts.onnx_reference import FloatReference

    reference = FloatReference(onnx_path)
    int8 = OnnxBackend(onnx_path)
    refs = [reference.run(u.ids, u.style, u.speed) for u in utts]
    int8_durations = [int8_duration_mismatch(int8, u, ref[0]) for u, ref in zip(utts, refs, strict=True)]
    out = {"int8_vs_float_length_mismatch": sum(int8_durations)}
    print("\n## Parity with the float-dequantised ONNX graph\n")
    print(f"{len(utts)} sentences, 8 voices. Durations: predicted frames per phoneme.\n")
    print(
        "| engine | sentences with identical durations | phonemes differing "
        "| waveform rel L2 (median) | spectral rel L2 (median) |"
    )
    print("|---|---|---|---|---|")
    for label, backend in torch_backends.items():
        try:
            out[label] = parity_row(backend, utts, refs)
        except Exception as exc:  # e.g. a precision this GPU or build cannot run
            print(f"| {label} | failed: {exc!r:.80} | | | |")
            continue
        row = out[label]
        print(
            f"| {label} | {row['identical']}/{len(utts)} | {row['differing']} | {row['wave']:.3f} | {row['spec']:.3f} |"
        )
    print(
        f"\nThe int8 graph itself (activations quantised) gives a different length on "
        f"{sum(int8_durations)} of {len(utts)} sentences."
    )
    return out


def parity_row(backend: TorchBackend, utts: list[Utterance], refs: list) -> dict:
    same, differing, waves, specs = 0, 0, [], []
    for u, (ref_audio, ref_dur) in zip(utts, refs, strict=True):
        synth = backend.model.synthesize([u], half=backend.half)[0]
        dur = synth.durations.numpy()
        differing += int((dur != ref_dur).sum()) if len(dur) == len(ref_dur) else len(ref_dur)
        same += int(np.array_equal(dur, ref_dur))
        waves.append(wave_rel(synth.audio.numpy(), ref_audio))
        specs.append(spectral_rel(synth.audio.numpy(), ref_audio))
    return {
        "identical": same,
        "differing": differing,
        "wave": statistics.median(waves),
        "spec": statistics.median(specs),
    }


def int8_duration_mismatch(int8: OnnxBackend, u: Utterance, ref_audio: np.ndarray) -> int:
    """The int8 graph exposes no durations; count sentences whose length differs from the float graph."""
    return int(len(int8.infer([u])[0]) != len(ref_audio))


def bench_rtf(backends: dict, utts: list[Utterance], repeats: int) -> dict:
    print("\n## Single request, one at a time\n")
    print("| engine | median ms / request | audio s / request | RTF (median) | × real time |")
    print("|---|---|---|---|---|")
    out = {}
    for label, backend in backends.items():
        try:
            backend.infer(utts[:2])  # warm-up (CUDA context, kernels)
        except Exception as exc:
            print(f"| {label} | failed: {exc!r:.80} | | | |")
            continue
        backend.infer(utts[-1:])
        times, rtfs, seconds = [], [], []
        for _ in range(repeats):
            for u in utts:
                start = time.perf_counter()
                audio = backend.infer([u])[0]
                sync()
                took = time.perf_counter() - start
                times.append(took)
                seconds.append(len(audio) / SAMPLE_RATE)
                rtfs.append(took / seconds[-1])
        rtf = statistics.median(rtfs)
        out[label] = {"ms": statistics.median(times) * 1000, "rtf": rtf}
        print(f"| {label} | {out[label]['ms']:.0f} | {statistics.mean(seconds):.2f} | {rtf:.4f} | {1 / rtf:.0f} |")
    return out


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_load(
    backend, utts: list[Utterance], clients: int, max_batch: int, window_s: float, seconds: float, spread: float,
    threads: int = 1,
) -> dict:  # fmt: skip
    """Closed loop: ``clients`` threads each submit one-sentence requests back to back."""
    batcher = Batcher(backend.infer, lambda u: len(u.ids), max_batch, window_s, spread, threads=threads)
    batcher.run(utts[:1])
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    audio_seconds = [0.0]
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < stop_at:
            u = rng.choice(utts)
            start = time.perf_counter()
            audio = batcher.run([u])[0]
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                audio_seconds[0] += len(audio) / SAMPLE_RATE

    wall = run_threads(client, clients)
    memory = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
    lat = sorted(latencies)
    return {
        "clients": clients,
        "batched": max_batch > 1,
        "threads": threads,
        "throughput": audio_seconds[0] / wall,
        "requests_per_s": len(lat) / wall,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p95_ms": lat[int(len(lat) * 0.95)] * 1000,
        "mean_batch": batcher.stats.mean_batch,
        "gpu_gib": memory,
    }


def bench_load(
    backends: dict, utts: list[Utterance], levels: list[int], seconds: float, window_s: float, spread: float,
    thread_counts: tuple[int, ...] = (1,),
) -> list:  # fmt: skip
    print("\n## Concurrent one-sentence requests (closed loop)\n")
    print(
        "| engine | clients | batching | audio s per wall s | requests/s "
        "| latency p50 ms | p95 ms | mean batch | peak GPU GiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for label, backend in backends.items():
        for clients in levels:
            modes = [(False, 1)] + ([] if clients == 1 else [(True, t) for t in thread_counts])
            for batched, threads in modes:
                r = run_load(backend, utts, clients, clients if batched else 1, window_s, seconds, spread, threads)
                r["engine"] = label
                rows.append(r)
                mode = ("yes" if threads == 1 else f"yes, {threads} threads") if batched else "no"
                print(
                    f"| {label} | {clients} | {mode} | {r['throughput']:.0f} "
                    f"| {r['requests_per_s']:.1f} | "
                    f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['mean_batch']:.1f} | {r['gpu_gib']:.2f} |",
                    flush=True,
                )
    return rows


def profile(backend: TorchBackend, utts: list[Utterance], batch: int) -> None:
    """Where a batched forward spends its GPU time (top kernels)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    rows = (utts * (batch // len(utts) + 1))[:batch]
    backend.infer(rows)
    sync()
    with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        backend.infer(rows)
        sync()
        took = time.perf_counter() - start
    print(f"\n## Profile: one batch of {batch}, {took * 1000:.0f} ms wall\n")
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=60))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx", type=Path, default=Path("var/models/kokoro-v1.0.int8.onnx"))
    parser.add_argument("--inputs", type=Path, default=Path("var/bench/kokoro_inputs.npz"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precisions", default=None, help="fp32,bf16,fp16 (default: all on CUDA, fp32 on CPU)")
    parser.add_argument("--backends", default="torch", help="torch and/or onnx")
    parser.add_argument("--parts", default="parity,rtf,load")
    parser.add_argument("--levels", default="1,8,32,128")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--window-ms", type=float, default=5.0)
    parser.add_argument("--load-precision", default=None, help="precision used for the load test")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--spread", type=float, default=3.0, help="bucket: longest/shortest utterance")
    parser.add_argument("--profile-batch", type=int, default=32)
    parser.add_argument("--threads", default="1", help="batching threads to compare, e.g. 1,2")
    parser.add_argument("--no-compile", action="store_true", help="eager only (no torch.compile on CUDA)")
    args = parser.parse_args()

    weights = args.onnx.parent / WEIGHTS_FILE
    if not weights.exists():
        convert(args.onnx, weights)
    ids, styles, _ = load_inputs(args.inputs)
    utts = [Utterance(i, s, 1.0) for i, s in zip(ids, styles, strict=True)]
    precisions = (args.precisions or ("fp32,bf16,fp16" if args.device == "cuda" else "fp32")).split(",")
    name = (
        torch.cuda.get_device_name()
        if args.device == "cuda"
        else f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    )
    print(f"# Kokoro engines on {name}, torch {torch.__version__}")

    compiled = "" if args.no_compile or args.device != "cuda" else " compiled"
    torch_backends = {
        f"torch {args.device}{compiled} {p}": TorchBackend(weights, args.device, p, compile=not args.no_compile)
        for p in precisions
    }
    backends: dict = dict(torch_backends) if "torch" in args.backends else {}
    if "onnx" in args.backends:
        backends = {"onnxruntime int8 cpu": OnnxBackend(args.onnx), **backends}
    parts = args.parts.split(",")
    results: dict = {"device": name}
    if "parity" in parts:
        results["parity"] = bench_parity(args.onnx, torch_backends, utts)
    if "rtf" in parts:
        results["rtf"] = bench_rtf(backends, utts, args.repeats)
    if "load" in parts:
        chosen = args.load_precision or precisions[0]
        load_backends = {k: v for k, v in torch_backends.items() if k.endswith(tuple(chosen.split("+")))}
        levels = [int(x) for x in args.levels.split(",")]
        threads = tuple(int(t) for t in args.threads.split(","))
        results["load"] = bench_load(
            load_backends, utts, levels, args.seconds, args.window_ms / 1000, args.spread, threads
        )
    if "profile" in parts:
        for backend in torch_backends.values():
            profile(backend, utts, args.profile_batch)
    if out := os.environ.get("OUT"):
        Path(out, "kokoro_engine_bench.json").write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
