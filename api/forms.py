"""What the generation forms show besides their fields: the price rule, so the page prices a request
as it is edited exactly as the server will charge it, and "use again", a form filled from a clip.
"""

import math
import uuid
from dataclasses import dataclass, replace
from typing import Any

from studio.db import session_scope
from studio.kinds import KINDS, ClipKind
from studio.models import Clip

# The form field holding the setting a kind's ``units`` counts (sound effects: one unit per
# variation); a kind not named here charges one unit per request.
UNITS_FIELDS: dict[ClipKind, str] = {ClipKind.SOUND_EFFECT: "variations"}


@dataclass(frozen=True)
class PriceRule:
    """Rendered as the submit row's data attributes; api/static/forms.js multiplies them out.

    ``units_field`` names the form field whose value (``units_measure`` "value") or character
    count ("length") gives the units, in steps of ``units_per``. A per-character or per-second price
    needs only a different rule here, not a different script."""

    unit_price: int
    units_field: str = ""
    units_measure: str = "value"
    units_per: int = 1

    def price(self, measure: int) -> int:
        """The price of a request whose units field measures ``measure`` (what the script does)."""
        if not self.units_field:
            return self.unit_price
        return self.unit_price * max(1, -(-measure // self.units_per))


def price_rule(kind: ClipKind) -> PriceRule:
    field = UNITS_FIELDS.get(kind, "")
    return PriceRule(unit_price=KINDS[kind].price({field: 1} if field else {}), units_field=field)


@dataclass(frozen=True)
class Reuse:
    """A clip's request, to fill its form again; ``note`` says what could not be filled."""

    text: str = ""
    voice: str = ""
    settings: dict[str, Any] | None = None
    note: str = ""

    def get(self, name: str, default: Any = None) -> Any:  # noqa: ANN401
        return (self.settings or {}).get(name, default)


NOT_FOUND = (
    "That clip is not in your history (it may have been deleted, or it is another kind of clip), "
    "so the form starts empty."
)


def reuse(user_id: uuid.UUID, clip_id: str, kind: ClipKind) -> Reuse | None:
    """The owner's clip of this kind as a ``Reuse``; a note alone for an unknown, foreign or
    other-kind id (the same words for each, so nobody learns whether another user's id exists);
    None when no clip was asked for."""
    if not clip_id:
        return None
    try:
        wanted = uuid.UUID(clip_id)
    except ValueError:
        return Reuse(note=NOT_FOUND)
    with session_scope() as db:
        clip = db.get(Clip, wanted)
        if clip is None or clip.user_id != user_id or clip.kind != kind:
            return Reuse(note=NOT_FOUND)
        return Reuse(text=clip.text, voice=clip.voice, settings=dict(clip.settings or {}))


def clamped(value: Any, default: float, low: float, high: float) -> float:  # noqa: ANN401
    """A stored setting as a number inside the form's range (the default for anything odd)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(number) else min(max(number, low), high)


def with_voice_note(again: Reuse | None, voice_shown: str) -> Reuse | None:
    """Says so when the clip's voice can no longer be picked (a deleted voice of the user's own)."""
    if again is None or not again.voice or again.voice == voice_shown or again.settings is None:
        return again
    note = "The voice it used is no longer available, so the default voice is chosen."
    return replace(again, note=f"{again.note} {note}".strip())
