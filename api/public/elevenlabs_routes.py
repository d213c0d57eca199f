"""ElevenLabs-compatible routes: voices, models, user, text to speech (+ stream), history."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select

from api.deps import DbSession, TemporalClient
from api.generation import start_sound_effect, start_tts, start_voice_conversion
from api.public.auth import ApiUser
from api.public.errors import ApiError
from api.public.speech import finished_audio, stream_audio
from studio.audio import MP3_24K, AudioFormat, parse_output_format
from studio.clips import delete_clip
from studio.kinds import DEFAULT_INFLUENCE, DEFAULT_SECONDS, KINDS
from studio.models import Clip, ClipStatus, LedgerEntry, LedgerKind, User
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from studio.voices import VOICES, Voice

router = APIRouter(prefix="/v1", tags=["ElevenLabs-compatible"])
v2_router = APIRouter(prefix="/v2", tags=["ElevenLabs-compatible"])

MODEL_ID = "kokoro-82m"
# ElevenLabs model ids that clients send by default; all are served by Kokoro here.
MODEL_ALIASES = {
    MODEL_ID, "eleven_multilingual_v2", "eleven_turbo_v2_5", "eleven_turbo_v2", "eleven_flash_v2_5",
    "eleven_flash_v2", "eleven_monolingual_v1", "eleven_multilingual_v1", "eleven_v3",
}  # fmt: skip
OutputFormat = Annotated[str, Query(description="e.g. mp3_44100_128, pcm_24000, wav_24000, opus_48000_64")]


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    stability: float | None = None
    similarity_boost: float | None = None
    style: float | None = None
    use_speaker_boost: bool | None = None
    speed: float | None = Field(None, description="0.5 to 2.0 (1.0 is normal)")


class TextToSpeechRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(max_length=100_000)
    model_id: str | None = None
    language_code: str | None = None
    voice_settings: VoiceSettings | None = None
    seed: int | None = Field(None, description="Accepted for compatibility; Kokoro is deterministic")


def voice_json(voice: Voice) -> dict[str, Any]:
    return {
        "voice_id": voice.id,
        "name": voice.name,
        "category": "premade",
        "description": f"{voice.accent} English, {voice.gender.lower()} (Kokoro-82M)",
        "labels": {"accent": voice.accent.lower(), "gender": voice.gender.lower(), "language": "en"},
        "preview_url": None,
        "available_for_tiers": [],
        "settings": {"stability": None, "similarity_boost": None, "speed": 1.0},
        "high_quality_base_model_ids": [MODEL_ID],
    }


def _voice(voice_id: str) -> Voice:
    voice = VOICES.get(voice_id)
    if voice is None:
        raise ApiError(404, f"Voice {voice_id!r} not found; GET /v1/voices lists them.", "voice_not_found")
    return voice


def _format(spec: str) -> AudioFormat:
    try:
        return parse_output_format(spec)
    except ValueError as err:
        raise ApiError(422, f"Bad output_format: {err}.", "invalid_output_format") from err


def _check_model(model_id: str | None) -> None:
    if model_id is not None and model_id not in MODEL_ALIASES:
        raise ApiError(422, f"Unknown model_id {model_id!r}; GET /v1/models lists them.", "model_not_found")


def _tts_args(body: TextToSpeechRequest, voice_id: str, output_format: str) -> tuple[AudioFormat, str, float]:
    """Checks shared by both TTS routes: format, model and voice; the speed from voice_settings."""
    fmt = _format(output_format)
    _check_model(body.model_id)
    speed = (body.voice_settings.speed if body.voice_settings else None) or 1.0
    return fmt, _voice(voice_id).id, speed


def _headers(clip: Clip) -> dict[str, str]:
    return {"request-id": uuid.uuid4().hex, "history-item-id": str(clip.id)}


@router.get("/voices")
def list_voices(user: ApiUser) -> dict[str, Any]:
    return {"voices": [voice_json(v) for v in VOICES.values()], "has_more": False, "total_count": len(VOICES)}


@v2_router.get("/voices")
def search_voices(
    user: ApiUser,
    search: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
    next_page_token: str | None = None,
    gender: str | None = None,
    accent: str | None = None,
) -> dict[str, Any]:
    """ElevenLabs' paginated voice search (what current SDKs call)."""
    matches = [
        v for v in VOICES.values()
        if (not search or search.lower() in f"{v.id} {v.name} {v.accent} {v.gender}".lower())
        and (not gender or v.gender.lower() == gender.lower())
        and (not accent or v.accent.lower() == accent.lower())
    ]  # fmt: skip
    if next_page_token and not re.fullmatch(r"[0-9]{1,6}", next_page_token):
        raise ApiError(422, "next_page_token is not one this server returned.", "invalid_page_token")
    start = int(next_page_token) if next_page_token else 0
    page = matches[start : start + page_size]
    more = start + page_size < len(matches)
    return {
        "voices": [voice_json(v) for v in page],
        "has_more": more,
        "total_count": len(matches),
        "next_page_token": str(start + page_size) if more else None,
    }


