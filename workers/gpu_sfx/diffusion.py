"""Second sound-effect engine, for operators who have text-to-audio weights: a ``diffusers``
pipeline (AudioLDM, AudioLDM 2 or Stable Audio) loaded from a local directory.

Point ``STUDIO_SFX_ENGINE=diffusers`` and ``STUDIO_SFX_MODEL_DIR`` at a directory saved with
``save_pretrained`` (its ``model_index.json`` names the pipeline class). Nothing is downloaded.
Prompt influence maps to classifier-free guidance; the seed drives the pipeline's generator; the
output is resampled to 44.1 kHz, cut to the requested length and mastered like the procedural
engine's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from workers.gpu_sfx.dsp import SFX_RATE
from workers.gpu_sfx.prompt import Layer, Plan
from workers.gpu_sfx.result import SfxResult, master
from workers.gpu_sfx.sources import Params

log = logging.getLogger(__name__)

# How each supported pipeline takes the length, and where its sample rate lives.
_LENGTH_ARGUMENT = {
    "AudioLDMPipeline": "audio_length_in_s",
    "AudioLDM2Pipeline": "audio_length_in_s",
    "StableAudioPipeline": "audio_end_in_s",
}


class DiffusersEngine:
    name = "diffusers"

    def __init__(self, model_dir: Path, device: str = "cpu", steps: int = 50) -> None:
        import diffusers
        import torch

        index = json.loads((model_dir / "model_index.json").read_text())
        self.pipeline_class = index["_class_name"]
        if self.pipeline_class not in _LENGTH_ARGUMENT:
            raise ValueError(f"{model_dir} holds a {self.pipeline_class}; supported: {', '.join(_LENGTH_ARGUMENT)}")
        dtype = torch.float16 if device == "cuda" else torch.float32
        pipe = getattr(diffusers, self.pipeline_class).from_pretrained(model_dir, local_files_only=True, dtype=dtype)
        self.pipe = pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.device, self.steps = device, steps
        vocoder = getattr(pipe, "vocoder", None)
        self.model_rate = int(vocoder.config.sampling_rate if vocoder is not None else pipe.vae.sampling_rate)
        log.info("sound effects: %s from %s on %s (%d Hz)", self.pipeline_class, model_dir, device, self.model_rate)

    def understand(self, prompt: str) -> Plan:
        """The whole prompt goes to the model as it is."""
        return Plan(layers=[Layer("diffusion", Params(), prompt, "diffusion")])

    def warm_up(self) -> None:
        """Nothing left to load: the pipeline loaded in the constructor."""

    def generate(self, prompt: str, seconds: float, influence: float, seed: int, variations: int) -> SfxResult:
        import torch

        generator = torch.Generator(self.device).manual_seed(seed)
        kwargs = {
            _LENGTH_ARGUMENT[self.pipeline_class]: seconds,
            "num_inference_steps": self.steps,
            "guidance_scale": 1.0 + 9.0 * influence,  # 0: unguided, 1: strongly literal
            "num_waveforms_per_prompt": variations,
            "generator": generator,
        }
        audios = self.pipe(prompt, **kwargs).audios
        audios = [np.asarray(a.float().cpu() if hasattr(a, "cpu") else a, dtype=np.float32) for a in audios]
        return SfxResult([self._finish(a, seconds) for a in audios], self.understand(prompt).describe())

    def _finish(self, audio: np.ndarray, seconds: float) -> np.ndarray:
        """Mono, 44.1 kHz, exactly ``seconds`` long, mastered."""
        if audio.ndim > 1:
            audio = audio.mean(axis=0)
        gcd = np.gcd(SFX_RATE, self.model_rate)
        audio = resample_poly(audio, SFX_RATE // gcd, self.model_rate // gcd).astype(np.float32)
        n = int(round(seconds * SFX_RATE))
        audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
        return master(audio)
