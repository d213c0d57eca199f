#!/usr/bin/env bash
# Trains the voice changer's content encoder on the lent H200 (device tool), in calls of at most
# 10 minutes that chain while the machine stays warm (30 s): the converted Kokoro weights and the
# training state live under ignored paths there between calls.
#   first call, carry var/transport/kokoro.onnx.xz and var/vc_train/corpus.npz:
#       bash bench/device/vc_train.sh weights train --minutes 8 --total-minutes 17
#   next calls, carry var/vc_train/corpus.npz:
#       bash bench/device/vc_train.sh train --minutes 8 --total-minutes 17
# Makes var/transport/kokoro.onnx.xz with: xz -T2 -9 -k -c var/models/kokoro-v1.0.int8.onnx
# and the corpus with: .venv/bin/python -m workers.gpu_vc.content.corpus --out var/vc_train
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-var/vc_state/out}
mkdir -p var/models var/vc_state "$OUT"
if [ "${1:-}" = weights ]; then
    shift
    t0=$(date +%s)
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('var/transport/kokoro.onnx.xz'), open('var/models/kokoro-v1.0.int8.onnx', 'wb'))"
    python3 -c "from pathlib import Path; from workers.gpu_tts.convert import convert; convert(Path('var/models/kokoro-v1.0.int8.onnx'), Path('var/models/kokoro-v1.0.pt'))"
    echo "weights ready in $(( $(date +%s) - t0 )) s"
fi
[ -f var/models/kokoro-v1.0.pt ] || { echo "no converted weights: the machine was not warm"; exit 3; }
if [ "${1:-}" = train ]; then
    shift
    args=()
    while [ $# -gt 0 ] && [ "$1" != speed ]; do args+=("$1"); shift; done
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
    python3 -m workers.gpu_vc.content.train --weights var/models/kokoro-v1.0.pt --corpus var/vc_train/corpus.npz \
        --state var/vc_state/state.pt --export "$OUT/content_encoder.pt" "${args[@]}" 2>&1 | tee "$OUT/train.log"
fi
if [ "${1:-}" = speed ]; then
    python3 bench/device/vc_kokoro_speed.py --weights var/models/kokoro-v1.0.pt --encoder "$OUT/content_encoder.pt" \
        --corpus var/vc_train/corpus.npz 2>&1 | tee "$OUT/speed.log"
fi
