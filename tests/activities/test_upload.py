"""activities.upload run directly: the spooled files reach the store once, a re-run after a
successful put succeeds, and audio that is nowhere is reported as lost (the workflow then
synthesises again rather than retrying the upload)."""

import os
import time
import uuid
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.upload import ORPHAN_AGE_SECONDS, UploadActivities, clean_spool
from studio.storage import ClipObjects, LocalStore
from workflows.generate_audio import UPLOAD_RETRY
from workflows.types import ARTIFACT_LOST, Artifact, UploadRequest


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    path = tmp_path / "spool"
    path.mkdir()
    return path


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects", "test-secret")


def spooled(spool: Path, variations: int = 1) -> UploadRequest:
    """A clip's WAV and MP3 (per variation) in the spool, as an inference activity leaves them."""
    objects = ClipObjects.for_kind("sound-effect", str(uuid.uuid4()), {"variations": variations})
    artifacts = []
    for v in range(1, variations + 1):
        for ext in (".wav", ".mp3"):
            key = objects.audio(ext, v)
            artifact = Artifact(key=key, filename=key.rsplit("/", 1)[-1])
            (spool / artifact.filename).write_bytes(f"audio of {key}".encode())
            artifacts.append(artifact)
    return UploadRequest(objects.clip_id, artifacts)


def make_old(path: Path, age: float = ORPHAN_AGE_SECONDS + 60) -> None:
    past = time.time() - age
    os.utime(path, (past, past))


def test_upload_puts_every_spooled_file_then_empties_the_spool(spool: Path, store: LocalStore) -> None:
    req = spooled(spool, variations=2)
    ActivityEnvironment().run(UploadActivities(store, spool).upload_audio, req)
    assert [store.get_bytes(a.key) for a in req.artifacts] == [f"audio of {a.key}".encode() for a in req.artifacts]
    assert list(spool.iterdir()) == []


def test_a_re_run_after_a_successful_put_succeeds_and_changes_nothing(spool: Path, store: LocalStore) -> None:
    """The worker died after the put and the spool clean-up, before reporting success."""
    req = spooled(spool)
    upload = UploadActivities(store, spool).upload_audio
    ActivityEnvironment().run(upload, req)
    stored = {a.key: store.path(a.key).stat().st_mtime_ns for a in req.artifacts}
    ActivityEnvironment().run(upload, req)
    assert {a.key: store.path(a.key).stat().st_mtime_ns for a in req.artifacts} == stored  # not written again
    assert all(store.get_bytes(a.key) == f"audio of {a.key}".encode() for a in req.artifacts)


def test_a_re_run_after_a_partial_upload_puts_the_rest(spool: Path, store: LocalStore) -> None:
    req = spooled(spool)
    wav, mp3 = req.artifacts
    store.put_file(wav.key, spool / wav.filename)  # the first attempt stored the WAV ...
    (spool / wav.filename).unlink()  # ... and its file is gone, the MP3's still spooled
    ActivityEnvironment().run(UploadActivities(store, spool).upload_audio, req)
    assert store.get_bytes(mp3.key) == f"audio of {mp3.key}".encode() and store.exists(wav.key)
    assert list(spool.iterdir()) == []


def test_audio_neither_spooled_nor_stored_is_lost_for_good(spool: Path, store: LocalStore) -> None:
    req = spooled(spool)
    wav, mp3 = req.artifacts
    (spool / mp3.filename).unlink()  # e.g. a wiped spool, and no earlier attempt stored it
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(UploadActivities(store, spool).upload_audio, req)
    assert err.value.type == ARTIFACT_LOST and err.value.non_retryable and req.clip_id in str(err.value)
    # Not retried: the workflow's upload policy stops on it (and synthesises again).
    assert ARTIFACT_LOST in UPLOAD_RETRY.non_retryable_error_types
    # Nothing is removed from the spool until every file is stored.
    assert (spool / wav.filename).exists()


def test_a_starting_worker_removes_only_old_orphans(spool: Path, store: LocalStore) -> None:
    old, partial, fresh = spool / "old.wav", spool / "old.mp3.partial", spool / "fresh.wav"
    folder = spool / "folder"
    folder.mkdir()
    for path in (old, partial, fresh, folder / "inside.wav"):
        path.write_bytes(b"x")
    for path in (old, partial, folder, folder / "inside.wav"):
        make_old(path)
    near = spool / "near.wav"  # just under the age limit: a run may still upload it
    near.write_bytes(b"x")
    make_old(near, ORPHAN_AGE_SECONDS - 60)
    UploadActivities(store, spool)  # what a GPU worker builds when it starts
    assert sorted(p.name for p in spool.iterdir()) == ["folder", "fresh.wav", "near.wav"]
    assert (folder / "inside.wav").exists()  # only the spool's own files, never a folder's
    assert clean_spool(spool, max_age=0) == 2  # a shorter limit: fresh.wav and near.wav go too
    assert clean_spool(spool / "missing") == 0
