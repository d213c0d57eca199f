#!/usr/bin/env bash
# The spike's one call on the lent H200 (device tool), carrying var/transport/kokoro.onnx.xz
# (the int8 export, xz -9: 60.5 MB), var/voice_fit/inputs.npz and var/voice_fit/ge2e.pt:
#   CPU_TIMING=1 bash bench/voice_fit/run_gpu.sh --budget 40 --pop 32                  (run 1)
#   bash bench/voice_fit/run_gpu.sh --budget 60 --pop 32 --es-checkpoints 10 20 40 \
#        --grad-checkpoints 10 25 50 100 200                                             (run 2)
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-var/voice_fit/out}
mkdir -p var/models "$OUT"
t0=$(date +%s)
python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('var/transport/kokoro.onnx.xz'), open('var/models/kokoro-v1.0.int8.onnx', 'wb'))"
python3 -c "from pathlib import Path; from workers.gpu_tts.convert import convert; convert(Path('var/models/kokoro-v1.0.int8.onnx'), Path('var/models/kokoro-v1.0.pt'))"
echo "weights ready in $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv
python3 -m bench.voice_fit.fit --device cuda --out "$OUT" "$@" 2>&1 | tee "$OUT/fit.log"
[ -n "${CPU_TIMING:-}" ] && python3 -m bench.voice_fit.cpu_timing --threads 2 --pop 8 2>&1 | tee "$OUT/cpu_timing.log"
true
