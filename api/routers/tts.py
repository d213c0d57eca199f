"""Text-to-speech page and the Generate action."""

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from api.clip_events import SITE_STREAM
from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.forms import clamped, price_rule, reuse, with_voice_note
from api.generation import start_tts
from api.routers.clips import queued_card
from api.routers.voices import ready_voices
from api.templating import render
from studio import pronunciation_library
from studio.db import session_scope
from studio.kinds import MAX_SPEED, MIN_SPEED, ClipKind
from studio.settings import get_settings
from studio.voices import DEFAULT_VOICE, VOICES

router = APIRouter()


def site_rules(user_id: uuid.UUID) -> list[dict]:
    with session_scope() as db:
        return pronunciation_library.site_rules(db, user_id)


def chosen_voice(voice: str, own_voices: list) -> str:
    """The voice a page's ``?voice=`` asks for, if it is one the user may pick, else the default."""
    return voice if voice in VOICES or any(o.id == voice for o in own_voices) else DEFAULT_VOICE


@router.get("/tts")
async def tts_page(
    request: Request,
    user: CurrentUser,
    voice: Annotated[str, Query(max_length=64)] = "",
    use: Annotated[str, Query(max_length=64)] = "",
):  # noqa: ANN201
    """The form; ``?use=<clip id>`` fills it from one of the user's speech clips ("use again")."""
    settings = get_settings()
    own_voices = await asyncio.to_thread(ready_voices, user.id)
    again = await asyncio.to_thread(reuse, user.id, use, ClipKind.TTS)
    shown = chosen_voice(voice or (again.voice if again else ""), own_voices)
    return render(
        request, "tts.html", voices=VOICES.values(), own_voices=own_voices, default_voice=shown,
        max_chars=settings.max_text_chars, pricing=price_rule(ClipKind.TTS),
        min_speed=MIN_SPEED, max_speed=MAX_SPEED, again=again if voice else with_voice_note(again, shown),
        text=again.text if again else "",
        speed=clamped(again.get("speed") if again else 1.0, 1.0, MIN_SPEED, MAX_SPEED),
    )  # fmt: skip


@router.post("/tts", dependencies=[CsrfChecked])
async def generate(
    request: Request,
    user: CurrentUser,
    client: TemporalClient,
    text: Annotated[str, Form(max_length=100_000)] = "",
    voice: Annotated[str, Form(max_length=64)] = DEFAULT_VOICE,
    speed: Annotated[float, Form()] = 1.0,
):  # noqa: ANN201
    # Streamed: the page plays each part as it lands, then the finished clip as one file. The user's
    # pronunciation rules (the Pronunciation page) travel with the clip.
    rules = await asyncio.to_thread(site_rules, user.id)
    clip = await start_tts(client, user, text, voice, speed, stream=SITE_STREAM, pronunciation_rules=rules)
    return queued_card(request, clip)


@router.get("/balance")
def balance(request: Request, user: CurrentUser):  # noqa: ANN201
    return render(request, "partials/balance.html")
