"""The voices page: stock voices with previews, and the user's own voices (blend stock voices, fit
one to a recording, rename, delete), each with its preview and, while fitting, its live progress.

A user's voice is private: every route looks it up by (user, id), and another user's voice is
answered 404 exactly like one that never existed. The work of making a voice (admission, credits,
the workflow) is ``api.generation``'s; this router only shows voices and edits their rows.
"""

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import CsrfChecked, CurrentUser, MaybeTemporalClient, TemporalClient
from api.errors import UserError
from api.generation import start_voice_blend, start_voice_fit
from api.previews import preview_link, ready_stock_previews
from api.routers.clips import clip_view
from api.templating import is_htmx, render
from studio import kinds, voice_library
from studio.db import get_sessionmaker, session_scope
from studio.kinds import KINDS, ClipKind
from studio.models import Clip, CustomVoice, User, VoiceCategory
from studio.settings import get_settings
from studio.stages import Stage
from studio.storage import get_store
from studio.voice_library import OwnVoice, VoiceState
from studio.voices import MAX_BLEND_VOICES, VOICES, Voice

log = logging.getLogger(__name__)
router = APIRouter()

ACCENTS = ("American", "British")
GENDERS = ("Female", "Male")
NO_SUCH_VOICE = "No such voice."
CONSENT_NEEDED = "Tick the box to confirm that you have the right to use this person's voice."
DEFAULT_BLEND = (("af_heart", 60), ("bf_emma", 40))


def fit_price() -> int:
    return KINDS[ClipKind.VOICE_DESIGN].price({"method": "fit"})


# Reading a user's voices (blocking: call in worker threads)


def user_voices(user_id: Any) -> list[OwnVoice]:
    with get_sessionmaker()() as db:
        return voice_library.user_voices(db, user_id)


def ready_voices(user_id: Any) -> list[OwnVoice]:
    """The user's voices that can speak now (what the voice pickers offer)."""
    return [own for own in user_voices(user_id) if own.state is VoiceState.READY]


def find_own(user_id: Any, voice_id: str) -> OwnVoice:
    """The user's voice, or UserError 404 (also for another user's voice)."""
    with get_sessionmaker()() as db:
        try:
            return voice_library.find_voice(db, user_id, voice_id)
        except voice_library.VoiceNotFound:
            raise UserError(NO_SUCH_VOICE, 404) from None


# What a page shows of a voice


def stock_label(voice_id: str) -> str:
    voice = VOICES.get(voice_id)
    return voice.label if voice else voice_id


@dataclass
class VoiceView:
    """A user's voice as its card shows it: the row, its design clip, and the clip's live stage."""

    own: OwnVoice
    stage: Stage | None = None
    progress: float = 0.0
    detail: str = ""

    @property
    def id(self) -> str:
        return self.own.id

    @property
    def voice(self) -> CustomVoice:
        return self.own.voice

    @property
    def state(self) -> str:
        return self.own.state.value

    @property
    def is_blend(self) -> bool:
        return self.own.voice.category is VoiceCategory.BLEND

    @property
    def category_label(self) -> str:
        return "Blend" if self.is_blend else "Cloned"

    @property
    def working(self) -> bool:
        """Its design clip is still running (a fit, or a blend's preview): the card keeps polling."""
        return self.own.clip is not None and not self.own.clip.status.finished

    @property
    def blend_parts(self) -> list[tuple[str, int]]:
        return [(stock_label(v), round(w * 100)) for v, w in (self.own.voice.blend or {}).items()]

    @property
    def refunded(self) -> int:
        clip = self.own.clip
        return clip.cost if clip is not None and self.own.state is VoiceState.FAILED else 0

    @property
    def fit(self) -> dict[str, Any] | None:
        """The fit's figures once it is done, for the card."""
        details = self.own.fit_details
        if self.is_blend or self.own.state is not VoiceState.READY or "similarity" not in details:
            return None
        nearest = [(stock_label(str(v)), float(s)) for v, s in details.get("nearest") or [] if isinstance(v, str)]
        return {
            "similarity": float(details["similarity"]),
            "start_similarity": details.get("start_similarity"),
            "nearest": nearest,
            "steps": details.get("fit_steps"),
            "seconds": details.get("fit_seconds"),
            "source_seconds": details.get("source_seconds"),
        }


async def voice_view(client: Client | None, own: OwnVoice) -> VoiceView:
    """The card's view; while the design clip runs, its live stage from the workflow query."""
    if own.clip is None or own.clip.status.finished:
        return VoiceView(own)
    view = await clip_view(client, own.clip)
    return VoiceView(OwnVoice(own.voice, view.clip), view.stage, view.progress, view.detail)


