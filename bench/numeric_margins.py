"""Re-measure every numeric threshold of the suite under several CPU code paths.

Each threshold-bearing test asserts through ``tests.margins.expect``, which records the
measured value and its bound as a junit property. This runs those tests once per code path (a
fresh pytest process with the path's environment), collects the properties and prints, for each
quantity, its bound, the value on every path, and the margin: how far the worst value sits from
the bound, in units of the spread seen across paths (the ask: >= 2; ``-`` where nothing moved).

    .venv/bin/python -m bench.numeric_margins                      # every path, every test
    .venv/bin/python -m bench.numeric_margins --paths native threads-1 --tests kokoro
    .venv/bin/python -m bench.numeric_margins --json var/margins.json

Code paths (what differs between the machines CI runs on, as far as one machine can show it):
ATen kernels at AVX2 or baseline instead of AVX-512, oneDNN (convolutions) capped at AVX2,
MKL (matrix products) in its conditional-numerical-reproducibility path or capped at SSE4.2,
numpy's AVX-512 loops off, and 1 instead of 2 threads for torch, MKL and onnxruntime.
MKL picks its code path by CPU vendor: on AMD it runs a generic path, on an Intel Xeon its
AVX-512 kernels, which no switch here can reach; run this on an Intel machine to see that one.
onnxruntime's kernels pick their instruction set from CPUID with no override, so only its thread
count is varied. Figures measured so far, and what each bound guards: docs/numeric_margins.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "margin "  # tests.margins.PREFIX

TWO = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "STUDIO_TTS_THREADS": "2"}
PATHS: dict[str, dict[str, str]] = {
    "native": TWO,
    "aten-avx2": TWO | {"ATEN_CPU_CAPABILITY": "avx2"},
    "aten-default": TWO | {"ATEN_CPU_CAPABILITY": "default"},
    "onednn-avx2": TWO | {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "mkl-cbwr": TWO | {"MKL_CBWR": "COMPATIBLE"},
    "mkl-sse42": TWO | {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "numpy-avx2": TWO | {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"},
    "threads-1": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "STUDIO_TTS_THREADS": "1"},
    # an AVX2-only Xeon as far as torch, MKL and numpy go
    "avx2-all": TWO
    | {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    },
}

TESTS: dict[str, list[str]] = {
    "kokoro": ["tests/workers/gpu_tts/test_kokoro_torch.py"],
    "tts": ["tests/workers/gpu_tts/test_engine.py"],
    "vc": ["tests/workers/gpu_vc/test_engine.py"],
    "sfx": ["tests/workers/gpu_sfx/test_engine.py::test_beds_reach_the_loudness_target"],
    "codecs": ["tests/studio/test_audio.py"],
}


def run_path(name: str, env: dict[str, str], tests: list[str]) -> tuple[dict[str, dict], list[str]]:
    """Run the tests under one code path: ({quantity: {"value", bound kind: bound}}, failed test ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *tests]
        proc = subprocess.run(cmd, cwd=ROOT, env=os.environ | env, capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(f"{name}: pytest wrote no report\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        measured, failed = {}, []
        for case in ET.parse(report).getroot().iter("testcase"):
            for prop in case.iter("property"):
                if prop.get("name", "").startswith(PREFIX):
                    measured[prop.get("name")[len(PREFIX) :]] = json.loads(prop.get("value"))
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
    return measured, failed


def margin(bound_kind: str, bound: float, values: list[float]) -> tuple[float, float]:
    """(headroom of the worst value to the bound, spread across paths)."""
    worst = max(values) if bound_kind in ("below", "at_most") else min(values)
    headroom = bound - worst if bound_kind in ("below", "at_most") else worst - bound
    return headroom, max(values) - min(values)


def table(results: dict[str, dict[str, dict]]) -> str:
    paths = list(results)
    names = sorted({n for r in results.values() for n in r})
    sign = {"below": "<", "at_most": "<=", "above": ">", "at_least": ">="}
    lines = [
        "| quantity | bound | " + " | ".join(paths) + " | headroom / spread |",
        "|---" * (len(paths) + 3) + "|",
    ]
    for n in names:
        rows = [results[p].get(n) for p in paths]
        first = next(r for r in rows if r)
        kind = next(k for k in sign if k in first)
        values = [r["value"] for r in rows if r]
        headroom, spread = margin(kind, first[kind], values)
        ratio = "FAIL" if headroom < 0 else ("-" if spread == 0 else f"{headroom / spread:.3g}")
        cells = [f"{r['value']:.4g}" if r else "" for r in rows]
        lines.append(f"| {n} | {sign[kind]} {first[kind]:g} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    parser.add_argument("--tests", nargs="+", choices=list(TESTS), default=list(TESTS))
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    tests = [t for group in args.tests for t in TESTS[group]]
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    print(f"CPU: {model}, {os.cpu_count()} logical CPUs\n", flush=True)
    results, failures = {}, {}
    for name in args.paths:
        results[name], failures[name] = run_path(name, PATHS[name], tests)
        status = f"{len(failures[name])} failed: {failures[name]}" if failures[name] else "all passed"
        print(f"{name}: {len(results[name])} quantities, {status}", flush=True)
    print("\n" + table(results))
    if args.json:
        args.json.write_text(json.dumps({"cpu": model, "results": results, "failures": failures}, indent=1))
    if any(failures.values()) or any(math.isnan(v["value"]) for r in results.values() for v in r.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
