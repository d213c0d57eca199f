"""TTS benchmark: real-time factor per voice, and end-to-end latency split by stage.

    .venv/bin/python -m bench.tts_bench            # both
    .venv/bin/python -m bench.tts_bench rtf        # RTF for every English voice
    .venv/bin/python -m bench.tts_bench e2e -n 10  # submit -> done through a fresh local stack

Prints figures; asserts nothing. The e2e run starts its own Temporal dev server, orchestration
worker and TTS worker (SQLite + local store in a temp dir), exactly as scripts/start does, and
reads each workflow's event history to split the latency. ``bench.orchestration_latency`` splits
the orchestration part further, and times the first streamed audio too.
"""

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SENTENCE = "The studio turns your words into speech in a moment, in any of its voices."
PARAGRAPH = (
    "Every clip you make is saved in your history, ready to replay or download. "
    "Long texts are split at sentence boundaries and joined with short pauses, so they sound natural."
)


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()} · {model or platform.processor()} · {cpus} CPUs"


def bench_rtf(voices: list[str] | None) -> None:
    from studio.voices import VOICES
    from workers.gpu_tts.engine import tts_engine

    engine = tts_engine()
    engine.synthesize(SENTENCE, "af_heart")  # warm-up
    print(f"\n## Real-time factor ({engine.device}, {machine()})\n")
    print("| voice | audio s | compute s | RTF | × real time |\n|---|---|---|---|---|")
    rtfs = []
    for vid in voices or list(VOICES):
        start = time.perf_counter()
        audio = engine.synthesize(PARAGRAPH, vid)
        compute = time.perf_counter() - start
        seconds = len(audio) / engine.sample_rate
        rtfs.append(compute / seconds)
        print(f"| {vid} | {seconds:.2f} | {compute:.2f} | {compute / seconds:.3f} | {seconds / compute:.1f} |")
    print(
        f"\nmedian RTF {statistics.median(rtfs):.3f} (min {min(rtfs):.3f}, max {max(rtfs):.3f}) over {len(rtfs)} voices"
    )


def _events_by_activity(history) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """scheduled/started/completed timestamps per activity type, from a workflow history."""
    from temporalio.api.enums.v1 import EventType

    by_id: dict[int, str] = {}
    times: dict[str, dict[str, float]] = {}
    for event in history.events:
        ts = event.event_time.ToDatetime().timestamp()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            by_id[event.event_id] = name
            times.setdefault(name, {})["scheduled"] = ts
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            times[by_id[event.activity_task_started_event_attributes.scheduled_event_id]]["started"] = ts
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            times[by_id[event.activity_task_completed_event_attributes.scheduled_event_id]]["completed"] = ts
    return times


async def _run_e2e(n: int, var: Path, env: dict[str, str]) -> list[dict[str, float]]:
    os.environ.update(env)
    from studio.db import session_scope
    from studio.migrate import upgrade
    from studio.models import Clip, ClipKind, ClipStatus, User, workflow_id_for
    from temporal import queues
    from temporal.client import connect
    from workflows.types import GenerateRequest

    upgrade()
    with session_scope() as s:
        user = User(email=f"bench-{uuid.uuid4().hex[:6]}@example.com", password_hash="-", credits=1_000_000)
        s.add(user)
    client = await connect()
    rows = []
    for i in range(n + 1):  # the first run warms the workers up and is not counted
        clip_id = uuid.uuid4()
        with session_scope() as s:
            s.add(Clip(id=clip_id, user_id=user.id, kind=ClipKind.TTS, text=SENTENCE, voice="af_heart",
                       settings={"speed": 1.0}, status=ClipStatus.QUEUED, cost=50,
                       workflow_id=workflow_id_for(clip_id)))  # fmt: skip
        req = GenerateRequest(str(clip_id), str(user.id), "tts", SENTENCE, "af_heart", {"speed": 1.0})
        submitted = time.time()
        handle = await client.start_workflow(
            "GenerateAudio", req, id=workflow_id_for(clip_id), task_queue=queues.ORCHESTRATION
        )
        await handle.result()
        done = time.time()
        acts = _events_by_activity(await handle.fetch_history())
        synth, upload = acts["synthesize_speech"], acts["upload_audio"]
        total = done - submitted
        row = {
            "total": total,
            "queue_wait": synth["started"] - synth["scheduled"],
            "inference": synth["completed"] - synth["started"],
            "upload": upload["completed"] - upload["scheduled"],
        }
        row["orchestration"] = total - row["queue_wait"] - row["inference"] - row["upload"]
        if i:
            rows.append(row)
    return rows


def bench_e2e(n: int) -> None:
    from temporal.dev_server import start_dev_server, wait_for_port

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        port, ui = 17233, 18233
        env = {
            "STUDIO_VAR_DIR": str(var),
            "STUDIO_TTS_MODELS_DIR": str(Path(__file__).resolve().parents[1] / "var" / "models"),
            "STUDIO_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
            "STUDIO_TTS_PUBLISH_PREVIEWS": "false",  # rendering 28 previews at start would compete for the CPU
        }
        temporal = start_dev_server(None, port=port, ui_port=ui)
        workers = [
            subprocess.Popen([sys.executable, "-m", mod], env=os.environ | env, stderr=subprocess.DEVNULL)
            for mod in ("activities.worker", "workers.gpu_tts.worker")
        ]
        try:
            wait_for_port("127.0.0.1", port)
            rows = asyncio.run(_run_e2e(n, var, env))
        finally:
            for p in [*workers, temporal]:
                p.terminate()
                p.wait(timeout=15)
    print(f"\n## End-to-end latency, one sentence, {n} sequential requests ({machine()})\n")
    print("| part | median ms | p90 ms |\n|---|---|---|")
    for key in ("total", "queue_wait", "inference", "upload", "orchestration"):
        values = sorted(r[key] * 1000 for r in rows)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"| {key} | {statistics.median(values):.0f} | {p90:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["rtf", "e2e", "all"], default="all")
    parser.add_argument("-n", type=int, default=10, help="requests for the e2e run")
    parser.add_argument("--voices", nargs="*", help="voices for the RTF run (default: all English)")
    args = parser.parse_args()
    if args.what in ("rtf", "all"):
        bench_rtf(args.voices)
    if args.what in ("e2e", "all"):
        bench_e2e(args.n)


if __name__ == "__main__":
    main()
