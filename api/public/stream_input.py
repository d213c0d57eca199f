"""ElevenLabs' text-to-speech websocket: ``/v1/text-to-speech/{voice_id}/stream-input``.

Text arrives in pieces (an LLM's output); audio goes back as it is made. The protocol, as the
official SDK (``convert_realtime``) and ElevenLabs' documentation use it:

- first message ``{"text": " ", "voice_settings": {...}, "generation_config":
  {"chunk_length_schedule": [...]}, "xi-api-key": ...}`` (the key may instead be the ``xi-api-key``
  or ``Authorization: Bearer`` header, or the ``authorization`` query parameter);
- then ``{"text": "...", "try_trigger_generation": bool, "flush": bool}``; ``{"text": " "}``
  only keeps the connection alive; ``{"text": ""}`` ends the input;
- answers ``{"audio": base64, "isFinal": null, "alignment": {chars, charStartTimesMs,
  charDurationsMs}, "normalizedAlignment": {...}}`` (times from the start of that message's
  audio; ``alignment`` is the text as sent, ``normalizedAlignment`` the words spoken), then
  ``{"isFinal": true}`` and a normal close (1000);
- a problem is a message ``{"message", "error", "code"}`` and a close with that code (1008 for
  a bad key, voice, parameter, quota or idle timeout, 1007 for a message that is not JSON text,
  1013 to try again later, 1011 when the generation failed); never an unhandled error.

Text is buffered here as ElevenLabs does: a segment is sent to be spoken when the buffer reaches
the chunk schedule's next length (default 120, 160, 250, 290 characters), on ``flush``, on
``try_trigger_generation`` once it holds 50 characters, at the end, or at once with
``auto_mode=true``. A scheduled segment ends at the buffer's last sentence end (else clause mark,
else space) in its second half, so Kokoro speaks whole phrases; the rest waits for the next.

The session is one clip and one ``SpeechSession`` workflow (see its docstring for the shape): it
starts with the first text, taking one admission (rate limit) and one clip's price; segments go
to it as signals; the audio is read from the stream parts its TTS activities publish. If the
client leaves mid-stream, what it sent is still spoken, stored and charged once.

Query parameters accepted: ``model_id`` (checked as on the HTTP routes), ``output_format``
(any streamable format: ``mp3_*``, ``pcm_*``, ``opus_48000_*``, ``ulaw_8000``, ``alaw_8000``,
``aac_*``), ``inactivity_timeout`` (1-180 s, default 20: with no message for that long the input
ends, the rest is spoken and the socket closes with 1008), ``auto_mode``. Accepted without
effect: ``sync_alignment`` (every audio message carries its alignment anyway),
``enable_logging``, ``enable_ssml_parsing``, ``optimize_streaming_latency``, ``language_code``,
``seed``. ``apply_text_normalization`` (auto, on, off) as on the HTTP routes; the first message's
``pronunciation_dictionary_locators`` (up to 3 of the user's dictionaries) apply to the whole socket.
"""

import asyncio
import base64
import json
import logging
import math
import re
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from api.errors import UserError
from api.generation import admit, new_clip, precheck, start_clip_workflow, voice_settings
from api.public.elevenlabs_routes import MODEL_ALIASES, speaking_voice
from api.public.errors import ApiError
from api.public.pronunciation_routes import locator_rules
from studio import api_keys, kinds
from studio.audio import AudioFormat, Encoder, parse_output_format, read_wav
from studio.db import get_sessionmaker
from studio.kinds import KINDS, ClipKind
from studio.models import User
from studio.pronunciation import PRONUNCIATION_RULES
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from workflows.speech_session import SpeechSession
from workflows.types import SessionProgress, SessionRequest, SessionSegment

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["ElevenLabs-compatible"])

DEFAULT_SCHEDULE = (120.0, 160.0, 250.0, 290.0)
MIN_TRIGGER_CHARS = 50  # try_trigger_generation speaks a buffer only from this length on
DEFAULT_INACTIVITY, MAX_INACTIVITY = 20.0, 180.0
KEEPALIVE_SECONDS = 5.0  # the session hears from this site at least this often while the socket is open
SESSION_IDLE_SECONDS = 20.0  # the session ends itself after this long without a word from the site
POLL_SECONDS = 0.02  # how often the store is asked for the next part
PROGRESS_EVERY = 25  # polls per look at the session's progress (~2 a second)

