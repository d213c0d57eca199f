"""The ElevenLabs websocket in-process: the real app under uvicorn, a real Temporal dev server, the
real orchestration worker and the real Kokoro speaking segments; a plain websocket client speaks
the protocol, so each edge case (flush, try_trigger_generation, the closing message, leaving
mid-stream, bad key, unknown voice, non-JSON) is checked on the wire and in the ledger."""

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
import websockets
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError

from activities.worker import build_worker
from api.public.stream_input import TextBuffer, cut_point
from studio import api_keys
from studio.audio import decode
from studio.db import session_scope
from studio.models import Clip, LedgerEntry, User
from studio.storage import ClipObjects, get_store
from temporal.client import connect
from tests import services
from tests.conftest import API_TEST_NAMESPACE, make_user, reset_caches
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.speech_session import session_worker
from workers.gpu_worker import WorkerContext

PRICE = 50


# The buffer alone (no services)


def test_the_schedule_cuts_at_phrase_ends() -> None:
    buffer = TextBuffer(schedule=(30.0, 40.0))
    assert buffer.add("Hello there, ") == []
    assert buffer.add("this is the first one. And") == ["Hello there, this is the first one. "]
    assert buffer.text == "And"
    assert buffer.add(" a second", flush=True) == ["And a second"]
    assert buffer.add("   ") == [] and buffer.rest() == []  # spaces only keep the connection alive
    assert cut_point("no marks at all") == len("no marks at ")
    assert cut_point("short.") == len("short.")


def test_try_trigger_needs_fifty_characters_and_auto_mode_sends_each_message() -> None:
    buffer = TextBuffer()
    assert buffer.add("Twenty characters.. ", try_trigger=True) == []
    assert buffer.add("x" * 40 + " ", try_trigger=True) == ["Twenty characters.. " + "x" * 40 + " "]
    assert TextBuffer(auto_mode=True).add("Hi. ") == ["Hi. "]


# The websocket with the real services


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


@dataclass
class Live:
    url: str
    client: Client
    user: User
    key: str


@pytest.fixture
async def live(
    sqlite_url: str, temporal_dev: str, engine: KokoroEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Live]:
    for name, value in {
        "STUDIO_DATABASE_URL": sqlite_url, "STUDIO_VAR_DIR": str(tmp_path), "STUDIO_STORAGE_BACKEND": "local",
        "STUDIO_TEMPORAL_ADDRESS": temporal_dev, "STUDIO_TEMPORAL_NAMESPACE": API_TEST_NAMESPACE,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    reset_caches()
    from api.main import create_app

    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    client = await connect()
    user = make_user(credits=1000)
    with session_scope() as db:
        _, key = api_keys.create_key(db, db.get(User, user.id), "ws")
    ctx = WorkerContext(tmp_path / "spool", "unused", get_store(), client)
    with ThreadPoolExecutor(16) as executor:
        async with build_worker(client, executor), session_worker(engine, ctx, executor, 4):
            while not server.started:
                await asyncio.sleep(0.05)
            yield Live(f"ws://127.0.0.1:{port}/v1/text-to-speech", client, user, key)
    server.should_exit = True
    await serving
    reset_caches()


async def converse(ws, messages: list[dict | str], leave_after: int | None = None) -> list[dict]:  # noqa: ANN001
    """Send the messages (JSON unless a str), then read answers until the socket closes (or, with
    ``leave_after``, drop the connection after that many audio messages)."""
    answers = []
    try:
        for message in messages:
            await ws.send(message if isinstance(message, str) else json.dumps(message))
    except websockets.ConnectionClosed:
        pass  # closed early (a refusal): its message is still to be read
    try:
        while True:
            answers.append(json.loads(await ws.recv()))
            if leave_after is not None and sum(1 for a in answers if a.get("audio")) >= leave_after:
                break
    except websockets.ConnectionClosed:
        pass
    return answers


def ledger_of(clip_id: uuid.UUID) -> list[tuple[str, int]]:
    with session_scope() as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.clip_id == clip_id).order_by(LedgerEntry.id))
        return [(e.kind.value, e.delta) for e in entries]


def the_clip(user: User) -> Clip:
    with session_scope() as s:
        clips = list(s.scalars(select(Clip).where(Clip.user_id == user.id)))
    assert len(clips) == 1, clips
    return clips[0]


