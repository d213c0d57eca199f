"""Sound effects page and the Generate action (prompt, duration, influence, seed, variations)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.errors import UserError
from api.generation import start_sound_effect
from api.routers.clips import queued_card
from api.templating import render
from studio import kinds
from studio.settings import get_settings

router = APIRouter()


@router.get("/sound-effects")
def sound_effects_page(request: Request, user: CurrentUser):  # noqa: ANN201
    return render(
        request, "sound_effects.html", price=get_settings().price_per_generation, limits=kinds,
    )  # fmt: skip


def parse_seed(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):  # "²".isdigit() is True, int("²") fails
        raise UserError("The seed must be a whole number (or empty for a random one).", 422)
    return int(value)


@router.post("/sound-effects", dependencies=[CsrfChecked])
async def generate(
    request: Request,
    user: CurrentUser,
    client: TemporalClient,
    prompt: Annotated[str, Form(max_length=2000)] = "",
    duration: Annotated[float, Form()] = kinds.DEFAULT_SECONDS,
    influence: Annotated[float, Form()] = kinds.DEFAULT_INFLUENCE,
    variations: Annotated[int, Form()] = 1,
    seed: Annotated[str, Form(max_length=20)] = "",
):  # noqa: ANN201
    clip = await start_sound_effect(client, user, prompt, duration, influence, variations, parse_seed(seed))
    return queued_card(request, clip)
