"""History, live status fragments, cancel, and audio links for a user's clips.

The async handlers (they ask Temporal for live status) do their database work in worker threads,
so a slow or locked database never stalls the event loop that serves everyone.
"""

import asyncio
import logging
import uuid
import wave
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.reconcile import reconcile
from api.clip_events import SITE_STREAM, LiveStatus, clip_events, part_audio
from api.clip_files import (
    DOWNLOAD_FORMATS,
    WAVEFORM_VERSION,
    ascii_fallback,
    clip_peaks,
    content_disposition,
    download_format,
    download_name,
    encoded_audio,
    first_words,
    waveform_svg,
)
from api.deps import CsrfChecked, CurrentUser, DbSession, MaybeTemporalClient, TemporalClient
from api.errors import UserError
from api.templating import is_htmx, render, render_fragment
from studio.clips import delete_clip
from studio.db import session_scope
from studio.kinds import KINDS, variations
from studio.models import Clip, ClipKind, ClipStatus, User
from studio.stages import Stage, stage_of_status
from studio.storage import ClipObjects, LocalStore, content_type_for, get_store
from studio.voices import VOICE_NAME_SETTING, VOICES
from workflows.generate_audio import GenerateAudio
from workflows.types import GenerationStatus, ReconcileRequest

log = logging.getLogger(__name__)
router = APIRouter()

PAGE_SIZE = 10
MAX_SEARCH_CHARS = 200
# "Use again": the form that makes each kind, prefilled from the clip (?use=<clip id>).
USE_AGAIN_PAGES = {
    ClipKind.TTS: "/tts",
    ClipKind.SOUND_EFFECT: "/sound-effects",
    ClipKind.VOICE_CONVERSION: "/voice-changer",
}
SPOKEN_KINDS = (ClipKind.TTS, ClipKind.VOICE_CONVERSION)  # kinds whose clips have a voice to filter by


def voice_name(clip: Clip) -> str:
    """A clip's voice as a person calls it ("Heart", a user's voice's name), or the kind's label
    for kinds without a speaking voice."""
    if clip.kind not in SPOKEN_KINDS:
        return KINDS[clip.kind].label
    voice = VOICES.get(clip.voice)
    return voice.name if voice else (clip.settings or {}).get(VOICE_NAME_SETTING, clip.voice)


@dataclass
class ClipView:
    """A clip as the page shows it: the database row plus the workflow's live stage."""

    clip: Clip
    stage: Stage
    progress: float
    detail: str

    @property
    def voice_label(self) -> str:
        if self.clip.kind not in SPOKEN_KINDS:
            return KINDS[self.clip.kind].label
        voice = VOICES.get(self.clip.voice)
        return voice.label if voice else (self.clip.settings or {}).get(VOICE_NAME_SETTING, self.clip.voice)

    @property
    def kind_label(self) -> str:
        return KINDS[self.clip.kind].label

    @property
    def title(self) -> str:
        """What the playbar shows: "Heart – Welcome to the studio"."""
        return f"{voice_name(self.clip)} – {first_words(self.clip.text, 60)}"

    @property
    def duration(self) -> str:
        """The length as m:ss (the database knows it; no audio is fetched to show it)."""
        seconds = round(self.clip.duration_seconds or 0)
        return f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def use_again_url(self) -> str | None:
        page = USE_AGAIN_PAGES.get(self.clip.kind)
        return f"{page}?use={self.clip.id}" if page else None

    @property
    def formats(self) -> list[tuple[str, str]]:
        """The download menu's choices: (format name, label)."""
        return [(f.name, f.label) for f in DOWNLOAD_FORMATS.values()]


def clip_download_name(clip: Clip, extension: str, variation: int = 1) -> str:
    """``2026-11-30 Heart - Welcome to the studio.mp3`` (``api.clip_files.download_name``)."""
    return download_name(clip.created_at.strftime("%Y-%m-%d"), voice_name(clip), clip.text, extension, variation)