async def test_flushed_segments_are_one_clip_charged_once(live: Live) -> None:
    messages = [
        {"text": " ", "voice_settings": {"speed": 1.0}, "generation_config": {"chunk_length_schedule": [120]}},
        {"text": "Hello there. ", "flush": True},  # spoken at once, though short
        {"text": "This part waits "},
        {"text": "for the end, ", "try_trigger_generation": True},  # under 50 characters: waits
        {"text": "and so does this."},
        {"text": ""},
    ]
    url = f"{live.url}/af_heart/stream-input?output_format=pcm_24000&model_id=eleven_flash_v2_5"
    async with websockets.connect(url, additional_headers={"xi-api-key": live.key}) as ws:
        answers = await converse(ws, messages)
        assert ws.close_code is None or ws.close_code == 1000
    assert answers[-1] == {"isFinal": True}
    audio = [a for a in answers if a.get("audio")]
    assert len(audio) >= 2
    first = audio[0]
    assert "".join(first["normalizedAlignment"]["chars"]) == "Hello there."
    assert "".join(first["alignment"]["chars"]) == "Hello there."
    starts, durations = first["alignment"]["charStartTimesMs"], first["alignment"]["charDurationsMs"]
    assert len(starts) == len(durations) == len("Hello there.") and starts == sorted(starts)
    pcm = b"".join(base64.b64decode(a["audio"]) for a in audio)
    assert len(pcm) / 2 / 24_000 > 2.0
    handle = live.client.get_workflow_handle(the_clip(live.user).workflow_id)
    await handle.result()
    clip = the_clip(live.user)
    text = "Hello there. This part waits for the end, and so does this."
    assert clip.text == text and clip.status.value == "succeeded" and clip.settings["session"] is True
    assert clip.settings["segments"] == 2 and ledger_of(clip.id) == [("reserve", -PRICE), ("charge", 0)]
    objects, store = ClipObjects.of(clip), get_store()
    samples, rate = decode(store.get_bytes(objects.audio(".mp3")))
    assert abs(len(samples) / rate - len(pcm) / 2 / 24_000) < 0.2  # the clip is what was streamed
    stamps = json.loads(store.get_bytes(objects.timing(".json")))
    assert "".join(stamps["alignment"]["characters"]) == text
    assert not store.exists(objects.stream_part(0))  # parts are gone once delivered


async def test_leaving_mid_stream_still_finishes_and_charges_once(live: Live) -> None:
    long = "One sentence to start with. " + "Then another sentence follows it, and then another. " * 4
    url = f"{live.url}/am_michael/stream-input"
    async with websockets.connect(url) as ws:
        answers = await converse(ws, [{"text": " ", "xi-api-key": live.key}, {"text": long, "flush": True}], 1)
    assert answers and answers[0]["audio"]
    # the connection is gone; the session finishes what it was sent, on its own
    clip = the_clip(live.user)
    await live.client.get_workflow_handle(clip.workflow_id).result()
    clip = the_clip(live.user)
    assert clip.status.value == "succeeded" and clip.text == long.strip()
    assert ledger_of(clip.id) == [("reserve", -PRICE), ("charge", 0)]
    assert clip.duration_seconds > 8


async def test_unflushed_text_is_spoken_when_the_client_leaves(live: Live) -> None:
    url = f"{live.url}/af_heart/stream-input"
    async with websockets.connect(url, additional_headers={"xi-api-key": live.key}) as ws:
        await ws.send(json.dumps({"text": " "}))
        await ws.send(json.dumps({"text": "Never flushed, but not lost. "}))
        await asyncio.sleep(0.5)  # then the client vanishes without {"text": ""}
    clip_id = None
    for _ in range(100):
        with session_scope() as s:
            clip_id = s.scalar(select(Clip.id).where(Clip.user_id == live.user.id))
        if clip_id:
            break
        await asyncio.sleep(0.05)
    # The clip's row is written just before its workflow starts: wait for the workflow too.
    handle = live.client.get_workflow_handle(f"clip-{clip_id}")
    for _ in range(100):
        try:
            await handle.describe()
            break
        except RPCError:
            await asyncio.sleep(0.05)
    await handle.result()
    clip = the_clip(live.user)
    assert clip.status.value == "succeeded" and clip.text == "Never flushed, but not lost."
    assert ledger_of(clip.id) == [("reserve", -PRICE), ("charge", 0)]


@pytest.mark.parametrize(
    "path, headers, messages, code, fragment",
    [
        ("af_heart/stream-input", {"xi-api-key": "sk_studio_nope"}, [{"text": " "}], 1008, "Invalid"),
        ("af_heart/stream-input", {}, [{"text": " "}], 1008, "Missing API key"),
        ("zz_nobody/stream-input", None, [{"text": " "}], 1008, "not found"),
        ("af_heart/stream-input", None, ["this is not json"], 1007, "must be JSON"),
        ("af_heart/stream-input?output_format=mp3_1_1", None, [{"text": " "}], 1008, "output_format"),
        ("af_heart/stream-input?model_id=gpt-9", None, [{"text": " "}], 1008, "model_id"),
        ("af_heart/stream-input", None, [{"text": " ", "voice_settings": {"speed": 9}}], 1008, "speed"),
        ("af_heart/stream-input", None, [{"text": " "}, {"nope": 1}], 1007, '"text"'),
    ],
)
async def test_bad_requests_get_a_message_and_a_close_code(
    live: Live, path: str, headers: dict | None, messages: list, code: int, fragment: str
) -> None:
    headers = {"xi-api-key": live.key} if headers is None else headers
    async with websockets.connect(f"{live.url}/{path}", additional_headers=headers) as ws:
        answers = await converse(ws, messages)
        assert ws.close_code == code, (ws.close_code, answers)
    assert fragment in answers[-1]["message"] and answers[-1]["code"] == code
    with session_scope() as s:  # nothing was admitted or charged
        assert not list(s.scalars(select(Clip).where(Clip.user_id == live.user.id)))
