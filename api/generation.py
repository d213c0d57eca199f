"""Starting a generation from the site: validate, rate-limit, record the clip, start its workflow.

Nothing is charged here; the workflow's first activity reserves the credits. The checks here
exist so bad requests get a clear message and never start a workflow. Every database call here
runs in a worker thread, in its own short transaction: the event loop never waits on a lock, so
one user's refused or stuck request cannot stall the site for everyone else.
"""

import asyncio
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from api.errors import UserError
from studio import kinds, voice_library
from studio.db import get_sessionmaker, session_scope
from studio.models import (
    Admission,
    Clip,
    ClipKind,
    ClipStatus,
    CustomVoice,
    User,
    VoiceCategory,
    utcnow,
    workflow_id_for,
)
from studio.pronunciation import PRONUNCIATION_RULES
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from studio.uploads import UnusableAudio, decode_upload
from studio.voices import (
    RECIPE_SETTING,
    VOICE_NAME_SETTING,
    VOICES,
    VoiceRecipe,
    blend_lang,
    blend_problem,
    new_custom_voice_id,
    normalised_blend,
)
from temporal import queues
from workflows.generate_audio import GenerateAudio
from workflows.types import GenerateRequest

log = logging.getLogger(__name__)
R = TypeVar("R")


def _rate_limit_wait(db: Session, user_id: uuid.UUID) -> int | None:
    """Seconds until another generation fits in the per-minute limit, or None if one fits now.

    Counted from admissions, not clips, so deleting clips cannot make room."""
    settings = get_settings()
    window_start = utcnow() - timedelta(minutes=1)
    recent = db.scalars(
        select(Admission.admitted_at)
        .where(Admission.user_id == user_id, Admission.admitted_at > window_start)
        .order_by(Admission.admitted_at)
    ).all()
    if len(recent) < settings.rate_limit_per_minute:
        return None
    oldest = recent[-settings.rate_limit_per_minute]
    if oldest.tzinfo is None:  # SQLite returns naive datetimes
        oldest = oldest.replace(tzinfo=window_start.tzinfo)
    return max(1, math.ceil((oldest - window_start).total_seconds()))


def _refusal(db: Session, user_id: uuid.UUID, price: int) -> UserError | None:
    """Why this user cannot start a generation costing ``price`` now (429 or 402), or None."""
    settings = get_settings()
    if (wait := _rate_limit_wait(db, user_id)) is not None:
        return UserError(
            f"You can start {settings.rate_limit_per_minute} generations a minute. Try again in {wait} s.",
            429,
            headers={"Retry-After": str(wait)},
        )
    balance = db.scalar(select(User.credits).where(User.id == user_id))
    if balance is None or balance < price:
        return UserError(f"This costs {price} credits and you have {balance or 0}.", 402)
    return None


def precheck(user_id: uuid.UUID, price: int) -> None:
    """Refuse early (no lock taken) before costly work such as decoding an upload; ``admit`` decides."""
    with get_sessionmaker()() as db:
        if refusal := _refusal(db, user_id, price):
            raise refusal


def admit(clip: Clip, voice: CustomVoice | None = None) -> Clip:
    """Rate limit and balance check, then record the admission and the clip, in one short transaction.

    Blocking: call it in a worker thread (``asyncio.to_thread``), never on the event loop. A no-op
    write takes the user's row lock (PostgreSQL) or the write lock (SQLite) so two concurrent starts
    cannot both pass the limit; ``session_scope`` commits or rolls back on every path, so the lock
    never outlives the call (a lock timeout becomes the app's 503). Nothing is charged: the workflow
    reserves the credits.
    """
    with session_scope() as db:
        db.execute(update(User).where(User.id == clip.user_id).values(credits=User.credits))
        if refusal := _refusal(db, clip.user_id, clip.cost):
            raise refusal
        db.execute(delete(Admission).where(
            Admission.user_id == clip.user_id, Admission.admitted_at < utcnow() - timedelta(minutes=5)
        ))  # fmt: skip
        db.add(Admission(user_id=clip.user_id))
        db.add(clip)
        if voice is not None:  # a voice design: the voice is recorded with the clip that makes it
            if voice_library.count_voices(db, clip.user_id) >= get_settings().max_voices_per_user:
                raise UserError(f"You have {get_settings().max_voices_per_user} voices; delete one first.", 409)
            db.flush()
            db.add(voice)
    return clip