def queued_card(request: Request, clip: Clip) -> Response:
    """What a generation form gets back: the new clip's live card (HTMX), or the history page. A
    streamed clip's card plays its parts as they land (the click that made it unlocked audio)."""
    if not is_htmx(request):
        return RedirectResponse("/history", status_code=303)
    listen = (clip.settings or {}).get("stream") == SITE_STREAM
    return render(request, "partials/clip_card.html", clip=ClipView(clip, Stage.QUEUED, 0.0, ""), listen=listen,
                  status_code=202, headers={"HX-Trigger": "balance-changed"})  # fmt: skip


QUERY_TIMEOUT_SECONDS = 1.0  # a query needs a live orchestration worker; don't hold the page for it


async def live_status(client: Client | None, clip: Clip) -> GenerationStatus | None:
    if client is None:
        return None
    try:
        handle = client.get_workflow_handle(clip.workflow_id)
        return await asyncio.wait_for(handle.query(GenerateAudio.status), timeout=QUERY_TIMEOUT_SECONDS)
    except Exception as exc:  # no worker yet, server hiccup: the database still answers
        log.debug("status query for %s failed: %s", clip.workflow_id, exc)
        return None


def _finished_view(clip: Clip) -> ClipView:
    return ClipView(clip, stage_of_status(clip.status), 1.0, "")


async def clip_view(client: Client | None, clip: Clip) -> ClipView:
    if clip.status.finished:
        return _finished_view(clip)
    status = await live_status(client, clip)
    if status is None:
        return ClipView(clip, stage_of_status(clip.status), 0.0, "")
    if Stage(status.stage).terminal:
        # The workflow finished between our database read and the query: its last activity has
        # already committed the row, so read it again (own session: views are built concurrently).
        clip = await asyncio.to_thread(_reloaded, clip)
        if clip.status.finished:
            return _finished_view(clip)
    return ClipView(clip, status.stage, status.progress, status.detail)


def _reloaded(clip: Clip) -> Clip:
    with session_scope() as db:
        return db.get(Clip, clip.id) or clip


def owned_clip(db: Session, user: User, clip_id: str) -> Clip:
    """The user's clip, or 404 whether it doesn't exist or belongs to someone else. Ends the read,
    so no pooled connection is held while an async caller then awaits Temporal."""
    try:
        cid = uuid.UUID(clip_id)
    except ValueError:
        raise UserError("No such clip.", 404) from None
    clip = db.get(Clip, cid)
    db.commit()
    if clip is None or clip.user_id != user.id:
        raise UserError("No such clip.", 404)
    return clip


@dataclass(frozen=True)
class HistoryFilters:
    """What the history page is narrowed to: words in the clip's text (its prompt, or the name of
    the recording it re-voiced), a kind, a voice. They travel as query parameters, so a filtered
    page is a link and the pager keeps them."""

    q: str = ""
    kind: ClipKind | None = None
    voice: str = ""

    @classmethod
    def parse(cls, q: str, kind: str, voice: str) -> "HistoryFilters":
        q = " ".join(q.split())
        if len(q) > MAX_SEARCH_CHARS:
            raise UserError(f"Search for at most {MAX_SEARCH_CHARS} characters.", 422)
        try:
            clip_kind = ClipKind(kind) if kind else None
        except ValueError:
            choices = ", ".join(k.value for k in ClipKind)
            raise UserError(f"There is no clip kind {kind[:20]!r}: choose one of {choices}.", 422) from None
        return cls(q, clip_kind, voice.strip()[:64])

    @property
    def active(self) -> bool:
        return bool(self.q or self.kind or self.voice)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label if self.kind else ""

    def url(self, page: int = 1) -> str:
        params = {"q": self.q, "kind": self.kind.value if self.kind else "", "voice": self.voice}
        params = {k: v for k, v in params.items() if v} | ({"page": page} if page > 1 else {})
        return "/history" + (f"?{urlencode(params)}" if params else "")

    def conditions(self, user: User) -> list[ColumnElement[bool]]:
        where = [Clip.user_id == user.id]
        if self.q:  # LIKE with its wildcards escaped: ILIKE on PostgreSQL, lower() LIKE lower() on SQLite
            pattern = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(Clip.text.ilike(f"%{pattern}%", escape="\\"))
        if self.kind:
            where.append(Clip.kind == self.kind)
        if self.voice:
            where.append(Clip.voice == self.voice)
        return where


