"""Every kind of clip the studio makes, declared once.

A kind says what a request may ask for (its settings, their limits, and the one check that the
site, the public API and the worker all run), what it costs, which inference activity on which
GPU task queue makes it, the stage shown while that runs, where its audio is stored, how much
audio it will make (to size timeouts), and how history and the public API label it.
"""

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.pronunciation import PRONUNCIATION_RULES, clip_rules_problem
from studio.settings import get_settings
from studio.stages import Stage
from studio.voices import CUSTOM_ID_LENGTH, VOICES, VoiceRecipe, is_custom_voice_id
from temporal import queues


class ClipKind(enum.StrEnum):
    """A kind's name, as stored in ``clips.kind`` and sent to the workflow."""

    TTS = "tts"
    VOICE_CONVERSION = "voice-conversion"
    SOUND_EFFECT = "sound-effect"
    VOICE_DESIGN = "voice-design"  # a user's own voice: fitted to a recording, or a blend's preview


# Text to speech
MIN_SPEED, MAX_SPEED = 0.5, 2.0
# A speech request's ``text_normalization`` setting (ElevenLabs' ``apply_text_normalization``):
# "off" speaks the text as typed (digits and symbols left to the phonemiser); "auto" and "on"
# run the normaliser (auto is the default, and Kokoro always gains from it).
TEXT_NORMALIZATION = "text_normalization"
NORMALIZATION_MODES = ("auto", "on", "off")
TTS_CHARS_PER_AUDIO_SECOND = 12.0  # Kokoro speaks ~14-16 characters a second at speed 1; fewer is safer

# Voice changer
MIN_PITCH, MAX_PITCH = -12.0, 12.0  # semitones
MIN_FORMANT, MAX_FORMANT = 0.8, 1.3  # None: tuned per clip
LONGEST_UPLOAD_SECONDS = 300.0  # when an upload's length was not recorded: the longest accepted

# Sound effects
MIN_SECONDS, MAX_SECONDS, DEFAULT_SECONDS = 0.5, 22.0, 10.0
MAX_PROMPT_CHARS = 450
MAX_VARIATIONS = 4
DEFAULT_INFLUENCE = 0.3
MAX_SEED = 2**32 - 1


# Your own voices
MAX_VOICE_NAME_CHARS = 100
FIT_AUDIO_SECONDS = 300.0  # a fit's work, sized like this much audio (so a slow CPU fit gets ~20 minutes)
PREVIEW_AUDIO_SECONDS = 10.0


def _bad_number(value: float, low: float, high: float) -> bool:
    return math.isnan(value) or not (low <= value <= high)


def voice_problem(voice: str, settings: dict[str, Any]) -> str | None:
    """A message unless ``voice`` is a stock voice, or a user's voice whose recipe the site resolved."""
    if voice in VOICES:
        return None
    if is_custom_voice_id(voice) and VoiceRecipe.from_settings(settings) is not None:
        return None
    return "Choose one of the listed voices."


def tts_problem(text: str, voice: str, speed: float, settings: dict[str, Any] | None = None) -> str | None:
    """A message for the user if a speech request is out of range, else None."""
    max_chars = get_settings().max_text_chars
    if not text.strip():
        return "Type some text to speak."
    if len(text) > max_chars:
        return f"Text is {len(text)} characters; the limit is {max_chars}."
    if message := voice_problem(voice, settings or {}):
        return message
    if _bad_number(speed, MIN_SPEED, MAX_SPEED):
        return f"Speed must be between {MIN_SPEED} and {MAX_SPEED}."
    if (settings or {}).get(TEXT_NORMALIZATION, "auto") not in NORMALIZATION_MODES:
        return f"apply_text_normalization must be one of {', '.join(NORMALIZATION_MODES)}."
    if (rules := (settings or {}).get(PRONUNCIATION_RULES)) is not None:
        return clip_rules_problem(rules)
    return None


def voice_change_problem(
    voice: str, pitch: float, formant: float | None, settings: dict[str, Any] | None = None
) -> str | None:
    """A message for the user if a voice-changer request is out of range, else None."""
    if message := voice_problem(voice, settings or {}):
        return message
    if _bad_number(pitch, MIN_PITCH, MAX_PITCH):
        return f"Pitch shift must be between {MIN_PITCH:+g} and {MAX_PITCH:+g} semitones."
    if formant is not None and _bad_number(formant, MIN_FORMANT, MAX_FORMANT):
        return f"Formant shift must be between {MIN_FORMANT} and {MAX_FORMANT}."
    return None


def sound_effect_problem(prompt: str, seconds: float, influence: float, variations: int, seed: int) -> str | None:
    """A message for the user if a sound-effect request is out of range, else None."""
    if not prompt.strip():
        return "Describe the sound you want."
    if len(prompt) > MAX_PROMPT_CHARS:
        return f"The prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}."
    if _bad_number(seconds, MIN_SECONDS, MAX_SECONDS):
        return f"Duration must be between {MIN_SECONDS:g} and {MAX_SECONDS:g} seconds."
    if _bad_number(influence, 0, 1):
        return "Prompt influence must be between 0 and 1."
    if not (1 <= variations <= MAX_VARIATIONS):
        return f"Variations must be between 1 and {MAX_VARIATIONS}."
    if not (0 <= seed <= MAX_SEED):
        return f"The seed must be a whole number from 0 to {MAX_SEED}."
    return None


def _tts_check(text: str, voice: str, settings: dict[str, Any]) -> str | None:
    return tts_problem(text, voice, float(settings.get("speed", 1.0)), settings)


