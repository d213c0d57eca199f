"""Target voice profiles: how each studio voice sounds, measured once from its own speech.

The profile is computed from Kokoro rendering a fixed set of phonetically varied sentences
in that voice (~25 s), then cached on disk, so each voice costs one render per machine.
"""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.settings import get_settings
from studio.voices import VOICES
from workers.gpu_vc import features, speaker, world

log = logging.getLogger(__name__)

PROFILE_TEXTS = (
    "The rainbow is a division of white light into many beautiful colors.",
    "These take the shape of a long round arch, with its path high above.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
    "Throughout the centuries people have explained the rainbow in various ways.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and a snack for her brother.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her on Wednesday.",
)
PROFILE_VERSION = 3  # bump when the analysis changes, so cached profiles are rebuilt


@dataclass
class TargetProfile:
    voice: str
    stats: features.VoiceStats
    embedding: np.ndarray


def _path(voice: str) -> Path:
    directory = get_settings().vc_profiles_dir
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{voice}.v{PROFILE_VERSION}.npz"


def build(voice: str) -> TargetProfile:
    from workers.gpu_tts.engine import get_engine  # the TTS model renders the reference speech

    engine = get_engine()
    renders = [engine.synthesize(text, voice) for text in PROFILE_TEXTS]
    analyses = [world.analyse(audio, engine.sample_rate) for audio in renders]
    f0 = torch.cat([a.f0 for a in analyses])
    sp = torch.cat([a.sp for a in analyses])
    embedding = speaker.embed(np.concatenate(renders), engine.sample_rate)
    return TargetProfile(voice, features.stats(f0, features.code(sp, engine.sample_rate)), embedding)


_cache: dict[str, TargetProfile] = {}
_lock = threading.Lock()


def get(voice: str) -> TargetProfile:
    """The voice's profile: from memory, else disk, else built now (tens of seconds on a CPU)."""
    if voice not in VOICES:
        raise KeyError(voice)
    with _lock:
        if voice in _cache:
            return _cache[voice]
        path = _path(voice)
        if path.exists():
            data = np.load(path)
            profile = TargetProfile(voice, features.VoiceStats.from_arrays(data), data["embedding"])
        else:
            log.info("building voice profile for %s", voice)
            profile = build(voice)
            tmp = path.with_suffix(".partial.npz")
            np.savez(tmp, embedding=profile.embedding, **profile.stats.to_arrays())
            tmp.replace(path)
        _cache[voice] = profile
        return profile
