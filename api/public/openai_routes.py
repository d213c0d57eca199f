"""OpenAI-compatible speech: ``POST /v1/audio/speech``, streamed as it is synthesised (raw audio, or
server-sent events with ``stream_format: "sse"``)."""

import base64
import json
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import Client

from api.deps import TemporalClient
from api.generation import start_tts
from api.public.auth import ApiUser
from api.public.elevenlabs_routes import AUDIO_RESPONSES, _headers, speaking_voice, streaming_response
from api.public.errors import ApiError
from api.public.speech import stream_audio
from studio.audio import AudioFormat, audio_format
from studio.models import Clip, User

router = APIRouter(prefix="/v1/audio", tags=["OpenAI-compatible"])

# OpenAI's voice names, mapped to the closest studio voices (studio ids work too).
OPENAI_VOICES = {
    "alloy": "af_alloy", "ash": "am_adam", "ballad": "bm_george", "coral": "af_heart", "echo": "am_echo",
    "fable": "bm_fable", "nova": "af_nova", "onyx": "am_onyx", "sage": "af_sarah", "shimmer": "af_bella",
    "verse": "am_michael", "marin": "af_kore", "cedar": "am_eric",
}  # fmt: skip
MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "kokoro-82m"}
FORMAT_RATES = {"mp3": 24_000, "opus": 48_000, "aac": 24_000, "flac": 24_000, "wav": 24_000, "pcm": 24_000}


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str
    input: str = Field(max_length=100_000)
    voice: str
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0, description="The studio supports 0.5 to 2.0")
    instructions: str | None = Field(None, description="Accepted for compatibility; ignored")
    stream_format: Literal["audio", "sse"] | None = None


def _unknown_voice(name: str) -> ApiError:
    known = ", ".join(sorted(OPENAI_VOICES))
    return ApiError(400, f"Unknown voice {name!r}: use one of {known} or a studio voice id.", "invalid_voice")


async def resolve_voice(user: User, name: str) -> str:
    """An OpenAI voice name, a stock voice id or one of the user's own voice ids; anything else
    (another user's voice included) is an unknown voice, and the user's voice still being fitted 409."""
    voice = OPENAI_VOICES.get(name.lower(), name)
    try:
        return await speaking_voice(user, voice)
    except ApiError as exc:
        if exc.status_code == 404:
            raise _unknown_voice(name) from None
        raise


@router.post("/speech", response_class=StreamingResponse, responses=AUDIO_RESPONSES)
async def create_speech(body: SpeechRequest, user: ApiUser, client: TemporalClient) -> StreamingResponse:
    if body.model not in MODELS:
        raise ApiError(400, f"Unknown model {body.model!r}: use one of {', '.join(sorted(MODELS))}.", "invalid_model")
    fmt = audio_format(body.response_format, FORMAT_RATES[body.response_format])
    voice = await resolve_voice(user, body.voice)
    clip = await start_tts(client, user, body.input, voice, body.speed, stream=True)
    if body.stream_format == "sse":
        return await sse_response(client, clip, fmt, len(body.input))
    return await streaming_response(client, clip, fmt, _headers(clip))


async def sse_response(client: Client, clip: Clip, fmt: AudioFormat, characters: int) -> StreamingResponse:
    """OpenAI's ``stream_format: "sse"``: a ``speech.audio.delta`` event (base64 audio) per sentence
    as it is made, then ``speech.audio.done`` with the usage (the studio counts characters as input
    tokens; it has no output tokens). The first event is awaited before the response starts, so a
    failure still gets its status."""
    chunks = stream_audio(client, clip, fmt)
    try:
        first: bytes | None = await anext(chunks)
    except StopAsyncIteration:
        first = None

    def event(payload: dict) -> str:
        return f"data: {json.dumps(payload)}\n\n"

    async def events():  # noqa: ANN202
        if first:
            yield event({"type": "speech.audio.delta", "audio": base64.b64encode(first).decode()})
        async for chunk in chunks:
            yield event({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()})
        usage = {"input_tokens": characters, "output_tokens": 0, "total_tokens": characters}
        yield event({"type": "speech.audio.done", "usage": usage})

    headers = _headers(clip) | {"Cache-Control": "no-cache"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
