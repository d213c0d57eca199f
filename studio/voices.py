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