@router.get("/history")
async def history(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    client: MaybeTemporalClient,
    page: Annotated[int, Query(ge=1)] = 1,
    q: str = "",
    kind: str = "",
    voice: str = "",
):  # noqa: ANN201
    filters = HistoryFilters.parse(q, kind, voice)
    clips, total, pages, voices = await asyncio.to_thread(_history_page, db, user, page, filters)
    views = await asyncio.gather(*(clip_view(client, c) for c in clips))
    kinds = [(k.value, KINDS[k].label) for k in ClipKind]
    return render(request, "history.html", clips=views, page=min(page, pages), pages=pages, total=total,
                  filters=filters, kinds=kinds, voices=voices)  # fmt: skip


def _history_page(
    db: Session, user: User, page: int, filters: HistoryFilters
) -> tuple[list[Clip], int, int, list[tuple[str, str]]]:
    """One page of the user's clips that match ``filters``, newest first, with the total, the page
    count and the voices the user's clips were spoken in (for the voice filter) (blocking)."""
    where = filters.conditions(user)
    total = db.scalar(select(func.count()).select_from(Clip).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    clips = db.scalars(
        select(Clip)
        .where(*where)
        .order_by(Clip.created_at.desc(), Clip.id)
        .offset((min(page, pages) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    voices = _used_voices(db, user)
    db.commit()  # end the read before the caller awaits the status queries
    return list(clips), total, pages, voices


def _used_voices(db: Session, user: User) -> list[tuple[str, str]]:
    """(voice id, name) for each voice the user's speech and voice-changer clips were made in,
    by name. A user's own voice is named as it was when its latest clip was made."""
    latest = (
        select(Clip.voice, func.max(Clip.created_at).label("at"))
        .where(Clip.user_id == user.id, Clip.kind.in_(SPOKEN_KINDS))
        .group_by(Clip.voice)
    ).subquery()
    rows = db.scalars(
        select(Clip)
        .join(latest, (Clip.voice == latest.c.voice) & (Clip.created_at == latest.c.at))
        .where(Clip.user_id == user.id, Clip.kind.in_(SPOKEN_KINDS))
    ).all()
    names = {clip.voice: voice_name(clip) for clip in rows}
    return sorted(names.items(), key=lambda item: item[1].lower())


@router.get("/clips/{clip_id}/events")
async def clip_live_events(
    request: Request, clip_id: str, user: CurrentUser, db: DbSession, client: MaybeTemporalClient
) -> StreamingResponse:
    """The clip's card pushed as it changes, and a speech clip's parts as they land (``api.clip_events``)."""
    clip = await asyncio.to_thread(owned_clip, db, user, clip_id)

    async def live_status(clip: Clip) -> LiveStatus:
        fresh = await asyncio.to_thread(_reloaded, clip)  # the database settles it even if Temporal can't answer
        view = _finished_view(fresh) if fresh.status.finished else await clip_view(client, fresh)
        finished = view.clip if view.clip.status.finished else None  # the row the finished card is made of
        return str(view.stage), round(view.progress, 3), view.detail, finished

    def finished_card(clip: Clip) -> str:
        return render_fragment(request, "partials/clip_card.html", clip=_finished_view(clip))

    events = clip_events(clip, live_status, finished_card, request.is_disconnected)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy may hold the events back
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@router.get("/clips/{clip_id}/parts/{index}")
def clip_part(
    clip_id: str,
    index: Annotated[int, Path(ge=0, le=9999)],
    user: CurrentUser,
    db: DbSession,
    start: Annotated[int, Query(ge=0)] = 0,
    end: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One streamed part of a speech clip being made (WAV), for the page to play at once."""
    clip = owned_clip(db, user, clip_id)
    data = part_audio(clip, index, start, end)
    if data is None:
        raise UserError("This part of the clip is not there.", 404)
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "private, max-age=600"})


@router.get("/clips/{clip_id}/status")
async def clip_status(request: Request, clip_id: str, user: CurrentUser, db: DbSession, client: MaybeTemporalClient):  # noqa: ANN201
    clip = await asyncio.to_thread(owned_clip, db, user, clip_id)
    view = await clip_view(client, clip)
    headers = {"HX-Trigger": "balance-changed"} if clip.status.finished else None
    return render(request, "partials/clip_card.html", clip=view, headers=headers)


ORPHAN_MIN_AGE_SECONDS = 10  # younger clips may still be between their row and their workflow's start


async def settle_if_orphaned(client: Client, db: Session, clip: Clip) -> None:
    """An unfinished clip whose workflow is gone (terminated from the Temporal UI, timed out, lost):
    settle it now, as the reconciler would on its next pass, so the owner's cancel or delete works."""
    report = await reconcile(client, ReconcileRequest(clip_ids=[str(clip.id)], min_age_seconds=ORPHAN_MIN_AGE_SECONDS))
    if report.errors:
        raise UserError("Could not reach the job service to check this clip; try again.", 503)
    await asyncio.to_thread(db.refresh, clip)


@router.post("/clips/{clip_id}/cancel", dependencies=[CsrfChecked])
async def cancel_clip(request: Request, clip_id: str, user: CurrentUser, db: DbSession, client: TemporalClient):  # noqa: ANN201
    clip = await asyncio.to_thread(owned_clip, db, user, clip_id)
    if not clip.status.finished:
        handle = client.get_workflow_handle(clip.workflow_id)
        try:
            desc = await handle.describe()
            if desc.status == WorkflowExecutionStatus.RUNNING:
                await handle.cancel()
            else:
                await settle_if_orphaned(client, db, clip)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise UserError("Could not reach the job service to cancel; try again.", 503) from exc
            await settle_if_orphaned(client, db, clip)
    return render(request, "partials/clip_card.html", clip=await clip_view(client, clip))


@router.post("/clips/{clip_id}/delete", dependencies=[CsrfChecked])
async def delete(
    request: Request, clip_id: str, user: CurrentUser, db: DbSession, client: MaybeTemporalClient
) -> Response:
    """Remove a finished clip from history (an HTMX swap removes its card)."""
    clip = await asyncio.to_thread(owned_clip, db, user, clip_id)
    if not clip.status.finished and client is not None:
        await settle_if_orphaned(client, db, clip)  # a running workflow is left alone
    if not clip.status.finished:
        raise UserError("This clip is still being generated: cancel it first.", 409)
    await asyncio.to_thread(_delete_and_commit, db, clip)
    return Response(status_code=200)


def _delete_and_commit(db: Session, clip: Clip) -> None:
    delete_clip(db, clip, get_store())
    db.commit()


def signed_redirect(key: str, download_name: str, download: bool) -> RedirectResponse:
    """To a short-lived signed link to an object, named ``download_name`` when it is downloaded.
    The local store's /media route writes an RFC 6266 header with the full name; an S3 link's
    header is built by the store with a plain ``filename=``, so it gets the ASCII form."""
    store = get_store()
    name = download_name if isinstance(store, LocalStore) else ascii_fallback(download_name)
    return RedirectResponse(store.link(key, download_name=name if download else None), status_code=307)


def finished_clip(db: Session, user: User, clip_id: str, variation: int = 1) -> Clip:
    """The user's clip if it has audio (and the variation asked for); 404 otherwise."""
    clip = owned_clip(db, user, clip_id)
    if clip.status != ClipStatus.SUCCEEDED or not clip.object_key:
        raise UserError("This clip has no audio yet.", 404)
    if variation > variations(clip.settings):
        raise UserError(f"This clip has no variation {variation}.", 404)
    return clip


@router.get("/clips/{clip_id}/audio")
def clip_audio(
    clip_id: str,
    user: CurrentUser,
    db: DbSession,
    format: str = "wav",  # noqa: A002
    download: bool = False,
    v: Annotated[int, Query(ge=1, le=16, description="variation (sound effects)")] = 1,
) -> Response:
    """Check ownership, then redirect to a short-lived signed link to the stored WAV or MP3, or
    answer the audio in any other format the public API offers (encoded once, then kept)."""
    try:
        fmt = download_format(format)
    except ValueError as err:
        raise UserError(str(err), 422) from None
    clip = finished_clip(db, user, clip_id, v)
    objects = ClipObjects.of(clip)
    name = clip_download_name(clip, fmt.extension, v)
    if fmt.stored:
        return signed_redirect(objects.audio(fmt.extension, v), name, download)
    store = get_store()
    if not store.exists(objects.audio(".wav", v)):
        raise UserError("This clip's audio is missing from the store.", 404)
    data = encoded_audio(store, objects, fmt, v)
    headers = {
        "Content-Disposition": content_disposition(name, "attachment" if download else "inline"),
        "Cache-Control": "private, max-age=3600",
    }
    return Response(data, media_type=fmt.audio_format(24_000).media_type, headers=headers)


@router.get("/clips/{clip_id}/waveform.svg")
def clip_waveform(
    request: Request,
    clip_id: str,
    user: CurrentUser,
    db: DbSession,
    v: Annotated[int, Query(ge=1, le=16, description="variation (sound effects)")] = 1,
) -> Response:
    """A small picture of the clip's loudness over time. A finished clip's audio never changes, so
    the peaks are computed once (kept beside the clip) and the browser may keep the picture."""
    clip = finished_clip(db, user, clip_id, v)
    etag = f'"wave{WAVEFORM_VERSION}-{clip.id}-{v}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    store, objects = get_store(), ClipObjects.of(clip)
    if not store.exists(objects.audio(".wav", v)):
        raise UserError("This clip's audio is missing from the store.", 404)
    try:
        values = clip_peaks(store, objects, v)
    except (EOFError, ValueError, wave.Error) as err:  # not a WAV we can read: no picture, not a 500
        log.warning("no waveform for %s: %s", clip.id, err)
        raise UserError("This clip's audio could not be read.", 404) from None
    return Response(waveform_svg(values), media_type="image/svg+xml", headers=headers)


@router.get("/clips/{clip_id}/captions")
def clip_captions(
    clip_id: str,
    user: CurrentUser,
    db: DbSession,
    format: Annotated[str, Query(pattern="^(json|srt|vtt)$")] = "vtt",  # noqa: A002
    download: bool = False,
) -> Response:
    """A speech clip's timestamps (JSON: alignments and words) or captions (SRT, WebVTT), as a
    signed link like its audio (the JSON for the page's word highlighting comes directly)."""
    clip = owned_clip(db, user, clip_id)
    objects = ClipObjects.of(clip)
    key = objects.timing(f".{format}")
    if clip.status != ClipStatus.SUCCEEDED or not objects.timed or not get_store().exists(key):
        raise UserError("This clip has no captions.", 404)
    if format == "json" and not download:  # read by the page's script, which may only fetch from the site
        return Response(get_store().get_bytes(key), media_type="application/json")
    return signed_redirect(key, clip_download_name(clip, f".{format}"), download)


@router.get("/media/{key:path}")
def media(key: str, exp: int, sig: str, dl: str | None = None) -> FileResponse:
    """Serves the local store's objects behind HMAC-signed, expiring links."""
    store = get_store()
    if not isinstance(store, LocalStore) or not store.verify(key, exp, dl, sig):
        raise UserError("This link is invalid or has expired.", 403)
    try:
        path = store.path(key)
    except ValueError:
        raise UserError("No such file.", 404) from None
    if not path.is_file():
        raise UserError("No such file.", 404)
    headers = {"Content-Disposition": content_disposition(dl)} if dl else None  # RFC 6266, UTF-8 names too
    return FileResponse(path, media_type=content_type_for(key), headers=headers)
