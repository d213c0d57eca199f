"""The voice-conversion worker end to end on the GPU machine, as the studio runs it.

    python bench/device/vc_worker_e2e.py var/bench/vc_source.wav [--clips 4]

Starts the Temporal dev server, migrates a fresh SQLite database, starts the orchestration
worker (``activities.worker``) and the gpu-vc worker (``workers.gpu_vc.worker``, CUDA), then
submits recordings through the site's own ``start_voice_conversion`` and waits for each
``GenerateAudio`` workflow. Checks that every clip succeeded, its audio is in the store and the
user was charged exactly once per clip; prints latencies (submit -> workflow result) and the
convert_voice activity's time from the workflow history. Asserts what it checks; the timings are
figures only.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from api.generation import start_voice_conversion
from studio.db import session_scope
from studio.migrate import upgrade
from studio.models import Clip, ClipStatus, User
from studio.settings import get_settings
from studio.storage import get_store
from temporal.client import connect
from temporal.dev_server import start_dev_server

CREDITS = 10_000


async def activity_seconds(client, workflow_id: str, name: str) -> float:  # noqa: ANN001
    """Started -> completed time of the named activity, from the workflow's history."""
    started, scheduled_name = {}, {}
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled_name[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            started[attrs.scheduled_event_id] = event.event_time.ToDatetime()
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs = event.activity_task_completed_event_attributes
            if scheduled_name.get(attrs.scheduled_event_id) == name:
                return (event.event_time.ToDatetime() - started[attrs.scheduled_event_id]).total_seconds()
    raise LookupError(name)


async def submit_and_wait(client, user_id: uuid.UUID, data: bytes, voice: str) -> tuple[str, float]:  # noqa: ANN001
    start = time.perf_counter()
    with session_scope() as db:
        user = db.get(User, user_id)
        clip = await start_voice_conversion(db, client, user, data, "source.wav", voice, 0.0, None)
        workflow_id = clip.workflow_id
    await client.get_workflow_handle(workflow_id).result()
    return workflow_id, time.perf_counter() - start


async def run(source: Path, clips: int) -> None:
    settings = get_settings()
    client = await connect()
    with session_scope() as db:
        user = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password_hash="-", credits=CREDITS)
        db.add(user)
        db.flush()
        user_id = user.id
    data = source.read_bytes()
    voices = ["af_heart", "bm_george", "bf_emma", "am_adam"]
    first = await submit_and_wait(client, user_id, data, voices[0])  # warm-up: kernels, encoder
    batch = await asyncio.gather(*(submit_and_wait(client, user_id, data, voices[i % 4]) for i in range(clips)))
    store = get_store()
    with session_scope() as db:
        rows = db.scalars(select(Clip).where(Clip.user_id == user_id)).all()
        balance = db.get(User, user_id).credits
    assert len(rows) == clips + 1 and all(r.status == ClipStatus.SUCCEEDED for r in rows), [r.status for r in rows]
    assert all(store.exists(r.object_key) for r in rows)
    assert balance == CREDITS - sum(r.cost for r in rows), balance
    print(f"{len(rows)} clips succeeded, audio stored, charged {CREDITS - balance} credits for {len(rows)} clips")
    print(f"source {rows[0].duration_seconds:.1f} s; device {settings.vc_device}")
    for label, results in (("first (cold)", [first]), (f"{clips} at once", batch)):
        converts = [await activity_seconds(client, wf, "convert_voice") for wf, _ in results]
        latencies = [seconds for _, seconds in results]
        print(f"{label}: submit -> result {min(latencies):.2f}-{max(latencies):.2f} s, "
              f"convert_voice activity {min(converts):.2f}-{max(converts):.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("STUDIO_VC_DEVICE", "cuda")
    os.environ.setdefault("STUDIO_RATE_LIMIT_PER_MINUTE", "100")  # one bench user submits them all
    temporal = start_dev_server(None)
    children = [temporal]
    try:
        upgrade()
        for module in ("activities.worker", "workers.gpu_vc.worker"):
            children.append(subprocess.Popen([sys.executable, "-m", module]))
        asyncio.run(run(args.source, args.clips))
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            child.wait(timeout=15)


if __name__ == "__main__":
    main()
