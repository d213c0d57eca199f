#!/usr/bin/env bash
# Trains the voice changer's content encoder on the lent H200 (device tool), in calls of at most
# 10 minutes that chain while the machine stays warm (30 s): the converted Kokoro weights and the
# training state live under ignored paths there between calls.
#   first call, carry var/transport/kokoro.onnx.xz and var/vc_train/corpus.npz:
#       bash bench/device/vc_train.sh weights train --minutes 8 --total-minutes 17
#   next calls, carry var/vc_train/corpus.npz:
#       bash bench/device/vc_train.sh train --minutes 8 --total-minutes 17
# Makes var/transport/kokoro.onnx.xz with: xz -T2 -9 -k -c var/models/kokoro-v1.0.int8.onnx
# When the tree plus that file pass a call's 64 MiB, split it (split -b 40M -d kokoro.onnx.xz
# var/transport/kokoro.onnx.xz.) and carry the parts in two chained calls: the first runs
#       bash bench/device/vc_train.sh stash            (keeps the parts carried so far on the machine)
# and the next `weights` joins the kept parts with those it carries.
# The exported weights (18.9 MB) come back split under 16 MiB: cat content_encoder.pt.* > content_encoder.pt
# and the corpus with: .venv/bin/python -m workers.gpu_vc.content.corpus --out var/vc_train
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-var/vc_state/out}
mkdir -p var/models var/vc_state "$OUT"
if [ "${1:-}" = stash ]; then
    shift
    mkdir -p var/vc_state/transport
    cp -v var/transport/kokoro.onnx.xz.* var/vc_state/transport/
fi
if [ "${1:-}" = weights ]; then
    shift
    t0=$(date +%s)
    xz=var/transport/kokoro.onnx.xz
    if [ ! -f "$xz" ]; then
        cp var/transport/kokoro.onnx.xz.* var/vc_state/transport/
        cat var/vc_state/transport/kokoro.onnx.xz.* > var/vc_state/kokoro.onnx.xz
        xz=var/vc_state/kokoro.onnx.xz
    fi
    python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open('var/models/kokoro-v1.0.int8.onnx', 'wb'))" "$xz"
    python3 -c "from pathlib import Path; from workers.gpu_tts.convert import convert; convert(Path('var/models/kokoro-v1.0.int8.onnx'), Path('var/models/kokoro-v1.0.pt'))"
    echo "weights ready in $(( $(date +%s) - t0 )) s"
fi
[ $# -eq 0 ] || [ -f var/models/kokoro-v1.0.pt ] || { echo "no converted weights: the machine was not warm"; exit 3; }
if [ "${1:-}" = train ]; then
    shift
    args=()
    while [ $# -gt 0 ] && [ "$1" != speed ]; do args+=("$1"); shift; done
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
    python3 -m workers.gpu_vc.content.train --weights var/models/kokoro-v1.0.pt --corpus var/vc_train/corpus.npz \
        --state var/vc_state/state.pt --export var/vc_state/content_encoder.pt "${args[@]}" 2>&1 | tee "$OUT/train.log"
    split -b 15000000 -d var/vc_state/content_encoder.pt "$OUT/content_encoder.pt."
fi
if [ "${1:-}" = speed ]; then
    python3 bench/device/vc_kokoro_speed.py --weights var/models/kokoro-v1.0.pt --encoder var/vc_state/content_encoder.pt \
        --corpus var/vc_train/corpus.npz 2>&1 | tee "$OUT/speed.log"
fi
