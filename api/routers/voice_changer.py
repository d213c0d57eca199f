"""Voice changer page and the Convert action (upload or in-browser recording)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.forms import Reuse, clamped, price_rule, reuse, with_voice_note
from api.generation import start_voice_conversion
from api.routers.clips import queued_card
from api.routers.tts import chosen_voice
from api.routers.voices import ready_voices
from api.templating import render
from studio.kinds import MAX_PITCH, MIN_PITCH, ClipKind
from studio.settings import get_settings
from studio.voices import DEFAULT_VOICE, VOICES

router = APIRouter()


# The formant choices of the form: "auto" (tuned per clip) or a fixed shift.
FORMANTS = (("auto", "Auto (closest to the voice)"), ("0.88", "Deeper"), ("1.0", "Unchanged"), ("1.12", "Brighter"))


def _formant_choice(value: object) -> str:
    """The form's choice for a stored formant: the listed one nearest to it, or auto."""
    if value is None:
        return "auto"
    try:
        wanted = float(value)
    except (TypeError, ValueError):
        return "auto"
    return min((v for v, _ in FORMANTS[1:]), key=lambda v: abs(float(v) - wanted))


def _with_recording_note(again: Reuse | None) -> Reuse | None:
    """Settings come back, the recording does not (uploads are not kept as a form's input): say so."""
    if again is None or again.note:
        return again
    name = again.get("source_name") or again.text or "the recording"
    note = (
        f"Voice, pitch and character are filled in from “{name}”. "
        "Upload or record the speech again: a recording cannot be refilled."
    )
    return Reuse(text=again.text, voice=again.voice, settings=again.settings, note=note)


@router.get("/voice-changer")
async def voice_changer_page(
    request: Request,
    user: CurrentUser,
    voice: Annotated[str, Query(max_length=64)] = "",
    use: Annotated[str, Query(max_length=64)] = "",
):  # noqa: ANN201
    """The form; ``?use=<clip id>`` fills its settings from one of the user's voice-changer clips."""
    settings = get_settings()
    own_voices = await asyncio.to_thread(ready_voices, user.id)
    again = _with_recording_note(await asyncio.to_thread(reuse, user.id, use, ClipKind.VOICE_CONVERSION))
    pitch = clamped(again.get("pitch") if again else 0.0, 0.0, MIN_PITCH, MAX_PITCH)
    shown = chosen_voice(voice or (again.voice if again else ""), own_voices)
    return render(
        request, "voice_changer.html", voices=VOICES.values(), own_voices=own_voices, default_voice=shown,
        pricing=price_rule(ClipKind.VOICE_CONVERSION), max_minutes=settings.vc_max_seconds / 60,
        max_mb=settings.vc_max_upload_bytes // (1024 * 1024), min_pitch=MIN_PITCH, max_pitch=MAX_PITCH,
        again=again if voice else with_voice_note(again, shown), pitch=round(pitch), formants=FORMANTS,
        formant=_formant_choice(again.get("formant")) if again else "auto",
    )  # fmt: skip


def parse_formant(value: str) -> float | None:
    """'auto' (tuned per clip) or a number."""
    if value.strip().lower() in ("", "auto"):
        return None
    return float(value)


@router.post("/voice-changer", dependencies=[CsrfChecked])
async def convert(
    request: Request,
    user: CurrentUser,
    client: TemporalClient,
    audio: Annotated[UploadFile, File(description="the recording to re-voice")],
    voice: Annotated[str, Form(max_length=64)] = DEFAULT_VOICE,
    pitch: Annotated[float, Form()] = 0.0,
    formant: Annotated[str, Form(max_length=16, pattern=r"^(auto|\d(\.\d+)?)?$")] = "auto",
):  # noqa: ANN201
    data = await audio.read()
    clip = await start_voice_conversion(client, user, data, audio.filename, voice, pitch, parse_formant(formant))
    return queued_card(request, clip)
