"""The style pack a request speaks with: a stock voice's, a blend of stock voices, or a user's
fitted pack from the object store.

The site resolved the user's voice to a ``studio.voices.VoiceRecipe`` (after checking it is
theirs), so this worker needs no database. Blends and fitted packs are cached by recipe: a
user's voice is made once per process, not per request.
"""

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from studio.storage import ObjectStore
from studio.voices import VOICES, VoiceRecipe

PACK_SHAPE = (510, 1, 256)  # one 256-d style per utterance length (1..510 tokens)
CACHED_PACKS = 256  # ~0.5 MB each


@dataclass(frozen=True, eq=False)  # compared by identity: a pack is an array
class SpeakingVoice:
    """What the engine needs to speak: espeak's language and the voice's style pack."""

    lang: str
    pack: np.ndarray  # float32 PACK_SHAPE


def pack_bytes(pack: np.ndarray) -> bytes:
    """A pack as stored (numpy's .npy format, float32)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(pack, dtype=np.float32).reshape(PACK_SHAPE), allow_pickle=False)
    return buffer.getvalue()


def pack_from_bytes(data: bytes) -> np.ndarray:
    pack = np.load(io.BytesIO(data), allow_pickle=False)
    if pack.shape != PACK_SHAPE or pack.dtype != np.float32 or not np.isfinite(pack).all():
        raise ValueError(f"not a voice pack: {pack.dtype} {pack.shape}")
    return pack


class VoicePacks:
    """Stock packs plus users' voices made from their recipes, cached (thread-safe)."""

    def __init__(self, stock: dict[str, np.ndarray], store: ObjectStore | None = None) -> None:
        self.stock = stock
        self.store = store
        self._cache: OrderedDict[tuple, SpeakingVoice] = OrderedDict()
        self._lock = threading.Lock()

    def stock_voice(self, voice_id: str) -> SpeakingVoice:
        if voice_id not in VOICES or voice_id not in self.stock:
            raise ValueError(f"unknown voice {voice_id!r}")
        return SpeakingVoice(VOICES[voice_id].lang, self.stock[voice_id])

    def blend(self, weights: dict[str, float]) -> np.ndarray:
        """The weighted sum of stock packs (weights as given: the site normalised them)."""
        return sum(float(w) * self.stock[v].astype(np.float32) for v, w in weights.items()).astype(np.float32)

    def resolve(self, voice_id: str, recipe: VoiceRecipe | None) -> SpeakingVoice:
        """The voice to speak with; raises ValueError for an unknown stock voice, KeyError for a
        pack missing from the store."""
        if recipe is None:
            return self.stock_voice(voice_id)
        key = (recipe.lang, recipe.pack_key, tuple(sorted((recipe.blend or {}).items())))
        with self._lock:
            if (hit := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return hit
        if recipe.blend is not None:
            pack = self.blend(recipe.blend)
        else:
            if self.store is None or not self.store.exists(recipe.pack_key):
                raise KeyError(f"the voice's pack {recipe.pack_key!r} is not in the store")
            pack = pack_from_bytes(self.store.get_bytes(recipe.pack_key))
        voice = SpeakingVoice(recipe.lang, pack)
        with self._lock:
            self._cache[key] = voice
            while len(self._cache) > CACHED_PACKS:
                self._cache.popitem(last=False)
        return voice

    def forget(self, pack_key: str) -> None:
        """Drop a fitted pack from the cache (it was replaced or deleted)."""
        with self._lock:
            for key in [k for k in self._cache if k[1] == pack_key]:
                del self._cache[key]