async def _launch(client: Client, clip: Clip) -> Clip:
    """Admit and record the clip (in a worker thread), then start its workflow."""
    return await _start_workflow(client, await asyncio.to_thread(admit, clip))


async def _start_workflow(client: Client, clip: Clip) -> Clip:
    """Start a recorded clip's GenerateAudio; if that fails the clip is marked failed (nothing was charged)."""
    request = GenerateRequest(
        clip_id=str(clip.id), user_id=str(clip.user_id), kind=clip.kind.value, text=clip.text, voice=clip.voice,
        settings=clip.settings, objects=ClipObjects.of(clip),
    )  # fmt: skip
    await start_clip_workflow(client, clip, GenerateAudio.run, request)
    return clip


UNQUEUED = "The studio could not queue this job."
UNAVAILABLE = "The generation service is unavailable right now; nothing was charged."


async def start_clip_workflow(
    client: Client, clip: Clip, run: Callable[[Any, R], Awaitable[Any]], arg: R
) -> WorkflowHandle:
    """Start the workflow of a recorded (admitted) clip, ``run(arg)`` under the clip's workflow id on
    the orchestration queue. If the start fails, the clip is marked failed (nothing was charged: the
    workflow reserves the credits) and a UserError 503 is raised."""
    try:
        return await client.start_workflow(
            run, arg, id=clip.workflow_id, task_queue=queues.ORCHESTRATION,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )  # fmt: skip
    except Exception as exc:
        log.exception("could not start the workflow of clip %s", clip.id)
        await asyncio.to_thread(mark_unqueued, clip.id)
        raise UserError(UNAVAILABLE, 503) from exc


def mark_unqueued(clip_id: uuid.UUID) -> None:
    """The clip's workflow could not be started: it failed before anything was charged (blocking)."""
    with session_scope() as db:
        db.execute(update(Clip).where(Clip.id == clip_id).values(
            status=ClipStatus.FAILED, error=UNQUEUED, finished_at=utcnow()
        ))  # fmt: skip


def new_clip(
    user: User, kind: ClipKind, text: str, voice: str, settings: dict, clip_id: uuid.UUID | None = None
) -> Clip:
    """A queued clip, priced by its kind's rule."""
    clip_id = clip_id or uuid.uuid4()
    return Clip(
        id=clip_id, user_id=user.id, kind=kind, text=text, voice=voice, settings=settings,
        status=ClipStatus.QUEUED, cost=kinds.KINDS[kind].price(settings), workflow_id=workflow_id_for(clip_id),
    )  # fmt: skip


async def start_clip(client: Client, user: User, kind: ClipKind, text: str, voice: str, settings: dict) -> Clip:
    """Any kind whose request is text, a voice and settings (no upload): check it by the kind's
    rule (``studio.kinds``), then admit, record and start it."""
    if message := kinds.problem(kind, text, voice, settings):
        raise UserError(message, 422)
    return await _launch(client, new_clip(user, kind, text, voice, settings))


NO_SUCH_VOICE = "Choose one of the listed voices."


def voice_settings(user_id: uuid.UUID, voice: str) -> dict:
    """What a request must carry to speak in ``voice``: nothing for a stock voice; for the user's
    own voice, its recipe (and its name, for the history). Raises UserError 404 for a voice that is
    not theirs (or none at all), 409 for one that is still being made or failed."""
    if voice in VOICES:
        return {}
    with get_sessionmaker()() as db:
        try:
            own = voice_library.find_voice(db, user_id, voice)
            recipe = own.recipe()
        except voice_library.VoiceNotFound:
            raise UserError(NO_SUCH_VOICE, 404) from None
        except voice_library.VoiceNotReady as exc:
            raise UserError(str(exc), 409) from None
    # the name as it was: the history still says whose voice it was after a rename or a delete
    return {RECIPE_SETTING: recipe.as_settings(), VOICE_NAME_SETTING: own.voice.name}


