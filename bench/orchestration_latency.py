"""Orchestration latency of a one-sentence TTS request: submit -> first audio and submit -> done, by stage.

    .venv/bin/python -m bench.orchestration_latency -n 20

Starts a fresh local stack as scripts/start does (Temporal dev server in memory, orchestration
worker, TTS worker; SQLite and the local store in a temp dir), then sends ``n`` streamed and ``n``
plain requests, alternating, after one warm-up of each. Each workflow is started the way the site
starts it (``api.generation._start_workflow``), so whatever the site does to start a workflow
quickly is what is measured. Prints figures; asserts nothing.

Where the time goes is read from each workflow's history (server clock) and the first streamed
part's file time in the local store (same machine, same clock):

- start: submit -> WorkflowExecutionStarted (the start RPC);
- reserve, commit: the database activities, scheduled -> completed (a local activity: scheduled ->
  the workflow task that ran it completed);
- queue wait, inference, upload: the GPU worker's activities;
- first chunk: inference started -> the first part is in the store (streamed requests);
- workflow tasks: the rest of the time between the workflow's start and its end (or the first
  part): dispatching and running workflow tasks;
- result: WorkflowExecutionCompleted -> the caller has the result.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

from bench.tts_bench import SENTENCE, machine

ROOT = Path(__file__).resolve().parents[1]
LOCAL_ACTIVITY_MARKER = "core_local_activity"
DONE_STAGES = ("start", "reserve", "queue wait", "inference", "upload", "commit", "workflow tasks", "result")
FIRST_AUDIO_STAGES = ("start", "reserve", "queue wait", "first chunk", "workflow tasks")


def _ts(value: dict) -> float:
    """Seconds since the epoch from a Timestamp in a local activity marker's JSON."""
    return int(value.get("seconds", 0)) + int(value.get("nanos", 0)) / 1e9


def spans(history) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """scheduled/started/completed times per activity type (regular or local), and the workflow's
    started/completed times, from a workflow history."""
    from temporalio.api.enums.v1 import EventType

    by_id: dict[int, str] = {}
    task_completed: dict[int, float] = {}
    times: dict[str, dict[str, float]] = {"workflow": {}}
    for event in history.events:
        ts = event.event_time.ToDatetime().timestamp()
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            times["workflow"]["started"] = ts
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            times["workflow"]["completed"] = ts
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            by_id[event.event_id] = name
            times.setdefault(name, {})["scheduled"] = ts
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            times[by_id[event.activity_task_started_event_attributes.scheduled_event_id]]["started"] = ts
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            times[by_id[event.activity_task_completed_event_attributes.scheduled_event_id]]["completed"] = ts
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            attrs = event.marker_recorded_event_attributes
            if attrs.marker_name == LOCAL_ACTIVITY_MARKER:
                # The marker's own complete_time is workflow time (its task's start), so the end of a
                # local activity is taken as the end of the workflow task that recorded it.
                data = json.loads(attrs.details["data"].payloads[0].data)
                times[data["activity_type"]] = {
                    "scheduled": _ts(data["original_schedule_time"]),
                    "completed": task_completed[attrs.workflow_task_completed_event_id],
                }
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task_completed[event.event_id] = ts
    return times


def _span(times: dict[str, dict[str, float]], name: str, start: str = "scheduled", end: str = "completed") -> float:
    return times[name][end] - times[name][start] if name in times else 0.0


def split_done(times: dict[str, dict[str, float]], submitted: float, done: float) -> dict[str, float]:
    """submit -> result, by stage (see the module's docstring)."""
    wf, synth = times["workflow"], times["synthesize_speech"]
    row = {
        "total": done - submitted,
        "start": wf["started"] - submitted,
        "reserve": _span(times, "reserve_credits"),
        "queue wait": synth["started"] - synth["scheduled"],
        "inference": synth["completed"] - synth["started"],
        "upload": _span(times, "upload_audio"),
        "commit": _span(times, "commit_clip"),
        "result": done - wf["completed"],
    }
    busy = sum(row[k] for k in ("reserve", "queue wait", "inference", "upload", "commit"))
    row["workflow tasks"] = wf["completed"] - wf["started"] - busy
    row["orchestration"] = row["total"] - row["queue wait"] - row["inference"] - row["upload"]
    return row


def split_first_audio(times: dict[str, dict[str, float]], submitted: float, first_part: float) -> dict[str, float]:
    """submit -> the first streamed part is in the store, by stage."""
    wf, synth = times["workflow"], times["synthesize_speech"]
    row = {
        "total": first_part - submitted,
        "start": wf["started"] - submitted,
        "reserve": _span(times, "reserve_credits"),
        "queue wait": synth["started"] - synth["scheduled"],
        "first chunk": first_part - synth["started"],
    }
    row["workflow tasks"] = synth["scheduled"] - wf["started"] - row["reserve"]
    row["orchestration"] = row["total"] - row["queue wait"] - row["first chunk"]
    return row