@router.get("/voices/{voice_id}")
def get_voice(voice_id: str, user: ApiUser) -> dict[str, Any]:
    return voice_json(_voice(voice_id))


@router.get("/models")
def list_models(user: ApiUser) -> list[dict[str, Any]]:
    return [
        {
            "model_id": MODEL_ID,
            "name": "Kokoro 82M",
            "description": "StyleTTS2-family English TTS, 24 kHz. ElevenLabs model ids are accepted as aliases.",
            "can_do_text_to_speech": True,
            "can_do_voice_conversion": False,
            "can_use_style": False,
            "can_use_speaker_boost": False,
            "serves_pro_voices": False,
            "token_cost_factor": 1.0,
            "requires_alpha_access": False,
            "max_characters_request_free_user": get_settings().max_text_chars,
            "max_characters_request_subscribed_user": get_settings().max_text_chars,
            "languages": [{"language_id": "en", "name": "English"}],
        }
    ]


def _spent(db: DbSession, user: User) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.user_id == user.id, LedgerEntry.kind == LedgerKind.CHARGE
    )
    return db.scalar(query) or 0


def subscription_json(db: DbSession, user: User) -> dict[str, Any]:
    """Credits expressed as ElevenLabs' character quota: used = spent, limit = spent + balance."""
    spent = _spent(db, user)
    return {
        "tier": "studio", "status": "active", "currency": "usd",
        "character_count": spent, "character_limit": spent + user.credits,
        "max_credit_limit_extension": 0, "can_extend_character_limit": False,
        "allowed_to_extend_character_limit": False, "next_character_count_reset_unix": None,
        "voice_slots_used": 0, "professional_voice_slots_used": 0,
        "professional_voice_slots_used_in_workspace": 0, "voice_limit": len(VOICES),
        "voice_add_edit_counter": 0, "professional_voice_limit": 0, "can_extend_voice_limit": False,
        "can_use_instant_voice_cloning": False, "can_use_professional_voice_cloning": False,
        "current_overage": {"amount": "0", "currency": "usd"},
    }  # fmt: skip


@router.get("/user")
def get_user(user: ApiUser, db: DbSession) -> dict[str, Any]:
    return {
        "user_id": str(user.id), "workspace_id": str(user.id), "subscription": subscription_json(db, user),
        "is_new_user": False, "xi_api_key": None, "can_use_delayed_payment_methods": False,
        "is_onboarding_completed": True, "is_onboarding_checklist_completed": True,
        "first_name": None, "created_at": int(user.created_at.timestamp()), "seat_type": "workspace_admin",
    }  # fmt: skip


@router.get("/user/subscription")
def get_subscription(user: ApiUser, db: DbSession) -> dict[str, Any]:
    return subscription_json(db, user)


AUDIO_RESPONSES = {200: {"content": {"audio/mpeg": {}}, "description": "The generated audio"}}


