"""activities.inference helpers run directly: what a GPU activity spools, how it reports progress,
and how it refuses a bad request."""

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from temporalio.testing import ActivityEnvironment

from activities.inference import bad_input, heartbeating, report_progress, spool_audio
from studio.audio import decode, read_wav
from studio.storage import ClipObjects
from workflows.types import BAD_INPUT, Artifact, Progress

RATE = 24_000


def tone(seconds: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


async def test_spool_writes_the_wav_then_the_mp3_under_the_clips_keys(tmp_path: Path) -> None:
    objects = ClipObjects.for_kind("tts", str(uuid.uuid4()), {})
    samples = tone()
    artifacts = await ActivityEnvironment().run(spool_audio, tmp_path, objects, samples, RATE)
    assert artifacts == [
        Artifact(f"tts/{objects.clip_id}.wav", f"{objects.clip_id}.wav"),
        Artifact(f"tts/{objects.clip_id}.mp3", f"{objects.clip_id}.mp3"),
    ]
    assert [a.key for a in artifacts] == objects.all_keys()[:2]  # then the timestamps (the TTS activity's)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(a.filename for a in artifacts)  # no .partial left
    wav, rate = read_wav((tmp_path / artifacts[0].filename).read_bytes())
    assert rate == RATE and len(wav) == len(samples)
    assert np.max(np.abs(wav - samples)) < 1e-3  # 16-bit PCM of the same samples
    mp3, mp3_rate = decode((tmp_path / artifacts[1].filename).read_bytes())
    assert mp3_rate == RATE and abs(len(mp3) - len(samples)) < 0.1 * RATE  # an MP3 of the same half second
    assert 0.3 < float(np.sqrt(np.mean(mp3**2))) < 0.4  # the tone's RMS (0.354), not silence


async def test_each_variation_spools_under_its_own_keys(tmp_path: Path) -> None:
    objects = ClipObjects.for_kind("sound-effect", str(uuid.uuid4()), {"variations": 3})
    env = ActivityEnvironment()
    spooled = [
        await env.run(spool_audio, tmp_path, objects, tone(0.2, hz), RATE, v)
        for v, hz in [(1, 220), (2, 440), (3, 880)]
    ]
    keys = [a.key for artifacts in spooled for a in artifacts]
    assert keys == [objects.audio(ext, v) for v in (1, 2, 3) for ext in (".wav", ".mp3")]
    assert sorted(keys) == sorted(objects.all_keys())  # what a refund deletes covers every one of them
    assert spooled[1][0] == Artifact(f"{objects.prefix}/{objects.clip_id}-2.wav", f"{objects.clip_id}-2.wav")
    assert len({a.filename for artifacts in spooled for a in artifacts}) == 6  # none overwrites another
    first, _ = read_wav((tmp_path / spooled[0][0].filename).read_bytes())
    second, _ = read_wav((tmp_path / spooled[1][0].filename).read_bytes())
    assert not np.allclose(first, second)


async def test_spooling_again_replaces_the_file(tmp_path: Path) -> None:
    """A retried inference writes its audio again over what the failed attempt left."""
    objects = ClipObjects.for_kind("tts", str(uuid.uuid4()), {})
    env = ActivityEnvironment()
    await env.run(spool_audio, tmp_path, objects, tone(0.2), RATE)
    artifacts = await env.run(spool_audio, tmp_path, objects, tone(0.4), RATE)
    wav, _ = read_wav((tmp_path / artifacts[0].filename).read_bytes())
    assert len(wav) == int(0.4 * RATE) and len(list(tmp_path.iterdir())) == 2


def test_bad_input_is_a_non_retryable_bad_input() -> None:
    err = bad_input("Unknown voice 'zz'.")
    assert err.type == BAD_INPUT and err.non_retryable and err.message == "Unknown voice 'zz'."


async def test_progress_heartbeats_even_without_a_client() -> None:
    """ActivityEnvironment has no client, so the signal fails: the heartbeat still goes, nothing raises."""
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    await env.run(report_progress, 3, 10)
    await env.run(report_progress, 10, 10)
    assert beats == [(3, 10), (10, 10)]


class RecordingClient:
    """Just enough of temporalio.client.Client for report_progress's signal."""

    def __init__(self, fail: bool = False) -> None:
        self.fail, self.handles, self.signals = fail, [], []

    def get_workflow_handle(self, workflow_id: str, run_id: str | None = None) -> SimpleNamespace:
        self.handles.append((workflow_id, run_id))

        async def signal(name, arg) -> None:  # noqa: ANN001
            if self.fail:
                raise RuntimeError("workflow already closed")
            self.signals.append((getattr(name, "__name__", name), arg))

        return SimpleNamespace(signal=signal)


async def test_progress_is_signalled_to_the_activitys_own_workflow_run() -> None:
    client = RecordingClient()
    env = ActivityEnvironment(client=client)
    await env.run(report_progress, 4, 7)
    assert client.handles == [(env.info.workflow_id, env.info.workflow_run_id)]
    assert client.signals == [("report_progress", Progress(4, 7))]


async def test_a_failed_progress_signal_is_only_logged() -> None:
    client = RecordingClient(fail=True)
    env = ActivityEnvironment(client=client)
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    await env.run(report_progress, 1, 2)  # does not raise
    assert beats == [(1, 2)] and client.handles and client.signals == []


async def test_a_report_sent_soon_does_not_hold_the_work_and_stays_in_order() -> None:
    """``progress_soon`` lets the work start before the signal's round trip; a later report, and the
    end of ``heartbeating``, wait for it, so the workflow hears the reports in order."""
    client, order = RecordingClient(), []
    slow_signal = client.get_workflow_handle

    def handle(workflow_id: str, run_id: str | None = None) -> SimpleNamespace:
        inner = slow_signal(workflow_id, run_id)

        async def signal(name, arg) -> None:  # noqa: ANN001
            await asyncio.sleep(0.05)  # a round trip to the server
            await inner.signal(name, arg)

        return SimpleNamespace(signal=signal)

    client.get_workflow_handle = handle

    async def work() -> None:
        async with heartbeating() as beat:
            beat.progress_soon(0, 2, "first")
            order.append(("work started", list(client.signals)))
            await beat.progress(1, 2)
            beat.progress_soon(2, 2)

    await ActivityEnvironment(client=client).run(work)
    assert order == [("work started", [])]  # the work did not wait for the first report
    assert client.signals == [
        ("report_progress", Progress(0, 2, "first")), ("report_progress", Progress(1, 2)),
        ("report_progress", Progress(2, 2)),
    ]  # fmt: skip