def site_worker(client) -> AbstractAsyncContextManager:  # noqa: ANN001
    """What the site runs beside its client, if anything (so the bench starts workflows as it does)."""
    try:
        from api.main import site_temporal_worker  # an in-process orchestration worker, where there is one
    except ImportError:
        return nullcontext()
    return site_temporal_worker(client)


async def _requests(n: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    from api.generation import _start_workflow
    from studio.db import session_scope
    from studio.migrate import upgrade
    from studio.models import Clip, ClipKind, ClipStatus, User, workflow_id_for
    from studio.storage import ClipObjects, get_store
    from temporal.client import connect

    upgrade()
    with session_scope() as s:
        user = User(email=f"bench-{uuid.uuid4().hex[:6]}@example.com", password_hash="-", credits=1_000_000)
        s.add(user)
    store = get_store()
    client = await connect()
    firsts, dones = [], []
    async with site_worker(client):
        for i in range(2 * (n + 1)):  # streamed and plain in turn; the first of each warms up
            streamed = i % 2 == 0
            clip_id = uuid.uuid4()
            settings = {"speed": 1.0} | ({"stream": True} if streamed else {})
            with session_scope() as s:
                clip = Clip(
                    id=clip_id, user_id=user.id, kind=ClipKind.TTS, text=SENTENCE, voice="af_heart", settings=settings,
                    status=ClipStatus.QUEUED, cost=50, workflow_id=workflow_id_for(clip_id),
                )  # fmt: skip
                s.add(clip)
                s.flush()
                s.expunge(clip)
            submitted = time.time()
            await _start_workflow(client, clip)
            handle = client.get_workflow_handle(clip.workflow_id)
            await handle.result()
            done = time.time()
            times = spans(await handle.fetch_history())
            if i < 2:
                continue
            dones.append(split_done(times, submitted, done))
            if streamed:
                part = store.path(ClipObjects.of(clip).stream_part(0))
                firsts.append(split_first_audio(times, submitted, part.stat().st_mtime))
    return firsts, dones


def run_stack(n: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The stack in a temp dir; the workers' logs go there too (printed if the run fails)."""
    from temporal.dev_server import start_dev_server, wait_for_port

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        port = 17233
        env = {
            "STUDIO_VAR_DIR": str(var),
            "STUDIO_TTS_MODELS_DIR": os.environ.get("STUDIO_TTS_MODELS_DIR", str(ROOT / "var" / "models")),
            "STUDIO_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
            "STUDIO_TTS_PUBLISH_PREVIEWS": "false",  # rendering 28 previews at start would compete for the CPU
        }
        os.environ.update(env)
        temporal = start_dev_server(None, port=port, ui_port=18233)
        log = (var / "workers.log").open("wb")
        workers = [
            subprocess.Popen([sys.executable, "-m", mod], env=os.environ | env, stdout=log, stderr=subprocess.STDOUT)
            for mod in ("activities.worker", "workers.gpu_tts.worker")
        ]
        try:
            wait_for_port("127.0.0.1", port)
            return asyncio.run(asyncio.wait_for(_requests(n), timeout=120 + 60 * n))
        except BaseException:
            log.flush()
            sys.stderr.write((var / "workers.log").read_text(errors="replace")[-5000:])
            raise
        finally:
            for p in [*workers, temporal]:
                p.terminate()
            for p in [*workers, temporal]:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def table(title: str, rows: list[dict[str, float]], stages: tuple[str, ...]) -> str:
    def stat(key: str, fn: Callable[[list[float]], float]) -> str:
        return f"{fn(sorted(r[key] * 1000 for r in rows)):.0f}"

    def p90(values: list[float]) -> float:
        return values[min(len(values) - 1, int(0.9 * len(values)))]

    lines = [f"\n### {title} ({len(rows)} requests)\n", "| stage | median ms | p90 ms |", "|---|---|---|"]
    for key in ("total", *stages, "orchestration"):
        lines.append(f"| {key} | {stat(key, statistics.median)} | {stat(key, p90)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="streamed and plain requests each (after a warm-up)")
    parser.add_argument("--raw", type=Path, help="also write every request's split here (JSON)")
    args = parser.parse_args()
    firsts, dones = run_stack(args.n)
    print(f"\n## Orchestration latency, one sentence ({machine()})")
    print(table("submit -> first audio (streamed requests)", firsts, FIRST_AUDIO_STAGES))
    print(table("submit -> done (streamed and plain requests)", dones, DONE_STAGES))
    print(
        "\norchestration = total - queue wait - inference - upload (done), "
        "total - queue wait - first chunk (first audio)"
    )
    if args.raw:
        args.raw.write_text(json.dumps({"first_audio": firsts, "done": dones}, indent=1))


if __name__ == "__main__":
    main()
