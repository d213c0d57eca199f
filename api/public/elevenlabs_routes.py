"""ElevenLabs-compatible routes: voices (the user's own too: add, edit, delete), models, user,
text to speech (+ stream), speech to speech, sound effects, history."""

import asyncio
import base64
import json
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select
from temporalio.client import Client

from api.deps import DbSession, MaybeTemporalClient, TemporalClient
from api.errors import UserError
from api.generation import (
    clean_labels,
    precheck,
    start_sound_effect,
    start_tts,
    start_voice_conversion,
    start_voice_fit,
    upload_name,
    voice_settings,
)
from api.previews import absolute, own_preview_link, stock_preview_link
from api.public.auth import ApiUser
from api.public.errors import ApiError
from api.public.pronunciation_routes import Locator, locator_rules
from api.public.speech import (
    clip_timestamps,
    finished_audio,
    finished_within,
    stream_audio,
    stream_with_timestamps,
)
from api.routers.clips import live_status
from api.routers.voices import fit_price, remove_voice
from studio import kinds, voice_library
from studio.audio import MP3_24K, AudioFormat, parse_output_format, to_wav
from studio.clips import delete_clip
from studio.db import get_sessionmaker, session_scope
from studio.kinds import DEFAULT_INFLUENCE, DEFAULT_SECONDS, KINDS
from studio.models import Clip, ClipStatus, CustomVoice, LedgerEntry, LedgerKind, User, VoiceCategory
from studio.premade_voices import PremadeVoice, premade_voice
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from studio.uploads import UnusableAudio, decode_upload
from studio.voice_library import OwnVoice, VoiceState
from studio.voices import VOICES, Voice, is_custom_voice_id
from workflows.types import GenerationStatus

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
    apply_text_normalization: Literal["auto", "on", "off"] = Field(
        "auto", description="off: speak the text as written (digits, symbols); auto and on: read it as a person would"
    )
    pronunciation_dictionary_locators: list[Locator] | None = Field(
        None, description="Up to 3 of your pronunciation dictionaries, applied in order (no version_id: the latest)"
    )


def voice_json(voice: Voice, preview_url: str | None = None) -> dict[str, Any]:
    return {
        "voice_id": voice.id,
        "name": voice.name,
        "category": "premade",
        "description": f"{voice.accent} English, {voice.gender.lower()} (Kokoro-82M)",
        "labels": {"accent": voice.accent.lower(), "gender": voice.gender.lower(), "language": "en"},
        "preview_url": preview_url,
        "available_for_tiers": [],
        "settings": {"stability": None, "similarity_boost": None, "speed": 1.0},
        "high_quality_base_model_ids": [MODEL_ID],
        "is_owner": False,
    }


# A user's voice as ElevenLabs describes a voice: a fit is "cloned" (an instant voice clone), a
# blend "generated" (ElevenLabs' category for voices designed rather than recorded). Readiness is
# ``fine_tuning.state[model]`` with ElevenLabs' words, and ``status`` (ready / fitting / failed).
CATEGORIES = {VoiceCategory.CLONED: "cloned", VoiceCategory.BLEND: "generated"}
FINE_TUNING_STATES = {VoiceState.READY: "fine_tuned", VoiceState.FITTING: "fine_tuning", VoiceState.FAILED: "failed"}


def _fit_message(own: OwnVoice, live: GenerationStatus | None) -> str | None:
    if own.state is VoiceState.FAILED:
        return own.error or "The fit did not finish."
    if own.state is VoiceState.FITTING:
        return (live.detail if live else "") or "queued"
    similarity = own.fit_details.get("similarity")
    return f"similarity {similarity:.2f} to the recording" if isinstance(similarity, int | float) else None


