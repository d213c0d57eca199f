"""Command line for the Kokoro weight converter: the int8 ONNX export -> the PyTorch state dict.

``python -m workers.gpu_tts.convert_cli [--onnx PATH] [--out PATH] [--force]`` (setup runs it on
a machine with CUDA; elsewhere the worker converts on first use of the torch engine). Without
``--onnx`` it builds the setup's model first (``assets.ensure_assets``); it skips the conversion
when the state dict is newer than the export, unless ``--force``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from workers.gpu_tts.assets import ensure_assets
from workers.gpu_tts.convert import WEIGHTS_FILE, convert

log = logging.getLogger(__name__)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx", type=Path, help="the int8 export (default: the setup's model)")
    parser.add_argument("--out", type=Path, help=f"where to write the state dict (default: next to it, {WEIGHTS_FILE})")
    parser.add_argument("--force", action="store_true", help="convert even if the state dict is up to date")
    args = parser.parse_args()
    onnx_path = args.onnx or ensure_assets()[0]
    out = args.out or onnx_path.parent / WEIGHTS_FILE
    if not args.force and out.exists() and out.stat().st_mtime >= onnx_path.stat().st_mtime:
        log.info("%s is up to date", out)
        return
    convert(onnx_path, out)


if __name__ == "__main__":
    main()
