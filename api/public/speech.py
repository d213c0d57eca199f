"""Speech for API callers: run the clip's workflow, then hand back its audio whole or as a stream.

A streamed request asks the TTS worker to publish each chunk to the object store as it is
made; the stream encodes and sends each part as soon as it appears.
"""

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from api.public.errors import ApiError
from studio.audio import AudioFormat, Encoder, encode, read_wav
from studio.db import session_scope
from studio.models import Clip, ClipStatus
from studio.settings import get_settings
from studio.storage import ClipObjects, get_store
from workflows.types import BAD_INPUT, INSUFFICIENT_CREDITS

POLL_SECONDS = 0.05
STATUS_EVERY = 10  # polls of the store per look at the clip's status
FAILURE_STATUS = {INSUFFICIENT_CREDITS: 402, BAD_INPUT: 422}


def _failure(err: WorkflowFailureError) -> ApiError:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return ApiError(FAILURE_STATUS.get(cause.type or "", 502), cause.message)
    return ApiError(502, "The generation failed.")


async def finished_within(client: Client, clip: Clip, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the clip's workflow: True once it succeeded, False if it
    is still running; an ApiError with a fitting status if it failed."""
    handle = client.get_workflow_handle(clip.workflow_id)
    try:
        await asyncio.wait_for(handle.result(), timeout=timeout)
    except WorkflowFailureError as err:
        raise _failure(err) from err
    except TimeoutError:
        return False
    return True


async def wait_until_done(client: Client, clip: Clip) -> None:
    """Block until the clip's workflow ends; raise an ApiError with a fitting status if it failed."""
    if not await finished_within(client, clip, get_settings().api_timeout_seconds):
        raise ApiError(504, "The generation is taking too long; find it later in your history.")


def _encoded_audio(clip_id: uuid.UUID, fmt: AudioFormat) -> bytes:
    """The finished clip's audio in ``fmt`` (blocking: database, store and encoder)."""
    with session_scope() as db:
        clip = db.get(Clip, clip_id)
        if clip is None or clip.status != ClipStatus.SUCCEEDED or not clip.object_key:
            raise ApiError(404, "This item has no audio.")
        key = clip.object_key
    samples, rate = read_wav(get_store().get_bytes(key))
    return encode(samples, rate, fmt)


async def finished_audio(client: Client, clip: Clip, fmt: AudioFormat) -> bytes:
    """Wait for the clip's workflow, then read and encode its audio in a worker thread."""
    await wait_until_done(client, clip)
    return await asyncio.to_thread(_encoded_audio, clip.id, fmt)


def _part_or_none(key: str) -> bytes | None:
    store = get_store()
    return store.get_bytes(key) if store.exists(key) else None


def _status(clip_id: uuid.UUID) -> ClipStatus:
    with session_scope() as session:
        return session.get(Clip, clip_id).status


@dataclass
class Part:
    """One streamed chunk of a clip: its samples and, when asked for, its timestamps (the spoken
    text's characters, in seconds from the part's own start)."""

    index: int
    samples: np.ndarray
    rate: int
    alignment: dict | None = None


async def stream_parts(client: Client, clip: Clip, timestamps: bool = False) -> AsyncIterator[Part]:
    """The clip's parts as the worker publishes them; ends when the clip does.

    Fails (before yielding anything) with an ApiError if the clip fails before its first part.
    """
    objects = ClipObjects.of(clip)
    index = polls = 0
    deadline = asyncio.get_running_loop().time() + get_settings().api_timeout_seconds
    try:
        while asyncio.get_running_loop().time() < deadline:
            data = await asyncio.to_thread(_part_or_none, objects.stream_part(index))
            if data is not None:
                samples, rate = read_wav(data)
                alignment = None
                if timestamps:  # published before the part's audio
                    stamps = await asyncio.to_thread(get_store().get_bytes, objects.stream_part(index, ".json"))
                    alignment = json.loads(stamps)["normalized_alignment"]
                yield Part(index, samples, rate, alignment)
                index += 1
                continue
            polls += 1
            if polls % STATUS_EVERY:  # the store is cheap to poll; the database is asked ~2x a second
                await asyncio.sleep(POLL_SECONDS)
                continue
            status = await asyncio.to_thread(_status, clip.id)
            if status.finished:
                if status == ClipStatus.SUCCEEDED and await asyncio.to_thread(
                    get_store().exists, objects.stream_part(index)
                ):
                    continue  # the last part landed between our two looks
                if index == 0 and status != ClipStatus.SUCCEEDED:
                    await wait_until_done(client, clip)  # raises the failure with its status
                break
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await asyncio.to_thread(_drop_parts, objects, index)


async def stream_audio(client: Client, clip: Clip, fmt: AudioFormat) -> AsyncIterator[bytes]:
    """Encoded audio, part by part as the worker publishes them (``stream_parts``)."""
    encoder: Encoder | None = None
    async for part in stream_parts(client, clip):
        encoder = encoder or Encoder(fmt, part.rate)
        if data := encoder.write(part.samples):
            yield data
    if encoder is not None and (tail := encoder.close()):
        yield tail


async def stream_with_timestamps(client: Client, clip: Clip, fmt: AudioFormat) -> AsyncIterator[dict]:
    """ElevenLabs' stream-with-timestamps items: each part's encoded audio (base64) with its
    characters' times, counted from the start of the clip. The typed text's alignment needs the
    whole clip, so in a stream both fields carry the spoken (normalised) text's characters."""
    encoder: Encoder | None = None
    offset = 0.0
    async for part in stream_parts(client, clip, timestamps=True):
        encoder = encoder or Encoder(fmt, part.rate)
        alignment = shifted(part.alignment or EMPTY_ALIGNMENT, offset)
        offset += len(part.samples) / part.rate
        yield {
            "audio_base64": base64.b64encode(encoder.write(part.samples)).decode(),
            "alignment": alignment,
            "normalized_alignment": alignment,
        }
    if encoder is not None and (tail := encoder.close()):
        yield {"audio_base64": base64.b64encode(tail).decode(), "alignment": None, "normalized_alignment": None}


EMPTY_ALIGNMENT = {"characters": [], "character_start_times_seconds": [], "character_end_times_seconds": []}


def shifted(alignment: dict, seconds: float) -> dict:
    """An ElevenLabs alignment with every time moved by ``seconds``."""
    return {
        "characters": alignment["characters"],
        "character_start_times_seconds": [round(t + seconds, 3) for t in alignment["character_start_times_seconds"]],
        "character_end_times_seconds": [round(t + seconds, 3) for t in alignment["character_end_times_seconds"]],
    }


def clip_timestamps(clip_id: uuid.UUID) -> dict:
    """A finished speech clip's timestamps document (``workers/gpu_tts/timing.timestamp_files``):
    ``alignment`` (typed text), ``normalized_alignment`` (spoken text), ``words``, ``duration``."""
    with session_scope() as db:
        clip = db.get(Clip, clip_id)
        if clip is None or clip.status != ClipStatus.SUCCEEDED:
            raise ApiError(404, "This item has no audio.")
        key = ClipObjects.of(clip).timing(".json")
    store = get_store()
    if not store.exists(key):
        raise ApiError(404, "This item has no timestamps.")
    return json.loads(store.get_bytes(key))


def _drop_parts(objects: ClipObjects, count: int) -> None:
    store = get_store()
    for i in range(count):
        store.delete(objects.stream_part(i))
        store.delete(objects.stream_part(i, ".json"))
