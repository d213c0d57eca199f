"""Sound effects page and the Generate action (prompt, duration, influence, seed, variations)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from api.deps import CsrfChecked, CurrentUser, TemporalClient
from api.errors import UserError
from api.forms import clamped, price_rule, reuse
from api.generation import start_sound_effect
from api.routers.clips import queued_card
from api.templating import render
from studio import kinds, sfx_catalogue
from studio.kinds import ClipKind

router = APIRouter()


@router.get("/sound-effects")
async def sound_effects_page(request: Request, user: CurrentUser, use: Annotated[str, Query(max_length=64)] = ""):  # noqa: ANN201
    """The form, with what the engine can make (examples to click, its sounds by category) shown
    before anyone types; ``?use=<clip id>`` fills it from one of the user's sound effects."""
    again = await asyncio.to_thread(reuse, user.id, use, ClipKind.SOUND_EFFECT)
    form = {"prompt": "", "duration": kinds.DEFAULT_SECONDS, "influence": kinds.DEFAULT_INFLUENCE,
            "variations": 1, "seed": ""}  # fmt: skip
    if again and again.settings is not None:
        try:
            seconds, influence, variations, seed = kinds.sound_effect_params(again.settings)
            form = {
                "prompt": again.text[: kinds.MAX_PROMPT_CHARS],
                "duration": clamped(seconds, kinds.DEFAULT_SECONDS, kinds.MIN_SECONDS, kinds.MAX_SECONDS),
                "influence": clamped(influence, kinds.DEFAULT_INFLUENCE, 0.0, 1.0),
                "variations": min(max(variations, 1), kinds.MAX_VARIATIONS),
                "seed": str(seed),
            }
        except (TypeError, ValueError):  # a stored request too odd to refill: the prompt at least
            form["prompt"] = again.text[: kinds.MAX_PROMPT_CHARS]
    rule = price_rule(ClipKind.SOUND_EFFECT)
    return render(
        request, "sound_effects.html", pricing=rule, unit_price=rule.unit_price, limits=kinds, again=again,
        form=form, units=form["variations"], categories=sfx_catalogue.CATEGORIES, examples=sfx_catalogue.EXAMPLES,
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
