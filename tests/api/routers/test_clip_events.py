"""The live card: a clip's progress, streamed parts and finished card pushed as server-sent events."""

import asyncio
import json

import httpx
import numpy as np
from sqlalchemy import update

from api.clip_events import SITE_STREAM, _part_frames, event
from studio.audio import read_wav, to_wav
from studio.db import session_scope
from studio.models import Clip, ClipStatus
from studio.storage import PART_SAMPLES, ClipObjects, get_store
from tests.api.routers.test_clips import add_clips, user_by_email_fragment
from tests.site import sign_up

RATE = 24_000


def parse_events(body: str) -> list[tuple[str, str]]:
    events = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((name, data))
    return events


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_an_event_carries_multi_line_data_line_by_line() -> None:
    assert event("done", "<a>\n</a>") == "event: done\ndata: <a>\ndata: </a>\n\n"


def test_a_parts_length_comes_from_its_timestamps_document(studio_env: None) -> None:
    """The worker writes each part's sample count beside its timestamps: the events need not fetch the
    audio to place it (an older worker's part, without the count, is still counted from its audio)."""
    store = get_store()
    objects = ClipObjects.for_kind("tts", "0f0e0d0c-0000-4000-8000-000000000001", {})
    assert _part_frames(objects, 0) is None  # not there yet
    document = {"normalized_alignment": {}, PART_SAMPLES: 4321}
    store.put_bytes(objects.stream_part(0, ".json"), json.dumps(document).encode())
    store.put_bytes(objects.stream_part(0), to_wav(tone(0.1, 440), RATE))
    assert _part_frames(objects, 0) == 4321  # the document's count: the audio was not read
    store.put_bytes(objects.stream_part(1), to_wav(tone(0.1, 440), RATE))
    assert _part_frames(objects, 1) == int(0.1 * RATE)


async def test_parts_are_pushed_as_they_land_then_the_finished_card(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1, status=ClipStatus.RUNNING)[0]
    with session_scope() as s:
        s.execute(update(Clip).where(Clip.id == clip.id).values(settings={"speed": 1.0, "stream": SITE_STREAM}))
    objects = ClipObjects.of(clip)
    store = get_store()
    parts = [tone(0.5, 220), tone(0.75, 330)]
    store.put_bytes(objects.stream_part(0), to_wav(parts[0], RATE))

    async def the_worker_finishes() -> None:
        await asyncio.sleep(0.4)
        store.put_bytes(objects.stream_part(1), to_wav(parts[1], RATE))
        await asyncio.sleep(0.4)
        store.put_bytes(objects.audio(".wav"), to_wav(np.concatenate(parts), RATE))
        with session_scope() as s:
            s.execute(update(Clip).where(Clip.id == clip.id).values(status=ClipStatus.SUCCEEDED))

    worker = asyncio.create_task(the_worker_finishes())
    resp = await site.get(f"/clips/{clip.id}/events")
    await worker
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    events = parse_events(resp.text)
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1 and "progress" in names
    pushed = [json.loads(data) for name, data in events if name == "part"]
    assert [(p["index"], p["start"], p["end"]) for p in pushed] == [(0, 0, 12_000), (1, 12_000, 30_000)]
    card = events[-1][1]
    assert f'id="clip-{clip.id}"' in card and "<audio" in card and "data-events" not in card
    assert not store.exists(objects.stream_part(0))  # the finished clip's parts are cleared...
    late = await site.get(pushed[1]["url"])  # ...and a part asked for late is cut from the finished audio
    assert late.status_code == 200 and late.headers["content-type"] == "audio/wav"
    samples, rate = read_wav(late.content)
    assert rate == RATE and len(samples) == len(parts[1])
    assert np.abs(samples - parts[1]).max() < 1e-3


async def test_a_part_is_served_while_the_clip_is_made_and_only_to_its_owner(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1, status=ClipStatus.RUNNING)[0]
    part = tone(0.3, 440)
    get_store().put_bytes(ClipObjects.of(clip).stream_part(0), to_wav(part, RATE))
    resp = await site.get(f"/clips/{clip.id}/parts/0")
    assert resp.status_code == 200 and len(read_wav(resp.content)[0]) == len(part)
    assert (await site.get(f"/clips/{clip.id}/parts/1")).status_code == 404  # not made yet
    assert (await site.get(f"/clips/{clip.id}/parts/-1")).status_code == 422
    site.cookies.clear()
    await sign_up(site)
    assert (await site.get(f"/clips/{clip.id}/parts/0")).status_code == 404
    assert (await site.get(f"/clips/{clip.id}/events")).status_code == 404


async def test_a_finished_clip_answers_with_its_card_at_once(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1, status=ClipStatus.FAILED)[0]
    events = parse_events((await site.get(f"/clips/{clip.id}/events")).text)
    assert [name for name, _ in events] == ["done"] and "credits were refunded" in events[0][1]


async def test_an_api_streams_parts_are_left_to_the_api(site: httpx.AsyncClient) -> None:
    """The owner's page may watch an API caller's streamed clip; the API stream clears its parts."""
    await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    clip = add_clips(user, 1)[0]
    with session_scope() as s:
        s.execute(update(Clip).where(Clip.id == clip.id).values(settings={"speed": 1.0, "stream": True}))
    part = ClipObjects.of(clip).stream_part(0)
    get_store().put_bytes(part, to_wav(tone(0.3, 440), RATE))
    events = parse_events((await site.get(f"/clips/{clip.id}/events")).text)
    assert [name for name, _ in events][-1] == "done" and get_store().exists(part)
