"""Target voice profiles: how each studio voice sounds, measured once from its own speech.

A profile is measured from the voice's reference speech (``reference``: the voice speaking eight
phonetically varied sentences, ~25 s). This worker has no TTS engine: the TTS worker renders the
references into the object store; the conversion activity asks it for a missing one first
(``activities``). A measured profile is cached on disk (``STUDIO_VC_PROFILE_CACHE``, default
var/vc_profiles), so each voice is analysed once per machine (a few seconds).

A reference that is not in the store raises ``ProfileNotPublished``: never a silent render here.
"""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.settings import get_settings
from studio.storage import ObjectStore, get_store
from studio.voices import VOICES
from workers.gpu_vc import features, reference, speaker, world
from workers.gpu_vc.reference import PROFILE_VERSION

log = logging.getLogger(__name__)


class ProfileNotPublished(RuntimeError):
    """The voice's reference speech is not in the object store (yet): retry later, or publish it."""

    def __init__(self, voice: str) -> None:
        super().__init__(
            f"The profile for voice {voice!r} is not published yet: a TTS worker renders it on request "
            "(by hand: python -m workers.gpu_tts.vc_references)."
        )
        self.voice = voice


@dataclass
class TargetProfile:
    voice: str
    stats: features.VoiceStats
    embedding: np.ndarray


def measure(voice: str, renders: list[np.ndarray], rate: int) -> TargetProfile:
    """The profile of ``voice`` from its reference speech (each text's samples apart)."""
    analyses = [world.analyse(audio, rate) for audio in renders]
    f0 = torch.cat([a.f0 for a in analyses])
    sp = torch.cat([a.sp for a in analyses])
    embedding = speaker.embed(np.concatenate(renders), rate)
    return TargetProfile(voice, features.stats(f0, features.code(sp, rate)), embedding)


def _path(voice: str) -> Path:
    return get_settings().vc_profiles_dir / f"{voice}.v{PROFILE_VERSION}.npz"


def cached(voice: str) -> bool:
    """Whether this machine has measured the voice's profile already."""
    return _path(voice).exists()


def fetch_reference(store: ObjectStore, voice: str) -> tuple[list[np.ndarray], int]:
    """The voice's reference speech from the store; ``ProfileNotPublished`` when it is not there."""
    key = reference.reference_key(voice)
    if not store.exists(key):
        raise ProfileNotPublished(voice)
    return reference.unpack(store.get_bytes(key))


_cache: dict[str, TargetProfile] = {}
_lock = threading.Lock()
_voice_locks: dict[str, threading.Lock] = {}


def get(voice: str, store: ObjectStore | None = None) -> TargetProfile:
    """The voice's profile: from memory, else disk, else measured from the published reference
    (a few seconds). Raises ``KeyError`` for an unknown voice, ``ProfileNotPublished`` without a reference."""
    if voice not in VOICES:
        raise KeyError(voice)
    with _lock:
        if voice in _cache:
            return _cache[voice]
        voice_lock = _voice_locks.setdefault(voice, threading.Lock())
    with voice_lock:  # one measurement per voice; other voices are not held up
        if voice in _cache:
            return _cache[voice]
        path = _path(voice)
        if path.exists():
            data = np.load(path)
            profile = TargetProfile(voice, features.VoiceStats.from_arrays(data), data["embedding"])
        else:
            renders, rate = fetch_reference(store or get_store(), voice)
            log.info("measuring the voice profile of %s", voice)
            profile = measure(voice, renders, rate)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".partial.npz")
            np.savez(tmp, embedding=profile.embedding, **profile.stats.to_arrays())
            tmp.replace(path)
        with _lock:
            _cache[voice] = profile
        return profile