async def start_tts(
    client: Client, user: User, text: str, voice: str, speed: float, stream: bool | str = False,
    normalization: str = "auto", pronunciation_rules: list[dict] | None = None,
) -> Clip:  # fmt: skip
    """A TTS clip. ``stream`` asks the worker to publish each chunk as it is made: True for the
    streaming API, ``api.clip_events.SITE_STREAM`` for the site, which plays them as they land.
    ``normalization`` is ElevenLabs' ``apply_text_normalization`` (stored only when not the default);
    ``pronunciation_rules`` the resolved rules of the request's dictionaries (``studio.pronunciation``)."""
    settings = {"speed": speed} | ({"stream": stream} if stream else {})
    if normalization != "auto":
        settings[kinds.TEXT_NORMALIZATION] = normalization
    if pronunciation_rules:
        settings[PRONUNCIATION_RULES] = pronunciation_rules
    settings |= await asyncio.to_thread(voice_settings, user.id, voice)
    return await start_clip(client, user, ClipKind.TTS, text.strip(), voice, settings)


UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")


def upload_name(filename: str | None) -> str:
    """A display name for an upload: no path, no control characters (a NUL would break file systems)."""
    name = UNSAFE_NAME_CHARS.sub("", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:120] or "recording"


def upload_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,7}", suffix) else ".bin"


async def start_voice_conversion(
    client: Client, user: User, data: bytes, filename: str, voice: str, pitch: float, formant: float | None,
) -> Clip:  # fmt: skip
    """Check the settings and the user's admission first (cheap), then that the recording really
    is usable audio; store it, then start its conversion."""
    target = await asyncio.to_thread(voice_settings, user.id, voice)
    if message := kinds.voice_change_problem(voice, pitch, formant, target):
        raise UserError(message, 422)
    await asyncio.to_thread(precheck, user.id, kinds.KINDS[ClipKind.VOICE_CONVERSION].price({}))
    try:
        samples = await asyncio.to_thread(decode_upload, data, 16_000)
    except UnusableAudio as exc:
        raise UserError(str(exc), 422) from exc
    clip_id = uuid.uuid4()
    source_key, name = await _store_upload(clip_id, data, filename)
    settings = {
        "source_key": source_key, "source_name": name, "source_seconds": round(len(samples) / 16_000, 2),
        "pitch": pitch, "formant": formant,
    } | target  # fmt: skip
    clip = new_clip(user, ClipKind.VOICE_CONVERSION, name, voice, settings, clip_id)
    return await _admit_then_start(client, clip, source_key=source_key)


async def start_sound_effect(
    client: Client, user: User, prompt: str, seconds: float, influence: float, variations: int, seed: int | None,
) -> Clip:  # fmt: skip
    """A sound effect; each variation costs one generation. Without a seed one is chosen (and shown)."""
    seed = seed if seed is not None else uuid.uuid4().int % (kinds.MAX_SEED + 1)
    settings = {"duration_seconds": seconds, "prompt_influence": influence, "variations": variations, "seed": seed}
    return await start_clip(client, user, ClipKind.SOUND_EFFECT, " ".join(prompt.split()), "", settings)


async def _store_upload(clip_id: uuid.UUID, data: bytes, filename: str | None) -> tuple[str, str]:
    """Put an accepted recording in the store; (its key, its display name)."""
    name = upload_name(filename)
    source_key = ClipObjects.upload_key(str(clip_id), upload_suffix(name))
    await asyncio.to_thread(get_store().put_bytes, source_key, data)
    return source_key, name


