"""Voice changer page and the Convert action (upload or in-browser recording)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.generation import start_voice_conversion
from api.routers.clips import queued_card
from api.routers.tts import chosen_voice
from api.routers.voices import ready_voices
from api.templating import render
from studio.kinds import MAX_PITCH, MIN_PITCH
from studio.settings import get_settings
from studio.voices import DEFAULT_VOICE, VOICES

router = APIRouter()


@router.get("/voice-changer")
async def voice_changer_page(request: Request, user: CurrentUser, voice: Annotated[str, Query(max_length=64)] = ""):  # noqa: ANN201
    settings = get_settings()
    own_voices = await asyncio.to_thread(ready_voices, user.id)
    return render(
        request, "voice_changer.html", voices=VOICES.values(), own_voices=own_voices,
        default_voice=chosen_voice(voice, own_voices),
        price=settings.price_per_generation, max_minutes=settings.vc_max_seconds / 60,
        max_mb=settings.vc_max_upload_bytes // (1024 * 1024), min_pitch=MIN_PITCH, max_pitch=MAX_PITCH,
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
