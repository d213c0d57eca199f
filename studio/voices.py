"""The catalogue of English Kokoro v1.0 voices the site offers and the TTS worker accepts.

Ids follow Kokoro's convention: first letter accent (a = American, b = British), second
letter gender (f/m), then the voice's name.
"""

from dataclasses import dataclass

_IDS = (
    "af_heart af_alloy af_aoede af_bella af_jessica af_kore af_nicole af_nova af_river af_sarah af_sky "
    "am_adam am_echo am_eric am_fenrir am_liam am_michael am_onyx am_puck am_santa "
    "bf_alice bf_emma bf_isabella bf_lily "
    "bm_daniel bm_fable bm_george bm_lewis"
).split()

_ACCENTS = {"a": "American", "b": "British"}
_GENDERS = {"f": "Female", "m": "Male"}
_LANGS = {"a": "en-us", "b": "en-gb"}


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    accent: str
    gender: str
    lang: str  # espeak language code used for phonemes

    @property
    def label(self) -> str:
        return f"{self.name} ({self.accent} {self.gender.lower()})"


VOICES: dict[str, Voice] = {
    vid: Voice(
        id=vid,
        name=vid[3:].capitalize(),
        accent=_ACCENTS[vid[0]],
        gender=_GENDERS[vid[1]],
        lang=_LANGS[vid[0]],
    )
    for vid in _IDS
}
DEFAULT_VOICE = "af_heart"


# The sentence every voice's preview speaks (stock previews, blends and fitted voices alike), so
# previews compare voices, not texts.
PREVIEW_TEXT = "Hello! This is how I sound. I can read your stories, your news and your notes aloud."

# A user's own voice has an id like ElevenLabs' (20 letters and digits): never a stock id, which has "_".
CUSTOM_ID_LENGTH = 20
_CUSTOM_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LANGS = frozenset(_LANGS.values())
MAX_BLEND_VOICES = 5


def new_custom_voice_id() -> str:
    import secrets

    return "".join(secrets.choice(_CUSTOM_ID_ALPHABET) for _ in range(CUSTOM_ID_LENGTH))


def is_custom_voice_id(voice_id: str) -> bool:
    return len(voice_id) == CUSTOM_ID_LENGTH and all(c in _CUSTOM_ID_ALPHABET for c in voice_id)


@dataclass(frozen=True)
class VoiceRecipe:
    """How a TTS worker makes a user's voice: a weighted blend of stock voices, or a fitted style
    pack in the object store. The site resolves a user's voice id to its recipe (checking that the
    voice is theirs) and sends it with the request, so workers need no database."""

    lang: str  # espeak language code, as a stock voice's
    blend: dict[str, float] | None = None  # stock voice id -> weight (weights sum to 1)
    pack_key: str | None = None  # a fitted pack: float32 [510, 1, 256] saved by numpy, in the store

    def as_settings(self) -> dict:
        """The recipe as stored in a request's settings (``RECIPE_SETTING``)."""
        return {"lang": self.lang, "blend": self.blend, "pack_key": self.pack_key}

    @classmethod
    def from_settings(cls, settings: dict) -> "VoiceRecipe | None":
        """The recipe a request carries, or None (a stock voice, or a malformed recipe)."""
        raw = settings.get(RECIPE_SETTING)
        if not isinstance(raw, dict):
            return None
        recipe = cls(raw.get("lang", ""), raw.get("blend"), raw.get("pack_key"))
        return recipe if recipe.problem() is None else None

    def problem(self) -> str | None:
        if self.lang not in LANGS:
            return "Unknown voice language."
        if (self.blend is None) == (self.pack_key is None):
            return "A voice is either a blend or a fitted pack."
        if self.blend is not None:
            return blend_problem(self.blend)
        if not isinstance(self.pack_key, str) or not self.pack_key:
            return "A fitted voice needs its pack."
        return None


RECIPE_SETTING = "voice_recipe"
VOICE_NAME_SETTING = "voice_name"  # a user's voice's name when the clip was made (history labels)


def blend_problem(weights: dict[str, float]) -> str | None:
    """A message if a blend is not 1-5 stock voices with positive weights, else None."""
    if not isinstance(weights, dict) or not weights:
        return "Choose at least one stock voice to blend."
    if len(weights) > MAX_BLEND_VOICES:
        return f"Blend at most {MAX_BLEND_VOICES} voices."
    for voice_id, weight in weights.items():
        if voice_id not in VOICES:
            return f"Unknown stock voice {voice_id!r}."
        if not isinstance(weight, int | float) or not (0 < weight <= 1e6):
            return "Each voice in a blend needs a positive weight."
    return None


def normalised_blend(weights: dict[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1, largest first (a user may type 60 and 40)."""
    total = sum(weights.values())
    return {v: round(w / total, 6) for v, w in sorted(weights.items(), key=lambda kv: -kv[1])}


def blend_lang(weights: dict[str, float]) -> str:
    """A blend speaks with the accent of its heaviest voice."""
    return VOICES[max(weights, key=lambda v: weights[v])].lang