@dataclass(frozen=True)
class StockView:
    voice: Voice
    preview: bool  # its preview is in the store
    shown: bool  # it matches the page's filter


def matches(voice: Voice, q: str, accent: str, gender: str) -> bool:
    text = f"{voice.id} {voice.name}".lower()
    return (
        (not q or q.lower() in text)
        and (not accent or voice.accent == accent)
        and (not gender or voice.gender == gender)
    )


@router.get("/voices")
async def voices_page(
    request: Request,
    user: CurrentUser,
    client: MaybeTemporalClient,
    q: Annotated[str, Query(max_length=100)] = "",
    accent: Annotated[str, Query(max_length=20)] = "",
    gender: Annotated[str, Query(max_length=20)] = "",
):  # noqa: ANN201
    accent = accent if accent in ACCENTS else ""
    gender = gender if gender in GENDERS else ""
    q = q.strip()
    owns = await asyncio.to_thread(user_voices, user.id)
    views = await asyncio.gather(*(voice_view(client, own) for own in owns))
    ready = await asyncio.to_thread(ready_stock_previews)
    stock = [StockView(v, v.id in ready, matches(v, q, accent, gender)) for v in VOICES.values()]
    settings = get_settings()
    return render(
        request, "voices.html", own=views, stock=stock, stock_voices=list(VOICES.values()), q=q, accent=accent,
        gender=gender, accents=ACCENTS, genders=GENDERS, fit_price=fit_price(), max_blend=MAX_BLEND_VOICES,
        default_blend=DEFAULT_BLEND, min_seconds=settings.voice_min_speech_seconds,
        max_minutes=settings.voice_max_recording_seconds / 60, max_mb=settings.vc_max_upload_bytes // (1024 * 1024),
        max_voices=settings.max_voices_per_user, max_name=kinds.MAX_VOICE_NAME_CHARS,
    )  # fmt: skip


@router.get("/voices/{voice_id}/card")
async def voice_card(request: Request, voice_id: str, user: CurrentUser, client: MaybeTemporalClient):  # noqa: ANN201
    """A voice's card (also what its status polling swaps in)."""
    own = await asyncio.to_thread(find_own, user.id, voice_id)
    view = await voice_view(client, own)
    headers = None if view.working else {"HX-Trigger": "balance-changed"}
    return render(request, "partials/voice_card.html", v=view, headers=headers)


@router.get("/voices/{voice_id}/status")
async def voice_status(request: Request, voice_id: str, user: CurrentUser, client: MaybeTemporalClient):  # noqa: ANN201
    """The part of a voice's card that changes while it is made (polled every 2 s while it is)."""
    own = await asyncio.to_thread(find_own, user.id, voice_id)
    view = await voice_view(client, own)
    headers = None if view.working else {"HX-Trigger": "balance-changed"}
    return render(request, "partials/voice_status.html", v=view, headers=headers)


@router.get("/voices/{voice_id}/preview")
def voice_preview(voice_id: str, user: CurrentUser) -> RedirectResponse:
    """Redirect to a fresh signed link to the voice's preview (a stock voice's or the user's own)."""
    own = None if voice_id in VOICES else find_own(user.id, voice_id)
    link = preview_link(voice_id, own)
    if link is None:
        raise UserError("This voice's preview is not ready yet.", 404)
    return RedirectResponse(link, status_code=307)


# Making, renaming and deleting voices


def created(request: Request, view: VoiceView, form: str) -> Response:
    """What a create form gets: the new card at the top of the user's voices (HTMX), else the page."""
    if not is_htmx(request):
        return RedirectResponse("/voices", status_code=303)
    headers = {"HX-Retarget": "#own-voices", "HX-Reswap": "afterbegin", "HX-Trigger": "balance-changed"}
    return render(request, "partials/voice_card.html", v=view, cleared=f"{form}-message", status_code=201,
                  headers=headers)  # fmt: skip


def parse_blend(voices: list[str], weights: list[str]) -> dict[str, float]:
    """The form's rows (voice, weight) as a blend; empty rows are skipped."""
    blend: dict[str, float] = {}
    for i, voice in enumerate(voices):
        voice = voice.strip()
        if not voice:
            continue
        try:
            weight = float((weights[i] if i < len(weights) else "").strip())
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight) or weight <= 0:
            raise UserError("Give each chosen voice a positive weight, e.g. 60 and 40.", 422)
        if voice in blend:
            raise UserError("Choose each voice once in a blend.", 422)
        blend[voice] = weight
    return blend