async def _admit_then_start(
    client: Client, clip: Clip, voice: CustomVoice | None = None, source_key: str | None = None
) -> Clip:
    """Admit and record the clip (and a voice design's voice), then start it; an upload that no
    admitted clip owns is removed."""
    try:
        clip = await asyncio.to_thread(admit, clip, voice)
    except Exception:  # refused after all, or the database was busy: nothing owns the upload
        if source_key:
            await asyncio.to_thread(get_store().delete, source_key)
        raise
    return await _start_workflow(client, clip)


def clean_labels(labels: dict | None) -> dict[str, str]:
    """Up to 10 short string labels (ElevenLabs' accent, gender, age, use case, ...)."""
    clean = {str(k)[:40]: str(v)[:80] for k, v in (labels or {}).items() if str(k).strip()}
    return dict(list(clean.items())[:10])


async def start_voice_fit(
    client: Client, user: User, data: bytes, filename: str | None, name: str,
    description: str = "", labels: dict | None = None,
) -> tuple[CustomVoice, Clip]:  # fmt: skip
    """A voice fitted to a recording of one speaker: checked here as far as the site can (decodes,
    length), stored, then fitted by the TTS worker's ``design_voice`` (which also checks that it
    is one speaker's speech, refunding if not)."""
    settings = get_settings()
    name = " ".join(name.split())
    if message := kinds.voice_name_problem(name):
        raise UserError(message, 422)
    await asyncio.to_thread(precheck, user.id, kinds.KINDS[ClipKind.VOICE_DESIGN].price({"method": "fit"}))
    try:
        samples = await asyncio.to_thread(decode_upload, data, 16_000)
    except UnusableAudio as exc:
        raise UserError(str(exc), 422) from exc
    seconds = len(samples) / 16_000
    if seconds < settings.voice_min_speech_seconds:
        raise UserError(
            f"The recording is {seconds:.1f} s long; a voice needs at least {settings.voice_min_speech_seconds:g} s "
            "of one person speaking.", 422,
        )  # fmt: skip
    if seconds > settings.voice_max_recording_seconds:
        raise UserError(
            f"The recording is {seconds / 60:.1f} minutes long; use at most "
            f"{settings.voice_max_recording_seconds / 60:g} minutes of one person speaking.", 422,
        )  # fmt: skip
    clip_id = uuid.uuid4()
    source_key, source_name = await _store_upload(clip_id, data, filename)
    voice = CustomVoice(
        id=new_custom_voice_id(), user_id=user.id, name=name, description=description.strip()[:1000],
        labels=clean_labels(labels), category=VoiceCategory.CLONED, lang="en-us", blend=None, design_clip_id=clip_id,
    )  # fmt: skip
    clip_settings = {
        "method": "fit", "source_key": source_key, "source_name": source_name, "source_seconds": round(seconds, 2),
    }  # fmt: skip
    clip = new_clip(user, ClipKind.VOICE_DESIGN, name, voice.id, clip_settings, clip_id)
    return voice, await _admit_then_start(client, clip, voice, source_key)


async def start_voice_blend(
    client: Client, user: User, name: str, weights: dict[str, float], description: str = "",
    labels: dict | None = None,
) -> tuple[CustomVoice, Clip]:  # fmt: skip
    """A voice mixed from stock voices: usable at once (free); its preview renders in the background."""
    name = " ".join(name.split())
    if message := kinds.voice_name_problem(name) or blend_problem(weights):
        raise UserError(message, 422)
    weights = normalised_blend(weights)
    recipe = VoiceRecipe(blend_lang(weights), blend=weights)
    clip_id = uuid.uuid4()
    voice = CustomVoice(
        id=new_custom_voice_id(), user_id=user.id, name=name, description=description.strip()[:1000],
        labels=clean_labels(labels), category=VoiceCategory.BLEND, lang=recipe.lang, blend=weights,
        design_clip_id=clip_id,
    )  # fmt: skip
    clip_settings = {"method": "blend", RECIPE_SETTING: recipe.as_settings()}
    clip = new_clip(user, ClipKind.VOICE_DESIGN, name, voice.id, clip_settings, clip_id)
    return voice, await _admit_then_start(client, clip, voice)