def own_voice_json(own: OwnVoice, preview_url: str | None, live: GenerationStatus | None = None) -> dict[str, Any]:
    """A user's voice; ``live`` is its fit's progress (the design workflow's query) while it runs."""
    voice, state = own.voice, own.state
    progress = {VoiceState.READY: 1.0, VoiceState.FAILED: 0.0}.get(state, live.progress if live else 0.0)
    details = own.fit_details
    labels = dict(voice.labels or {})
    if voice.category is VoiceCategory.BLEND:
        description = voice.description or "Blend of " + ", ".join(
            f"{round(w * 100)}% {VOICES[v].name}" for v, w in (voice.blend or {}).items() if v in VOICES
        )
    else:
        description = voice.description or None
    return {
        "voice_id": voice.id,
        "name": voice.name,
        "category": CATEGORIES[voice.category],
        "description": description,
        "labels": labels,
        "preview_url": preview_url,
        "status": state.value,
        "fine_tuning": {
            "is_allowed_to_fine_tune": False,
            "state": {MODEL_ID: FINE_TUNING_STATES[state]},
            "progress": {MODEL_ID: round(float(progress), 3)},
            "message": {MODEL_ID: _fit_message(own, live)},
            "language": "en",
            "verification_failures": [],
            "verification_attempts_count": 0,
            "manual_verification_requested": False,
            "dataset_duration_seconds": details.get("source_seconds"),
        },
        "samples": None,
        "available_for_tiers": [],
        "settings": {"stability": None, "similarity_boost": None, "speed": 1.0},
        "high_quality_base_model_ids": [MODEL_ID],
        "is_owner": True,
        "created_at_unix": int(voice.created_at.timestamp()) if voice.created_at else None,
    }


def _voice_not_found(voice_id: str) -> ApiError:
    return ApiError(404, f"Voice {voice_id!r} not found; GET /v1/voices lists them.", "voice_not_found")


def _own_voice(user: User, voice_id: str) -> OwnVoice:
    """The user's voice, or 404 (also for another user's). Blocking."""
    with get_sessionmaker()() as db:
        try:
            return voice_library.find_voice(db, user.id, voice_id)
        except voice_library.VoiceNotFound:
            raise _voice_not_found(voice_id) from None


async def speaking_voice(user: User, voice_id: str) -> str:
    """A voice the user may speak in: a stock voice, one of their own, or an ElevenLabs premade id
    (the studio voice ``studio.premade_voices`` maps it to; the user's own voice wins); 404 for any
    other (another user's included), 409 for their voice still being fitted (or whose fit failed)."""
    if voice_id in VOICES:
        return voice_id
    if not is_custom_voice_id(voice_id):
        raise _voice_not_found(voice_id)
    try:
        await asyncio.to_thread(voice_settings, user.id, voice_id)
    except UserError as exc:
        if exc.status_code == 404:
            if premade := premade_voice(voice_id):
                return premade.studio_voice
            raise _voice_not_found(voice_id) from None
        raise ApiError(exc.status_code, exc.message, "voice_not_ready") from None
    return voice_id


def premade_voice_json(premade: PremadeVoice, preview_url: str | None = None) -> dict[str, Any]:
    """An ElevenLabs premade id as served here: the studio voice that speaks for it, under the id asked
    for (its name and labels are the studio voice's; the description says which premade it stands for)."""
    voice = premade.voice
    return voice_json(voice, preview_url) | {
        "voice_id": premade.voice_id,
        "description": f"Stands in for ElevenLabs' {premade.name}: the nearest studio voice, {voice.id} "
        f"({voice.accent} English, {voice.gender.lower()}), not the same voice",
    }


def _all_voices(user: User, base_url: str) -> list[dict[str, Any]]:
    """The user's voices (newest first), then the stock voices, each with its preview link. Blocking."""
    with get_sessionmaker()() as db:
        owns = voice_library.user_voices(db, user.id)

    def link(url: str | None) -> str | None:
        return absolute(url, base_url) if url else None

    return [own_voice_json(own, link(own_preview_link(own))) for own in owns] + [
        voice_json(v, link(stock_preview_link(v.id))) for v in VOICES.values()
    ]


def _format(spec: str) -> AudioFormat:
    try:
        return parse_output_format(spec)
    except ValueError as err:
        raise ApiError(422, f"Bad output_format: {err}.", "invalid_output_format") from err


def _check_model(model_id: str | None) -> None:
    if model_id is not None and model_id not in MODEL_ALIASES:
        raise ApiError(422, f"Unknown model_id {model_id!r}; GET /v1/models lists them.", "model_not_found")