def _voice_change_check(text: str, voice: str, settings: dict[str, Any]) -> str | None:
    formant = settings.get("formant")
    pitch = float(settings.get("pitch", 0.0))
    return voice_change_problem(voice, pitch, None if formant is None else float(formant), settings)


def voice_name_problem(name: str) -> str | None:
    if not name.strip():
        return "Give the voice a name."
    if len(name) > MAX_VOICE_NAME_CHARS:
        return f"The name is {len(name)} characters; the limit is {MAX_VOICE_NAME_CHARS}."
    return None


def is_fit(settings: dict[str, Any]) -> bool:
    """A voice design fits a recording (else it renders a blend's preview)."""
    return settings.get("method") == "fit"


def _voice_design_check(text: str, voice: str, settings: dict[str, Any]) -> str | None:
    """``text`` is the voice's name and ``voice`` the new voice's id; a fit names its recording,
    a blend carries its recipe."""
    if message := voice_name_problem(text):
        return message
    if len(voice) != CUSTOM_ID_LENGTH or not is_custom_voice_id(voice):
        return "A new voice needs a new voice id."
    if is_fit(settings):
        return None if settings.get("source_key") else "Upload a recording of the voice."
    if settings.get("method") == "blend":
        return None if VoiceRecipe.from_settings(settings) else "Choose stock voices to blend."
    return "Unknown way to make a voice."


def sound_effect_params(settings: dict[str, Any]) -> tuple[float, float, int, int]:
    """(seconds, influence, variations, seed) of a stored sound-effect request, defaults filled in."""
    return (
        float(settings.get("duration_seconds", DEFAULT_SECONDS)),
        float(settings.get("prompt_influence", DEFAULT_INFLUENCE)),
        int(settings.get("variations", 1)),
        int(settings.get("seed", 0)),
    )


def _sound_effect_check(text: str, voice: str, settings: dict[str, Any]) -> str | None:
    return sound_effect_problem(text, *sound_effect_params(settings))


@dataclass(frozen=True)
class Kind:
    """One kind of clip. ``check`` is its settings check on a stored request; ``units`` the price
    rule (generations charged); ``audio_seconds`` an upper estimate of the audio it makes."""

    name: ClipKind
    activity: str  # the inference activity
    task_queue: str  # the GPU queue that serves it
    stage: Stage  # shown while the inference runs
    key_prefix: str  # its audio lives at <prefix>/<clip id>.wav|.mp3 (see studio.storage.ClipObjects)
    label: str  # history and cards
    api_source: str  # ElevenLabs history "source"
    check: Callable[[str, str, dict[str, Any]], str | None]  # (text, voice, settings) -> message or None
    units: Callable[[dict[str, Any]], int]
    audio_seconds: Callable[[str, dict[str, Any]], float]
    timestamps: bool = False  # the worker also stores word timings and captions (studio.storage.ClipObjects)

    def price(self, settings: dict[str, Any]) -> int:
        return get_settings().price_per_generation * self.units(settings)


def _tts_seconds(text: str, settings: dict[str, Any]) -> float:
    return len(text) / TTS_CHARS_PER_AUDIO_SECOND / max(float(settings.get("speed", 1.0) or 1.0), 0.1)


def _sfx_seconds(text: str, settings: dict[str, Any]) -> float:
    return float(settings.get("duration_seconds", DEFAULT_SECONDS)) * variations(settings)


def variations(settings: dict[str, Any]) -> int:
    """How many variations a request asks for (sound effects; 1 for every other kind)."""
    return max(1, int(settings.get("variations", 1) or 1))


KINDS: dict[ClipKind, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            ClipKind.TTS, "synthesize_speech", queues.GPU_TTS, Stage.SYNTHESIZING, "tts", "Speech", "TTS",
            check=_tts_check, units=lambda settings: 1, audio_seconds=_tts_seconds, timestamps=True,
        ),
        Kind(
            ClipKind.VOICE_CONVERSION, "convert_voice", queues.GPU_VC, Stage.CONVERTING, "vc", "Voice changer", "STS",
            check=_voice_change_check, units=lambda settings: 1,
            audio_seconds=lambda text, settings: float(settings.get("source_seconds") or LONGEST_UPLOAD_SECONDS),
        ),
        Kind(
            ClipKind.SOUND_EFFECT, "generate_sound_effect", queues.GPU_SFX, Stage.GENERATING, "sfx", "Sound effect",
            "SFX", check=_sound_effect_check, units=variations, audio_seconds=_sfx_seconds,
        ),
        Kind(
            ClipKind.VOICE_DESIGN, "design_voice", queues.GPU_TTS, Stage.FITTING, "voices", "Voice design",
            "VoiceDesign", check=_voice_design_check,
            units=lambda settings: get_settings().voice_fit_generations if is_fit(settings) else 0,
            audio_seconds=lambda text, settings: FIT_AUDIO_SECONDS if is_fit(settings) else PREVIEW_AUDIO_SECONDS,
        ),
    )
}  # fmt: skip
INFERENCE_STAGES = frozenset(kind.stage for kind in KINDS.values())


def problem(kind: str, text: str, voice: str, settings: dict[str, Any]) -> str | None:
    """The kind's check applied to a stored request (what the worker receives), else None."""
    if (declared := kind_of(kind)) is None:
        return f"Unknown kind of clip {kind!r}."
    try:
        return declared.check(text, voice, settings)
    except (TypeError, ValueError):
        return "The request's settings are not valid."


def kind_of(name: str) -> Kind | None:
    """The declaration for a kind's name (as stored and sent to the workflow), or None if unknown."""
    try:
        return KINDS[ClipKind(name)]
    except ValueError:
        return None
