#!/usr/bin/env bash
# The product voice-fit bench on the lent H200 (device tool): two calls back to back, because the
# Kokoro export (int8 ONNX, xz -9: 60.5 MB) and the bench's inputs (28 stock packs, audio, GE2E
# weights: 21.6 MB) do not fit one call's 64 MiB; the converted weights (an ignored path) stay on
# the warm machine for the second call, which must start within its 30 s warm window.
#   1. carry var/transport/kokoro.onnx.xz:
#        bash bench/voice_fit/run_gpu.sh weights
#   2. carry var/voice_fit/product (inputs.npz, ge2e.pt and the webrtcvad-wheels wheel for python 3.12):
#        bash bench/voice_fit/run_gpu.sh fit [fit.py arguments]
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-var/voice_fit/out}
mkdir -p var/models "$OUT"
case "${1:-}" in
weights)
    t0=$(date +%s)
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('var/transport/kokoro.onnx.xz'), open('var/models/kokoro-v1.0.int8.onnx', 'wb'))"
    python3 -c "from pathlib import Path; from workers.gpu_tts.convert import convert; convert(Path('var/models/kokoro-v1.0.int8.onnx'), Path('var/models/kokoro-v1.0.pt'))"
    rm var/models/kokoro-v1.0.int8.onnx
    echo "weights ready in $(( $(date +%s) - t0 )) s"; ls -la var/models
    ;;
fit)
    shift
    [ -f var/models/kokoro-v1.0.pt ] || { echo "no converted weights: the machine was not warm"; exit 3; }
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site var/voice_fit/product/*.whl
    export PYTHONPATH=/tmp/site
    nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv
    python3 -m bench.voice_fit.fit --device cuda --out "$OUT" "$@" 2>&1 | tee "$OUT/fit.log"
    ;;
*)
    echo "usage: run_gpu.sh weights|fit [args]"; exit 2
    ;;
esac