@router.post("/text-to-speech/{voice_id}", response_class=Response, responses=AUDIO_RESPONSES)
async def text_to_speech(
    voice_id: str, body: TextToSpeechRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> Response:  # fmt: skip
    """Speak the text; returns the audio once the clip's workflow is done."""
    fmt, voice, speed = _tts_args(body, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed)
    audio = await finished_audio(client, clip, fmt)
    return Response(audio, media_type=fmt.media_type, headers=_headers(clip))


@router.post("/text-to-speech/{voice_id}/stream", response_class=StreamingResponse, responses=AUDIO_RESPONSES)
async def text_to_speech_stream(
    voice_id: str, body: TextToSpeechRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> StreamingResponse:  # fmt: skip
    """Speak the text, sending audio as soon as its first sentence is ready."""
    fmt, voice, speed = _tts_args(body, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed, stream=True)
    return await streaming_response(client, clip, fmt, _headers(clip))


async def streaming_response(client, clip: Clip, fmt, headers: dict[str, str]) -> StreamingResponse:  # noqa: ANN001
    """Wait for the first bytes (so failures still get a proper status), then stream the rest."""
    chunks = stream_audio(client, clip, fmt)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""

    async def body():  # noqa: ANN202
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return StreamingResponse(body(), media_type=fmt.media_type, headers=headers)


@router.post("/speech-to-speech/{voice_id}", response_class=Response, responses=AUDIO_RESPONSES)
@router.post("/speech-to-speech/{voice_id}/stream", response_class=Response, responses=AUDIO_RESPONSES)
@router.post("/voice-changer/{voice_id}", response_class=Response, responses=AUDIO_RESPONSES)  # current SDK path
@router.post("/voice-changer/{voice_id}/stream", response_class=Response, responses=AUDIO_RESPONSES)
async def speech_to_speech(
    voice_id: str, user: ApiUser, client: TemporalClient,
    audio: Annotated[UploadFile, File(description="the recording to re-voice")],
    model_id: Annotated[str | None, Form()] = None,
    output_format: OutputFormat = "mp3_44100_128",
) -> Response:  # fmt: skip
    """Re-voice a recording (the voice changer); returns the audio once its workflow is done.

    The ``/stream`` paths answer the same way: conversion needs the whole recording first."""
    fmt = _format(output_format)
    data = await audio.read()
    clip = await start_voice_conversion(client, user, data, audio.filename or "audio", _voice(voice_id).id, 0.0, None)
    audio = await finished_audio(client, clip, fmt)
    return Response(audio, media_type=fmt.media_type, headers=_headers(clip))


class SoundGenerationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(max_length=10_000, description="what the sound should be")
    duration_seconds: float | None = Field(None, description="0.5 to 22; default 10")
    prompt_influence: float | None = Field(None, description="0 (free) to 1 (literal); default 0.3")
    loop: bool | None = Field(None, description="Accepted for compatibility; not supported")
    model_id: str | None = None


@router.post("/sound-generation", response_class=Response, responses=AUDIO_RESPONSES)
async def sound_generation(
    body: SoundGenerationRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> Response:  # fmt: skip
    """Generate a sound effect from a text prompt; returns the audio once its workflow is done."""
    fmt = _format(output_format)
    seconds = body.duration_seconds if body.duration_seconds is not None else DEFAULT_SECONDS
    influence = body.prompt_influence if body.prompt_influence is not None else DEFAULT_INFLUENCE
    clip = await start_sound_effect(client, user, body.text, seconds, influence, 1, None)
    audio = await finished_audio(client, clip, fmt)
    return Response(audio, media_type=fmt.media_type, headers=_headers(clip))


def history_item(clip: Clip) -> dict[str, Any]:
    voice = VOICES.get(clip.voice)
    state = {ClipStatus.SUCCEEDED: "created", ClipStatus.FAILED: "failed", ClipStatus.CANCELLED: "cancelled"}
    return {
        "history_item_id": str(clip.id), "request_id": clip.workflow_id, "voice_id": clip.voice,
        "model_id": MODEL_ID, "voice_name": voice.name if voice else clip.voice, "voice_category": "premade",
        "text": clip.text, "date_unix": int(clip.created_at.timestamp()),
        "character_count_change_from": 0, "character_count_change_to": len(clip.text),
        "content_type": "audio/mpeg", "state": state.get(clip.status, "processing"),
        "settings": {"speed": clip.settings.get("speed", 1.0)}, "feedback": None, "share_link_id": None,
        "source": KINDS[clip.kind].api_source,
    }  # fmt: skip


def _owned(db: DbSession, user: User, history_item_id: str) -> Clip:
    try:
        clip = db.get(Clip, uuid.UUID(history_item_id))
    except ValueError:
        clip = None
    if clip is None or clip.user_id != user.id:
        raise ApiError(404, "History item not found.")
    return clip


@router.get("/history")
def list_history(
    user: ApiUser, db: DbSession,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    start_after_history_item_id: str | None = None,
    voice_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Newest first; pass the returned ``last_history_item_id`` as ``start_after_history_item_id``."""
    query = select(Clip).where(Clip.user_id == user.id)
    if voice_id:
        query = query.where(Clip.voice == voice_id)
    if start_after_history_item_id:
        after = _owned(db, user, start_after_history_item_id)
        query = query.where(
            or_(Clip.created_at < after.created_at, and_(Clip.created_at == after.created_at, Clip.id > after.id))
        )
    clips = list(db.scalars(query.order_by(Clip.created_at.desc(), Clip.id).limit(page_size + 1)))
    page = clips[:page_size]
    return {
        "history": [history_item(c) for c in page],
        "last_history_item_id": str(page[-1].id) if page else None,
        "has_more": len(clips) > page_size,
        "scanned_until": int(datetime.now().timestamp()),
    }


@router.get("/history/{history_item_id}")
def get_history_item(history_item_id: Annotated[str, Path()], user: ApiUser, db: DbSession) -> dict[str, Any]:
    return history_item(_owned(db, user, history_item_id))


@router.get("/history/{history_item_id}/audio", response_class=Response, responses=AUDIO_RESPONSES)
def get_history_audio(history_item_id: str, user: ApiUser, db: DbSession) -> Response:
    clip = _owned(db, user, history_item_id)
    if clip.status != ClipStatus.SUCCEEDED or not clip.object_key:
        raise ApiError(404, "This history item has no audio.")
    mp3_key = ClipObjects.of(clip).audio(".mp3")
    return Response(get_store().get_bytes(mp3_key), media_type=MP3_24K.media_type)


@router.delete("/history/{history_item_id}")
def delete_history_item(history_item_id: str, user: ApiUser, db: DbSession) -> dict[str, str]:
    clip = _owned(db, user, history_item_id)
    if not clip.status.finished:
        raise ApiError(409, "This item is still being generated; cancel it or wait for it to finish.")
    delete_clip(db, clip, get_store())
    db.commit()
    return {"status": "ok"}