@router.post("/voices/blend", dependencies=[CsrfChecked])
async def create_blend(
    request: Request,
    user: CurrentUser,
    client: TemporalClient,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    blend_voice: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006 - FastAPI copies defaults
    blend_weight: Annotated[list[str], Form(max_length=32)] = [],  # noqa: B006
):  # noqa: ANN201
    weights = parse_blend(blend_voice, blend_weight)
    voice, clip = await start_voice_blend(client, user, name, weights, description)
    return created(request, VoiceView(OwnVoice(voice, clip), Stage.QUEUED), "blend")


@router.post("/voices/fit", dependencies=[CsrfChecked])
async def create_fit(
    request: Request,
    user: CurrentUser,
    client: TemporalClient,
    audio: Annotated[UploadFile | None, File(description="one speaker, 10 s to 3 minutes")] = None,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    consent: Annotated[str, Form(max_length=16)] = "",
):  # noqa: ANN201
    if consent != "yes":
        raise UserError(CONSENT_NEEDED, 422)
    data = await audio.read() if audio is not None else b""
    if not data:
        raise UserError("Choose or record a recording of the voice first.", 422)
    voice, clip = await start_voice_fit(client, user, data, audio.filename, name, description)
    return created(request, VoiceView(OwnVoice(voice, clip), Stage.QUEUED), "fit")


def _rename(user_id: Any, voice_id: str, name: str) -> OwnVoice:
    with session_scope() as db:
        try:
            return voice_library.rename_voice(db, user_id, voice_id, name)
        except voice_library.VoiceNotFound:
            raise UserError(NO_SUCH_VOICE, 404) from None


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if message := kinds.voice_name_problem(name):
        raise UserError(message, 422)
    return name


@router.post("/voices/{voice_id}/rename", dependencies=[CsrfChecked])
async def rename(
    request: Request,
    voice_id: str,
    user: CurrentUser,
    client: MaybeTemporalClient,
    name: Annotated[str, Form(max_length=1000)] = "",
):  # noqa: ANN201
    own = await asyncio.to_thread(find_own, user.id, voice_id)  # 404 before any message about the name
    own = await asyncio.to_thread(_rename, user.id, own.id, clean_name(name))
    if not is_htmx(request):
        return RedirectResponse("/voices", status_code=303)
    headers = {"HX-Retarget": f"#voice-{own.id}", "HX-Reswap": "outerHTML"}
    return render(request, "partials/voice_card.html", v=await voice_view(client, own), headers=headers)


async def cancel_design(client: Client | None, clip: Clip) -> None:
    """Cancel a voice's running design workflow (its credits are refunded by the workflow)."""
    if client is None:
        raise UserError("Could not reach the job service to cancel this voice's fit; try again.", 503)
    try:
        await client.get_workflow_handle(clip.workflow_id).cancel()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:  # gone already: the reconciler settles the clip
            raise UserError("Could not reach the job service to cancel this voice's fit; try again.", 503) from exc


def _delete_row(user_id: Any, voice_id: str) -> str | None:
    """Delete the voice's row; its pack's key (to delete from the store), if it has one."""
    with session_scope() as db:
        try:
            return voice_library.delete_voice(db, user_id, voice_id).pack_key
        except voice_library.VoiceNotFound:
            raise UserError(NO_SUCH_VOICE, 404) from None


async def remove_voice(client: Client | None, user: User, voice_id: str) -> None:
    """Delete one of the user's voices: cancel its fit if one still runs, then the row and its pack.
    The clips made with it (and the clip that made it) stay in the history. 404 if not theirs."""
    own = await asyncio.to_thread(find_own, user.id, voice_id)
    if own.clip is not None and not own.clip.status.finished:
        await cancel_design(client, own.clip)
    pack_key = await asyncio.to_thread(_delete_row, user.id, voice_id)
    if pack_key:
        await asyncio.to_thread(get_store().delete, pack_key)


@router.post("/voices/{voice_id}/delete", dependencies=[CsrfChecked])
async def delete(request: Request, voice_id: str, user: CurrentUser, client: MaybeTemporalClient) -> Response:
    await remove_voice(client, user, voice_id)
    if not is_htmx(request):
        return RedirectResponse("/voices", status_code=303)
    return Response(
        status_code=200, headers={"HX-Retarget": f"#voice-{voice_id}", "HX-Reswap": "delete",
                                  "HX-Trigger": "balance-changed"},
    )  # fmt: skip