async def _tts_args(
    body: TextToSpeechRequest, user: User, voice_id: str, output_format: str
) -> tuple[AudioFormat, str, float, dict[str, Any]]:
    """Checks shared by the TTS routes: format, model and voice; the speed from voice_settings; and
    what ``start_tts`` takes besides (normalisation, the rules of the pronunciation dictionaries)."""
    fmt = _format(output_format)
    _check_model(body.model_id)
    speed = (body.voice_settings.speed if body.voice_settings else None) or 1.0
    voice = await speaking_voice(user, voice_id)
    rules = await locator_rules(user.id, body.pronunciation_dictionary_locators)
    return fmt, voice, speed, {"normalization": body.apply_text_normalization, "pronunciation_rules": rules}


def _headers(clip: Clip) -> dict[str, str]:
    return {"request-id": uuid.uuid4().hex, "history-item-id": str(clip.id)}


@router.get("/voices")
def list_voices(request: Request, user: ApiUser) -> dict[str, Any]:
    """The user's own voices (newest first), then the stock voices; ``preview_url`` is a signed link."""
    voices = _all_voices(user, str(request.base_url))
    return {"voices": voices, "has_more": False, "total_count": len(voices)}


# v2 ``voice_type``: which voices each asks for (a user's voices are their "personal" ones).
OWN_TYPES = {"personal", "workspace", "non-default", "non-community", "saved"}
VOICE_TYPES = OWN_TYPES | {"default", "community"}


def _wanted(voice: dict[str, Any], search: str | None, category: str | None, voice_type: str | None,
            gender: str | None, accent: str | None, ids: set[str]) -> bool:  # fmt: skip
    labels = voice.get("labels") or {}
    own = voice.get("is_owner", False)
    text = " ".join([voice["voice_id"], voice["name"], voice.get("description") or "", voice["category"],
                     *map(str, labels.values())]).lower()  # fmt: skip
    return (
        (not search or search.lower() in text)
        and (not category or voice["category"] == category)
        and (not voice_type or (own if voice_type in OWN_TYPES else voice_type == "default" and not own))
        and (not gender or str(labels.get("gender", "")).lower() == gender.lower())
        and (not accent or str(labels.get("accent", "")).lower() == accent.lower())
        and (not ids or voice["voice_id"] in ids)
    )


