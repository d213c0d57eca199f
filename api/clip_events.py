"""A clip's live card, pushed to the page as server-sent events while the clip is made.

Why push: a polled card asks every second and shows nothing in between; a pushed one moves as
soon as the workflow does, and a speech clip's page can play each streamed part (the TTS worker
publishes them to the store, ``studio.storage.ClipObjects.stream_part``) the moment it lands,
so the first words are heard while the rest is rendered. Events (``api/static/live.js`` reads them):

- ``progress``: ``{"stage", "progress", "detail"}`` whenever the workflow's status changes;
- ``part``: ``{"index", "url", "start", "end"}`` (sample offsets into the clip) as each part lands;
- ``done``: the finished card's HTML; the stream then ends.

Parts concatenate to exactly the finished audio, so once a site clip (``SITE_STREAM``) is done its
parts are deleted and a part asked for late is cut from the finished WAV (``part_audio``). An API
caller's streamed clip may show on the page too; its parts are the API stream's to clear.
"""

import asyncio
import io
import json
import wave
from collections.abc import AsyncIterator, Awaitable, Callable

from studio.audio import read_wav, to_wav
from studio.models import Clip, ClipStatus
from studio.storage import PART_SAMPLES, ClipObjects, get_store

SITE_STREAM = "site"  # settings["stream"] of a clip the site plays as it is made (the API's are True)
PART_POLL_SECONDS = 0.025  # the store is asked this often for the next part (cheap: one stat or HEAD)
STATUS_EVERY = 10  # ... and the workflow for its status every this many part polls (~4x a second)
KEEPALIVE_SECONDS = 15.0  # a comment line now and then, so proxies keep an idle stream open


def event(name: str, data: str) -> str:
    """One server-sent event; each line of ``data`` gets its own ``data:`` field."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {name}\n{lines}\n"


def _part_frames(objects: ClipObjects, index: int) -> int | None:
    """How many samples part ``index`` holds, or None while it is not there (blocking). The count is
    in the part's timestamps document (``PART_SAMPLES``, written before the audio); only a part
    without it (an older worker's) is fetched to be counted."""
    store = get_store()
    if not store.exists(objects.stream_part(index)):
        return None
    try:
        return int(json.loads(store.get_bytes(objects.stream_part(index, ".json")))[PART_SAMPLES])
    except Exception:  # noqa: BLE001 - no document (each backend says so its own way), or no count in it
        pass
    with wave.open(io.BytesIO(store.get_bytes(objects.stream_part(index)))) as wav:
        return wav.getnframes()


# stage, progress, detail, and the clip's row once it is finished (None while it is being made)
LiveStatus = tuple[str, float, str, Clip | None]


async def clip_events(
    clip: Clip,
    live_status: Callable[[Clip], Awaitable[LiveStatus]],
    finished_card: Callable[[Clip], str],
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """The event stream of one clip (see the module docstring) until it is finished or the page
    goes away. ``live_status`` asks the workflow (or the database) and hands over the finished row;
    ``finished_card`` renders the final card."""
    objects = ClipObjects.of(clip)
    streamed = bool((clip.settings or {}).get("stream"))
    index = start = polls = 0
    last: tuple | None = None
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    # The status is asked beside the part polls, not between them: a slow answer (a query while the
    # worker has the CPU) never holds back a part that has landed.
    status: asyncio.Task[LiveStatus] | None = None
    try:
        while not await disconnected():
            frames = await asyncio.to_thread(_part_frames, objects, index) if streamed else None
            if frames is not None:
                url = f"/clips/{clip.id}/parts/{index}?start={start}&end={start + frames}"
                yield event("part", json.dumps({"index": index, "url": url, "start": start, "end": start + frames}))
                index, start, quiet_since = index + 1, start + frames, loop.time()
                continue
            if status is None and polls % STATUS_EVERY == 0:
                status = asyncio.create_task(live_status(clip))
            if status is not None and status.done():
                stage, progress, detail, finished = status.result()
                status = None
                if finished is not None:
                    if streamed and finished.status == ClipStatus.SUCCEEDED:
                        if await asyncio.to_thread(_part_frames, objects, index) is not None:
                            polls = 0
                            continue  # the last part landed between our two looks
                    yield event("done", finished_card(finished))
                    if (clip.settings or {}).get("stream") == SITE_STREAM:
                        await asyncio.to_thread(get_store().delete_prefix, objects.stream_prefix)
                    return
                if (stage, progress, detail) != last:
                    last = (stage, progress, detail)
                    yield event("progress", json.dumps({"stage": stage, "progress": progress, "detail": detail}))
                    quiet_since = loop.time()
            if loop.time() - quiet_since > KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                quiet_since = loop.time()
            polls += 1
            await asyncio.sleep(PART_POLL_SECONDS)
    finally:
        if status is not None:
            status.cancel()


def part_audio(clip: Clip, index: int, start: int, end: int) -> bytes | None:
    """A streamed part's WAV: while the clip is being made, the part itself; once it is done (its
    parts may be cleared at any moment), samples [start, end) of the finished audio; None if there
    is no such audio (blocking)."""
    store = get_store()
    objects = ClipObjects.of(clip)
    if clip.status == ClipStatus.SUCCEEDED and clip.object_key:
        if not 0 <= start < end:
            return None
        samples, rate = read_wav(store.get_bytes(objects.audio(".wav")))
        return to_wav(samples[start:end], rate) if start < len(samples) else None
    key = objects.stream_part(index)
    return store.get_bytes(key) if not clip.status.finished and store.exists(key) else None
