"""Starting a generation from the site: validate, rate-limit, record the clip, start its workflow.

Nothing is charged here; the workflow's first activity reserves the credits. The checks here
exist so bad requests get a clear message and never start a workflow.
"""

import asyncio
import logging
import math
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from api.errors import UserError
from studio.models import Clip, ClipKind, ClipStatus, User, utcnow, workflow_id_for
from studio.settings import get_settings
from studio.storage import get_store
from studio.uploads import UnusableAudio, decode_upload
from studio.voices import MAX_SPEED, MIN_SPEED, VOICES
from temporal import queues
from workers.gpu_sfx import request as sfx
from workers.gpu_tts.text import normalise
from workflows.types import GenerateRequest

log = logging.getLogger(__name__)


def validate_tts(text: str, voice: str, speed: float) -> str:
    settings = get_settings()
    text = text.strip()
    if not normalise(text):
        raise UserError("Type some text to speak.", 422)
    if len(text) > settings.max_text_chars:
        raise UserError(f"Text is {len(text)} characters; the limit is {settings.max_text_chars}.", 422)
    if voice not in VOICES:
        raise UserError("Choose one of the listed voices.", 422)
    if not (MIN_SPEED <= speed <= MAX_SPEED) or math.isnan(speed):
        raise UserError(f"Speed must be between {MIN_SPEED} and {MAX_SPEED}.", 422)
    return text


def _check_rate_limit(db: Session, user: User) -> None:
    settings = get_settings()
    window_start = utcnow() - timedelta(minutes=1)
    recent = db.scalars(
        select(Clip.created_at).where(Clip.user_id == user.id, Clip.created_at > window_start).order_by(Clip.created_at)
    ).all()
    if len(recent) >= settings.rate_limit_per_minute:
        oldest = recent[-settings.rate_limit_per_minute]
        if oldest.tzinfo is None:  # SQLite returns naive datetimes
            oldest = oldest.replace(tzinfo=window_start.tzinfo)
        wait = max(1, math.ceil((oldest - window_start).total_seconds()))
        raise UserError(
            f"You can start {settings.rate_limit_per_minute} generations a minute. Try again in {wait} s.",
            429,
            headers={"Retry-After": str(wait)},
        )


def _admit(db: Session, user: User, units: int = 1) -> int:
    """Rate limit and balance check; returns the price (per generation x units). Nothing is charged here."""
    settings = get_settings()
    price = settings.price_per_generation * units
    # A no-op write takes the user's row lock (PostgreSQL) or the write lock (SQLite) until commit,
    # so two concurrent starts cannot both pass the rate limit.
    db.execute(update(User).where(User.id == user.id).values(credits=User.credits))
    _check_rate_limit(db, user)
    balance = db.scalar(select(User.credits).where(User.id == user.id))
    if balance < price:
        raise UserError(f"This costs {price} credits and you have {balance}.", 402)
    return price


async def _launch(db: Session, client: Client, clip: Clip) -> Clip:
    """Record the clip, then start its workflow; if that fails the clip is marked failed (nothing charged)."""
    db.add(clip)
    db.commit()
    request = GenerateRequest(
        clip_id=str(clip.id), user_id=str(clip.user_id), kind=clip.kind.value, text=clip.text, voice=clip.voice,
        cost=clip.cost, settings=clip.settings,
    )  # fmt: skip
    try:
        await client.start_workflow(
            "GenerateAudio", request, id=clip.workflow_id, task_queue=queues.ORCHESTRATION,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )  # fmt: skip
    except Exception as exc:
        log.exception("could not start workflow for clip %s", clip.id)
        clip.status, clip.error, clip.finished_at = ClipStatus.FAILED, "The studio could not queue this job.", utcnow()
        db.commit()
        raise UserError("The generation service is unavailable right now; nothing was charged.", 503) from exc
    return clip


def _new_clip(
    user: User, kind: ClipKind, text: str, voice: str, cost: int, settings: dict, clip_id: uuid.UUID | None = None
) -> Clip:
    clip_id = clip_id or uuid.uuid4()
    return Clip(
        id=clip_id, user_id=user.id, kind=kind, text=text, voice=voice, settings=settings,
        status=ClipStatus.QUEUED, cost=cost, workflow_id=workflow_id_for(clip_id),
    )  # fmt: skip


async def start_tts(
    db: Session, client: Client, user: User, text: str, voice: str, speed: float, stream: bool = False
) -> Clip:
    """Validate, rate-limit and record a TTS clip, then start its workflow. ``stream`` asks the
    worker to publish each chunk as it is made (for the streaming API)."""
    text = validate_tts(text, voice, speed)
    cost = _admit(db, user)
    settings = {"speed": speed} | ({"stream": True} if stream else {})
    return await _launch(db, client, _new_clip(user, ClipKind.TTS, text, voice, cost, settings))


async def start_voice_conversion(
    db: Session, client: Client, user: User, data: bytes, filename: str, voice: str, pitch: float,
    formant: float | None,
) -> Clip:  # fmt: skip
    """Check the recording really is usable audio, store it, then start its conversion."""
    if voice not in VOICES:
        raise UserError("Choose one of the listed voices.", 422)
    if not (-12 <= pitch <= 12):
        raise UserError("Pitch shift must be between -12 and +12 semitones.", 422)
    if formant is not None and not (0.8 <= formant <= 1.3):
        raise UserError("Formant shift must be between 0.8 and 1.3.", 422)
    try:
        samples = await asyncio.to_thread(decode_upload, data, 16_000)
    except UnusableAudio as exc:
        raise UserError(str(exc), 422) from exc
    name = (filename or "recording").rsplit("/", 1)[-1][:120]
    clip_id = uuid.uuid4()
    source_key = f"uploads/{clip_id}{Path(name).suffix.lower()[:8] or '.bin'}"
    # Store the upload before _admit: _admit's write lock is held until _launch commits, and an
    # await in between would let another request on this event loop block on that lock.
    await asyncio.to_thread(get_store().put_bytes, source_key, data)
    try:
        cost = _admit(db, user)
    except UserError:
        db.rollback()  # release the lock before awaiting the clean-up
        await asyncio.to_thread(get_store().delete, source_key)
        raise
    settings = {
        "source_key": source_key, "source_name": name, "source_seconds": round(len(samples) / 16_000, 2),
        "pitch": pitch, "formant": formant,
    }  # fmt: skip
    return await _launch(db, client, _new_clip(user, ClipKind.VOICE_CONVERSION, name, voice, cost, settings, clip_id))


async def start_sound_effect(
    db: Session, client: Client, user: User, prompt: str, seconds: float, influence: float, variations: int,
    seed: int | None,
) -> Clip:  # fmt: skip
    """Check the settings, then start a sound-effect generation; each variation costs one generation."""
    prompt = " ".join(prompt.split())
    if message := sfx.problem(prompt, seconds, influence, variations):
        raise UserError(message, 422)
    if seed is not None and not (0 <= seed < 2**32):
        raise UserError("The seed must be a whole number from 0 to 4294967295.", 422)
    cost = _admit(db, user, units=variations)
    settings = {
        "duration_seconds": seconds, "prompt_influence": influence, "variations": variations,
        "seed": seed if seed is not None else uuid.uuid4().int % 2**32,
    }  # fmt: skip
    return await _launch(db, client, _new_clip(user, ClipKind.SOUND_EFFECT, prompt, "", cost, settings))