# Close codes (RFC 6455): why the socket is closed.
NORMAL, INVALID_DATA, POLICY, SERVER_ERROR, TRY_LATER = 1000, 1007, 1008, 1011, 1013
STATUS_CLOSE = {429: TRY_LATER, 503: TRY_LATER, 502: SERVER_ERROR, 504: SERVER_ERROR}


class Closing(Exception):
    """Tell the client why, then close the socket with ``code``."""

    def __init__(self, message: str, code: int = POLICY, error: str = "invalid_request") -> None:
        super().__init__(message)
        self.message, self.code, self.error = message, code, error

    @classmethod
    def of(cls, exc: ApiError | UserError) -> "Closing":
        status = exc.status_code
        error = (
            exc.code
            if isinstance(exc, ApiError)
            else {402: "quota_exceeded", 429: "too_many_requests"}.get(status, "invalid_request")
        )
        return cls(exc.message, STATUS_CLOSE.get(status, POLICY), error)


# Text -> segments (the chunk schedule)

_SENTENCE_END = re.compile(r"[.!?…][\"')\]”’]*\s+")
_CLAUSE_END = re.compile(r"[,;:—]\s+")
_SPACE = re.compile(r"\s+")


def cut_point(text: str) -> int:
    """Where a scheduled segment ends: the last sentence end, else clause mark, else space, in the
    buffer's second half (the rest waits); the whole buffer if there is none."""
    for marks in (_SENTENCE_END, _CLAUSE_END, _SPACE):
        cuts = [m.end() for m in marks.finditer(text) if m.end() >= len(text) // 2]
        if cuts:
            return cuts[-1]
    return len(text)


@dataclass
class TextBuffer:
    """ElevenLabs' input buffer: text in, segments out when the schedule (or the client) says so."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    auto_mode: bool = False
    text: str = ""
    generations: int = 0

    def add(self, text: str, flush: bool = False, try_trigger: bool = False) -> list[str]:
        self.text += text
        if flush or self.auto_mode:
            return self.rest()
        due = self.schedule[min(self.generations, len(self.schedule) - 1)]
        if len(self.text) >= due or (try_trigger and len(self.text) >= MIN_TRIGGER_CHARS):
            return self._take(cut_point(self.text))
        return []

    def rest(self) -> list[str]:
        return self._take(len(self.text))

    def _take(self, n: int) -> list[str]:
        head, self.text = self.text[:n], self.text[n:]
        if not head.strip():  # only spaces (keep-alives): nothing to say
            return []
        self.generations += 1
        return [head]


# The first message and the query


@dataclass
class Options:
    fmt: AudioFormat
    inactivity: float
    auto_mode: bool
    normalization: str = "auto"  # apply_text_normalization


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def parse_options(query: dict[str, str]) -> Options:
    model_id = query.get("model_id")
    if model_id is not None and model_id not in MODEL_ALIASES:
        raise Closing(f"Unknown model_id {model_id!r}; GET /v1/models lists them.", error="model_not_found")
    try:
        fmt = parse_output_format(query.get("output_format") or "mp3_44100_128")
    except ValueError as err:
        raise Closing(f"Bad output_format: {err}.", error="invalid_output_format") from err
    if not fmt.streamable:
        raise Closing(
            f"output_format {fmt.extension} cannot be streamed; use pcm_* or mp3_*.", error="invalid_output_format"
        )
    try:
        inactivity = float(query.get("inactivity_timeout") or DEFAULT_INACTIVITY)
    except ValueError:
        inactivity = -1.0
    if not 1 <= inactivity <= MAX_INACTIVITY:
        raise Closing(f"inactivity_timeout must be between 1 and {MAX_INACTIVITY:g} seconds.")
    normalization = query.get("apply_text_normalization") or "auto"
    if normalization not in kinds.NORMALIZATION_MODES:
        raise Closing(f"apply_text_normalization must be one of {', '.join(kinds.NORMALIZATION_MODES)}.")
    return Options(fmt, inactivity, _flag(query.get("auto_mode")), normalization)


def speed_of(first: dict) -> float:
    settings = first.get("voice_settings") or {}
    speed = settings.get("speed") if isinstance(settings, dict) else None
    try:
        speed = 1.0 if speed is None else float(speed)
    except (TypeError, ValueError):
        speed = float("nan")
    if math.isnan(speed) or not kinds.MIN_SPEED <= speed <= kinds.MAX_SPEED:
        raise Closing(f"voice_settings.speed must be between {kinds.MIN_SPEED} and {kinds.MAX_SPEED}.")
    return speed


def schedule_of(first: dict) -> tuple[float, ...]:
    config = first.get("generation_config") or {}
    schedule = config.get("chunk_length_schedule") if isinstance(config, dict) else None
    if schedule is None:
        return DEFAULT_SCHEDULE
    ok = (
        isinstance(schedule, list)
        and schedule
        and all(isinstance(n, int | float) and not isinstance(n, bool) and 1 <= n <= 500 for n in schedule)
    )
    if not ok:
        raise Closing("generation_config.chunk_length_schedule must be a list of lengths from 1 to 500.")
    return tuple(float(n) for n in schedule)


def key_of(websocket: WebSocket, first: dict | None) -> str | None:
    """The API key: a header, the ``authorization`` query parameter, or the first message."""
    bearer = websocket.headers.get("authorization") or websocket.query_params.get("authorization") or ""
    bearer = bearer.removeprefix("Bearer ").strip()
    key = websocket.headers.get("xi-api-key") or bearer
    if not key and first is not None:
        key = first.get("xi-api-key") or first.get("xi_api_key") or str(first.get("authorization") or "")
        key = key.removeprefix("Bearer ").strip() if isinstance(key, str) else None
    return key or None


def _user_for(key: str) -> User | None:
    with get_sessionmaker()() as db:
        user = api_keys.user_for_key(db, key)
        db.commit()  # records last_used_at
        return user


def to_elevenlabs(alignment: dict) -> dict:
    """Our alignment (seconds) as the websocket's (``chars``, start and duration in ms)."""
    starts, ends = alignment["character_start_times_seconds"], alignment["character_end_times_seconds"]
    return {
        "chars": alignment["characters"],
        "charStartTimesMs": [round(s * 1000) for s in starts],
        "charDurationsMs": [max(0, round((e - s) * 1000)) for s, e in zip(starts, ends, strict=True)],
    }


def _read_part(objects: ClipObjects, index: int) -> tuple[bytes, dict] | None:
    store = get_store()
    if not store.exists(objects.stream_part(index)):
        return None
    return store.get_bytes(objects.stream_part(index)), json.loads(store.get_bytes(objects.stream_part(index, ".json")))


@dataclass
class Session:
    """One websocket's session: the buffer, the workflow, and the two directions between them."""

    websocket: WebSocket
    client: Client
    user: User
    voice: str
    settings: dict
    options: Options
    buffer: TextBuffer
    handle: WorkflowHandle | None = None
    objects: ClipObjects | None = None
    sent_segments: int = 0
    chars: int = 0
    input_over: bool = False
    heard_at: float = 0.0
    problem: Closing | None = None  # why the input ended early, told to the client after its audio
    failure: Closing | None = None  # the session failed: told at once
    receiver: asyncio.Task | None = None
    sender: asyncio.Task | None = None
    keepalive: asyncio.Task | None = None

    # Client -> session

    async def run(self) -> None:
        """Take the input until it ends, let the audio follow, then close; if the client leaves,
        what it sent is still spoken and stored (the session finishes on its own)."""
        self.receiver = asyncio.create_task(self.receive())
        try:
            connected = await self.receiver
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.failure is None or (task is not None and task.cancelling()):
                raise
            connected = True  # the sender stopped it: the session failed
        await self.end_input()
        if self.keepalive is not None:
            self.keepalive.cancel()
        if self.sender is not None:
            if not connected:
                self.sender.cancel()
            await asyncio.gather(self.sender, return_exceptions=True)
        if self.handle is not None:  # the parts are no longer needed by this site
            try:
                await self.handle.signal(SpeechSession.delivered)
            except RPCError:
                pass
        if connected:
            await _close(self.websocket, self.failure or self.problem)

    async def receive(self) -> bool:
        """Take the client's messages until the input ends; False if the client has gone."""
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), self.options.inactivity)
            except TimeoutError:
                seconds = f"{self.options.inactivity:g}"
                self.problem = Closing(
                    f"No text for {seconds} seconds: the input has ended (send a space to keep the connection "
                    'open, and {"text": ""} when done).', POLICY, "input_timeout",
                )  # fmt: skip
                return True
            if message["type"] == "websocket.disconnect":
                return False
            try:
                text, flush, trigger = self._parse(message)
                if text == "":  # the end of the input
                    return True
                await self.take(text, flush, trigger)
            except Closing as problem:
                self.problem = problem
                return True

    @staticmethod
    def _parse(message: dict) -> tuple[str, bool, bool]:
        if message.get("text") is None:
            raise Closing("Send text messages (JSON), not binary ones.", INVALID_DATA, "invalid_message")
        try:
            data = json.loads(message["text"])
        except ValueError:
            raise Closing(
                'Each message must be JSON, e.g. {"text": "Hello "}.', INVALID_DATA, "invalid_message"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise Closing('Each message needs "text", a string ("" ends the input).', INVALID_DATA, "invalid_message")
        return data["text"], data.get("flush") is True, data.get("try_trigger_generation") is True

    async def take(self, text: str, flush: bool = False, trigger: bool = False) -> None:
        limit = get_settings().max_text_chars
        if self.chars + len(text) > limit:
            raise Closing(f"This session has reached its limit of {limit} characters.", POLICY, "text_too_long")
        self.chars += len(text)
        if self.handle is None and text.strip():
            await self.start(text)
        for segment in self.buffer.add(text, flush, trigger):
            await self.speak(segment)

    async def speak(self, segment: str) -> None:
        assert self.handle is not None
        try:
            await self.handle.signal(SpeechSession.add_segment, SessionSegment(self.sent_segments, segment))
        except RPCError as exc:  # the session is over (failed, cancelled): the sender says why
            raise Closing("The session has ended.", SERVER_ERROR, "session_ended") from exc
        self.sent_segments += 1
        self.heard_at = asyncio.get_running_loop().time()

    async def end_input(self) -> None:
        """The rest of the buffer is spoken, and the session told that nothing more will come."""
        if self.input_over:
            return
        self.input_over = True
        if self.handle is None:
            return
        try:
            for segment in self.buffer.rest():
                await self.speak(segment)
            await self.handle.signal(SpeechSession.end_input)
        except (Closing, RPCError) as exc:
            log.info("session %s already over: %s", self.handle.id, exc)

    async def start(self, text: str) -> None:
        """Admit and record the clip (one generation), then start its workflow, sender and keep-alive."""
        clip = new_clip(self.user, ClipKind.TTS, text.strip(), self.voice, self.settings)
        try:
            clip = await asyncio.to_thread(admit, clip)
            self.objects = ClipObjects.of(clip)
            request = SessionRequest(
                str(clip.id), str(self.user.id), self.voice, self.settings, self.objects,
                idle_seconds=SESSION_IDLE_SECONDS, max_chars=get_settings().max_text_chars,
            )  # fmt: skip
            self.handle = await start_clip_workflow(self.client, clip, SpeechSession.run, request)
        except UserError as exc:
            raise Closing.of(exc) from exc
        self.heard_at = asyncio.get_running_loop().time()
        self.sender = asyncio.create_task(self.send_guarded())
        self.keepalive = asyncio.create_task(self.keep_alive())

    async def keep_alive(self) -> None:
        """While the socket is open, the session hears from the site every few seconds."""
        loop = asyncio.get_running_loop()
        while not self.input_over and self.handle is not None:
            await asyncio.sleep(1.0)
            if not self.input_over and loop.time() - self.heard_at >= KEEPALIVE_SECONDS:
                try:
                    await self.handle.signal(SpeechSession.keep_alive)
                except RPCError:
                    return
                self.heard_at = loop.time()

    # Session -> client

    async def send_guarded(self) -> None:
        """``send``; a failed session stops the input, a vanished client just ends it."""
        try:
            await self.send()
        except Closing as failure:
            self.failure = failure
            if self.receiver is not None:
                self.receiver.cancel()
        except (WebSocketDisconnect, RuntimeError) as exc:
            log.info("client left while audio was being sent: %s", exc)

    async def send(self) -> None:
        """Send each part as it appears, then ``isFinal``; raise Closing if the session failed."""
        assert self.handle is not None and self.objects is not None
        encoder: Encoder | None = None
        index = polls = 0
        while True:
            found = await asyncio.to_thread(_read_part, self.objects, index)
            if found is not None:
                samples, rate = read_wav(found[0])
                encoder = encoder or Encoder(self.options.fmt, rate)
                audio = await asyncio.to_thread(encoder.write, samples)
                await self.websocket.send_json({
                    "audio": base64.b64encode(audio).decode(), "isFinal": None,
                    "normalizedAlignment": to_elevenlabs(found[1]["normalized_alignment"]),
                    "alignment": to_elevenlabs(found[1]["alignment"]),
                })  # fmt: skip
                index += 1
                continue
            polls += 1
            if polls % PROGRESS_EVERY == 0 and await self._finished(index):
                break
            await asyncio.sleep(POLL_SECONDS)
        if encoder is not None and (tail := await asyncio.to_thread(encoder.close)):
            await self.websocket.send_json({"audio": base64.b64encode(tail).decode(), "isFinal": None})
        await self.websocket.send_json({"isFinal": True})

    async def _finished(self, sent: int) -> bool:
        """Every segment spoken and every part sent (raises Closing if the session failed)."""
        assert self.handle is not None
        try:
            progress: SessionProgress = await self.handle.query(SpeechSession.progress)
        except RPCError as exc:
            log.debug("progress of %s: %s", self.handle.id, exc)
            return False
        if progress.error:
            raise Closing(progress.error, SERVER_ERROR, "generation_failed")
        return progress.ended and progress.spoken == progress.segments and sent >= progress.parts


async def _open(websocket: WebSocket, voice_id: str) -> Session:
    """Check the query, the key, the first message and the voice; Closing if any is wrong."""
    options = parse_options(dict(websocket.query_params))
    key = key_of(websocket, None)
    user = await asyncio.to_thread(_user_for, key) if key else None
    if key and user is None:
        raise Closing("Invalid or revoked API key.", error="invalid_api_key")
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), options.inactivity)
        first = json.loads(raw)
    except TimeoutError:
        raise Closing('No first message; send {"text": " "} first.', POLICY, "input_timeout") from None
    except (ValueError, KeyError):
        raise Closing('The first message must be JSON, e.g. {"text": " "}.', INVALID_DATA, "invalid_message") from None
    if not isinstance(first, dict) or not isinstance(first.get("text"), str):
        raise Closing('The first message needs "text" (a single space).', INVALID_DATA, "invalid_message")
    if user is None:
        key = key_of(websocket, first)
        user = await asyncio.to_thread(_user_for, key) if key else None
        if user is None:
            message = "Invalid or revoked API key." if key else "Missing API key: send it as xi-api-key."
            raise Closing(message, error="invalid_api_key" if key else "needs_authorization")
    try:
        voice = await speaking_voice(user, voice_id)
        settings = {"speed": speed_of(first), "session": True} | await asyncio.to_thread(voice_settings, user.id, voice)
        if options.normalization != "auto":
            settings[kinds.TEXT_NORMALIZATION] = options.normalization
        if rules := await locator_rules(user.id, first.get("pronunciation_dictionary_locators")):
            settings[PRONUNCIATION_RULES] = rules
        price = KINDS[ClipKind.TTS].price(settings)
        await asyncio.to_thread(precheck, user.id, price)  # a refusal now, before any text is sent
        client = await websocket.app.state.temporal()
    except (ApiError, UserError) as exc:
        raise Closing.of(exc) from exc
    session = Session(
        websocket, client, user, voice, settings, options, TextBuffer(schedule_of(first), options.auto_mode)
    )
    if first["text"].strip():
        await session.take(first["text"])
    return session


async def _close(websocket: WebSocket, problem: Closing | None) -> None:
    try:
        if problem is not None:
            await websocket.send_json({"message": problem.message, "error": problem.error, "code": problem.code})
        reason = problem.message.encode()[:120].decode(errors="ignore") if problem else ""
        await websocket.close(problem.code if problem else NORMAL, reason)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client is gone already


@router.websocket("/text-to-speech/{voice_id}/stream-input")
async def stream_input(websocket: WebSocket, voice_id: str) -> None:
    """ElevenLabs' input-streaming websocket (see the module's docstring)."""
    await websocket.accept()
    try:
        session = await _open(websocket, voice_id)
    except Closing as problem:
        await _close(websocket, problem)
        return
    except WebSocketDisconnect:
        return
    await session.run()
