"""Text-to-speech page and the Generate action."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.generation import start_tts
from api.routers.clips import queued_card
from api.templating import render
from studio.kinds import MAX_SPEED, MIN_SPEED
from studio.settings import get_settings
from studio.voices import DEFAULT_VOICE, VOICES

router = APIRouter()


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/tts", status_code=303)


@router.get("/tts")
def tts_page(request: Request, user: CurrentUser):  # noqa: ANN201
    settings = get_settings()
    return render(
        request, "tts.html", voices=VOICES.values(), default_voice=DEFAULT_VOICE,
        max_chars=settings.max_text_chars, price=settings.price_per_generation,
        min_speed=MIN_SPEED, max_speed=MAX_SPEED,
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
    clip = await start_tts(client, user, text, voice, speed)
    return queued_card(request, clip)


@router.get("/balance")
def balance(request: Request, user: CurrentUser):  # noqa: ANN201
    return render(request, "partials/balance.html")