@v2_router.get("/voices")
def search_voices(
    request: Request,
    user: ApiUser,
    search: Annotated[str | None, Query(max_length=200)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
    next_page_token: Annotated[str | None, Query(max_length=20)] = None,
    gender: Annotated[str | None, Query(max_length=40)] = None,
    accent: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    voice_type: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[str | None, Query(pattern="^(created_at_unix|name)$")] = None,
    sort_direction: Annotated[str | None, Query(pattern="^(asc|desc)$")] = None,
    voice_ids: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """ElevenLabs' paginated voice search (what current SDKs call): the user's voices, then the
    stock ones. ``voice_type`` personal (also workspace, non-default, saved) is the user's own,
    default the stock voices; ``category`` cloned, generated (blends) or premade (stock)."""
    if voice_type and voice_type not in VOICE_TYPES:
        raise ApiError(422, f"voice_type must be one of {', '.join(sorted(VOICE_TYPES))}.", "invalid_voice_type")
    if next_page_token and not re.fullmatch(r"[0-9]{1,6}", next_page_token):
        raise ApiError(422, "next_page_token is not one this server returned.", "invalid_page_token")
    ids = set(voice_ids or ())
    matches = [v for v in _all_voices(user, str(request.base_url))
               if _wanted(v, search, category, voice_type, gender, accent, ids)]  # fmt: skip
    if sort:
        matches.sort(key=lambda v: (v.get(sort) or 0) if sort == "created_at_unix" else v["name"].lower(),
                     reverse=sort_direction == "desc")  # fmt: skip
    start = int(next_page_token) if next_page_token else 0
    page = matches[start : start + page_size]
    more = start + page_size < len(matches)
    return {
        "voices": page,
        "has_more": more,
        "total_count": len(matches),
        "next_page_token": str(start + page_size) if more else None,
    }


@router.get("/voices/{voice_id}")
async def get_voice(voice_id: str, request: Request, user: ApiUser, client: MaybeTemporalClient) -> dict[str, Any]:
    """A stock voice, one of the user's own, or an ElevenLabs premade id (the studio voice that
    stands in for it, see ``studio.premade_voices``); 404 for any other. While a voice is being fitted,
    ``fine_tuning.state`` is ``{"kokoro-82m": "fine_tuning"}`` (``status`` "fitting") with its
    progress and "step i of n, similarity x"; then "fine_tuned" ("ready") or "failed" with the reason."""
    base = str(request.base_url)
    if voice_id in VOICES:
        link = await asyncio.to_thread(stock_preview_link, voice_id)
        return voice_json(VOICES[voice_id], absolute(link, base) if link else None)
    try:
        own = await asyncio.to_thread(_own_voice, user, voice_id)
    except ApiError:
        if premade := premade_voice(voice_id):  # the user's own voice wins over the alias
            link = await asyncio.to_thread(stock_preview_link, premade.studio_voice)
            return premade_voice_json(premade, absolute(link, base) if link else None)
        raise
    live = await live_status(client, own.clip) if own.state is VoiceState.FITTING and own.clip else None
    link = await asyncio.to_thread(own_preview_link, own)
    return own_voice_json(own, absolute(link, base) if link else None, live)


@router.delete("/voices/{voice_id}")
async def delete_voice(voice_id: str, user: ApiUser, client: MaybeTemporalClient) -> dict[str, str]:
    """Delete one of the user's voices (a fit still running is cancelled and refunded). Clips made
    with it stay in the history. 404 for stock voices and for any voice that is not the user's."""
    await asyncio.to_thread(_own_voice, user, voice_id)
    await remove_voice(client, user, voice_id)
    return {"status": "ok"}


def _parse_labels(raw: str | None) -> dict[str, Any] | None:
    """ElevenLabs sends ``labels`` as a JSON object in a form field ("null" when there are none)."""
    if raw is None or raw.strip() in ("", "null"):
        return None
    try:
        value = json.loads(raw)
        if isinstance(value, str):  # the SDK JSON-encodes a labels string once more
            value = json.loads(value) if value.strip() else None
    except ValueError:
        value = []
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(422, 'labels must be a JSON object, e.g. {"accent": "british"}.', "invalid_labels")
    return value


JOIN_GAP_SECONDS = 0.3
JOIN_RATE = 24_000
MAX_FILES = 25
# The SDK gives up after 240 s by default: answer before that, with the voice id, if still fitting.
MAX_ADD_WAIT_SECONDS = 220.0


def _joined(parts: list[tuple[str, bytes]]) -> bytes:
    """Several samples of one speaker as one WAV: each decoded, in order, 0.3 s of silence between."""
    gap = np.zeros(int(JOIN_GAP_SECONDS * JOIN_RATE), np.float32)
    pieces: list[np.ndarray] = []
    for name, data in parts:
        try:
            pieces += [decode_upload(data, JOIN_RATE), gap]
        except UnusableAudio as exc:
            raise ApiError(422, f"{upload_name(name)}: {exc}", "invalid_audio") from exc
    return to_wav(np.concatenate(pieces[:-1]), JOIN_RATE)


async def _recording(user: User, name: str, files: list[UploadFile]) -> tuple[bytes, str]:
    """The recording to fit: the one file as it is, or several joined (checked cheaply first)."""
    if not files:
        raise ApiError(422, "Send at least one audio file as files.", "invalid_audio")
    if len(files) > MAX_FILES:
        raise ApiError(422, f"Send at most {MAX_FILES} files.", "invalid_audio")
    parts = [(f.filename or "sample", await f.read()) for f in files]
    if len(parts) == 1:
        return parts[0][1], parts[0][0]
    if message := kinds.voice_name_problem(" ".join(name.split())):
        raise ApiError(422, message)
    await asyncio.to_thread(precheck, user.id, fit_price())
    return await asyncio.to_thread(_joined, parts), f"{len(parts)} samples.wav"


def _forget(user: User, voice_id: str) -> None:
    """Remove a voice whose fit failed: over the API, a failed add leaves no voice behind."""
    with session_scope() as db:
        try:
            voice_library.delete_voice(db, user.id, voice_id)
        except voice_library.VoiceNotFound:
            pass


async def _await_fit(client: Client, user: User, voice: CustomVoice, clip: Clip) -> None:
    wait = min(get_settings().api_timeout_seconds, MAX_ADD_WAIT_SECONDS)
    try:
        await finished_within(client, clip, wait)
    except ApiError:
        await asyncio.to_thread(_forget, user, voice.id)
        raise


@router.post("/voices/add")
async def add_voice(
    user: ApiUser,
    client: TemporalClient,
    name: Annotated[str, Form(max_length=1000, description="the voice's name (up to 100 characters)")] = "",
    files: Annotated[list[UploadFile] | None, File(description="one speaker: 10 s to 3 minutes in all")] = None,
    description: Annotated[str | None, Form(max_length=1000)] = None,
    labels: Annotated[str | None, Form(max_length=10_000, description='JSON, e.g. {"accent": "british"}')] = None,
    remove_background_noise: Annotated[str | None, Form(max_length=16, description="accepted, ignored")] = None,
) -> dict[str, Any]:
    """Instant voice clone: fit a voice to recordings of one speaker (ElevenLabs' ``voices.ivc.create``).

    Several ``files`` are joined in the order sent (0.3 s apart) into one recording of 10 s to
    3 minutes; one file is used as it is. Costs the voice-design price in credits (refunded if the
    fit fails). The call waits for the fit (up to ``STUDIO_API_TIMEOUT_SECONDS``, at most 220 s so
    that the SDK's default 240 s timeout is not reached): a recording the fit refuses (silence,
    music, several speakers) is answered 422 with the reason, and no voice is kept. If the fit is
    still running then, the voice id is returned anyway: ``GET /v1/voices/{voice_id}`` shows
    ``status`` "fitting" and ``fine_tuning.state`` "fine_tuning" with its progress until it is
    "fine_tuned" ("ready"); text to speech with it answers 409 until then."""
    data, filename = await _recording(user, name, files or [])
    voice, clip = await start_voice_fit(client, user, data, filename, name, description or "", _parse_labels(labels))
    await _await_fit(client, user, voice, clip)
    return {"voice_id": voice.id, "requires_verification": False}


def _edit(user: User, voice_id: str, name: str, description: str | None, labels: dict | None) -> None:
    with session_scope() as db:
        try:
            own = voice_library.rename_voice(db, user.id, voice_id, name, description)
        except voice_library.VoiceNotFound:
            raise _voice_not_found(voice_id) from None
        if labels is not None:
            own.voice.labels = clean_labels(labels)


@router.post("/voices/{voice_id}/edit")
async def edit_voice(
    voice_id: str,
    user: ApiUser,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str | None, Form(max_length=1000)] = None,
    labels: Annotated[str | None, Form(max_length=10_000)] = None,
    files: Annotated[list[UploadFile] | None, File(description="not supported: make a new voice")] = None,
    remove_background_noise: Annotated[str | None, Form(max_length=16)] = None,
) -> dict[str, str]:
    """Rename one of the user's voices, and change its description and labels. Adding samples to a
    voice is not supported (a fitted voice is not refitted): create a new one."""
    if voice_id in VOICES:  # stock voices are not the user's to edit
        raise _voice_not_found(voice_id)
    await asyncio.to_thread(_own_voice, user, voice_id)
    if files:
        raise ApiError(422, "Adding samples to a voice is not supported; add a new voice instead.", "not_supported")
    name = " ".join(name.split())
    if message := kinds.voice_name_problem(name):
        raise ApiError(422, message)
    await asyncio.to_thread(_edit, user, voice_id, name, description, _parse_labels(labels))
    return {"status": "ok"}


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
        "voice_slots_used": voice_library.count_voices(db, user.id), "professional_voice_slots_used": 0,
        "professional_voice_slots_used_in_workspace": 0, "voice_limit": get_settings().max_voices_per_user,
        "voice_add_edit_counter": 0, "professional_voice_limit": 0, "can_extend_voice_limit": False,
        "can_use_instant_voice_cloning": True, "can_use_professional_voice_cloning": False,
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
    fmt, voice, speed, extra = await _tts_args(body, user, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed, **extra)
    audio = await finished_audio(client, clip, fmt)
    return Response(audio, media_type=fmt.media_type, headers=_headers(clip))


@router.post("/text-to-speech/{voice_id}/stream", response_class=StreamingResponse, responses=AUDIO_RESPONSES)
async def text_to_speech_stream(
    voice_id: str, body: TextToSpeechRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> StreamingResponse:  # fmt: skip
    """Speak the text, sending audio as soon as its first sentence is ready."""
    fmt, voice, speed, extra = await _tts_args(body, user, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed, stream=True, **extra)
    return await streaming_response(client, clip, fmt, _headers(clip))


@router.post("/text-to-speech/{voice_id}/with-timestamps")
async def text_to_speech_with_timestamps(
    voice_id: str, body: TextToSpeechRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> JSONResponse:  # fmt: skip
    """Speak the text; the audio (base64) with every character's start and end, from Kokoro's own
    durations: ``alignment`` for the text as sent, ``normalized_alignment`` for the words spoken
    ("$5" is said "five dollars")."""
    fmt, voice, speed, extra = await _tts_args(body, user, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed, **extra)
    audio = await finished_audio(client, clip, fmt)
    stamps = await asyncio.to_thread(clip_timestamps, clip.id)
    content = {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": stamps["alignment"],
        "normalized_alignment": stamps["normalized_alignment"],
    }
    return JSONResponse(content, headers=_headers(clip))


@router.post("/text-to-speech/{voice_id}/stream/with-timestamps", response_class=StreamingResponse)
async def text_to_speech_stream_with_timestamps(
    voice_id: str, body: TextToSpeechRequest, user: ApiUser, client: TemporalClient,
    output_format: OutputFormat = "mp3_44100_128",
) -> StreamingResponse:  # fmt: skip
    """Speak the text as a stream of JSON lines, one per sentence as it is made: its audio (base64)
    and its characters' times from the start of the clip (``speech.stream_with_timestamps``)."""
    fmt, voice, speed, extra = await _tts_args(body, user, voice_id, output_format)
    clip = await start_tts(client, user, body.text, voice, speed, stream=True, **extra)
    items = stream_with_timestamps(client, clip, fmt)
    try:  # the first item before the response starts, so a failure still gets its status
        first: dict | None = await anext(items)
    except StopAsyncIteration:
        first = None

    async def lines():  # noqa: ANN202
        if first is not None:
            yield json.dumps(first) + "\n"
        async for item in items:
            yield json.dumps(item) + "\n"

    return StreamingResponse(lines(), media_type="application/json", headers=_headers(clip))


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
    voice = await speaking_voice(user, voice_id)
    clip = await start_voice_conversion(client, user, data, audio.filename or "audio", voice, 0.0, None)
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


def own_voice_names(db: DbSession, user: User, clips: list[Clip]) -> dict[str, tuple[str, str]]:
    """Name and API category of the user's voices that these clips were made with."""
    ids = {c.voice for c in clips if is_custom_voice_id(c.voice)}
    if not ids:
        return {}
    rows = db.execute(select(CustomVoice.id, CustomVoice.name, CustomVoice.category).where(
        CustomVoice.user_id == user.id, CustomVoice.id.in_(ids)
    ))  # fmt: skip
    return {vid: (name, CATEGORIES[category]) for vid, name, category in rows}


def history_item(clip: Clip, own_names: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    voice = VOICES.get(clip.voice)
    name, category = (voice.name, "premade") if voice else (own_names or {}).get(clip.voice, (clip.voice, "cloned"))
    state = {ClipStatus.SUCCEEDED: "created", ClipStatus.FAILED: "failed", ClipStatus.CANCELLED: "cancelled"}
    return {
        "history_item_id": str(clip.id), "request_id": clip.workflow_id, "voice_id": clip.voice,
        "model_id": MODEL_ID, "voice_name": name, "voice_category": category,
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
    if voice_id:  # a premade ElevenLabs id finds the clips its studio voice spoke
        premade = premade_voice(voice_id)
        query = query.where(Clip.voice.in_({voice_id} | ({premade.studio_voice} if premade else set())))
    if start_after_history_item_id:
        after = _owned(db, user, start_after_history_item_id)
        query = query.where(
            or_(Clip.created_at < after.created_at, and_(Clip.created_at == after.created_at, Clip.id > after.id))
        )
    clips = list(db.scalars(query.order_by(Clip.created_at.desc(), Clip.id).limit(page_size + 1)))
    page = clips[:page_size]
    names = own_voice_names(db, user, page)
    return {
        "history": [history_item(c, names) for c in page],
        "last_history_item_id": str(page[-1].id) if page else None,
        "has_more": len(clips) > page_size,
        "scanned_until": int(datetime.now().timestamp()),
    }


@router.get("/history/{history_item_id}")
def get_history_item(history_item_id: Annotated[str, Path()], user: ApiUser, db: DbSession) -> dict[str, Any]:
    clip = _owned(db, user, history_item_id)
    return history_item(clip, own_voice_names(db, user, [clip]))


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
