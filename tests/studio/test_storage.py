"""Object store: both backends store files and hand out links that expire."""

import time
import uuid
from pathlib import Path

import httpx
import pytest

from studio.settings import Settings
from studio.storage import LocalStore, S3Store
from tests.conftest import s3_env


def test_local_links_are_signed_and_expire(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects", secret="s3cret")
    src = tmp_path / "a.wav"
    src.write_bytes(b"RIFF....")
    store.put_file("tts/a.wav", src)
    assert store.exists("tts/a.wav") and store.get_bytes("tts/a.wav") == b"RIFF...."
    expires = int(time.time()) + 60
    sig = store.signature("tts/a.wav", expires, None)
    assert store.verify("tts/a.wav", expires, None, sig)
    assert not store.verify("tts/b.wav", expires, None, sig)  # signature bound to the key
    assert not store.verify("tts/a.wav", expires + 1, None, sig)  # and to the expiry
    past = int(time.time()) - 1
    assert not store.verify("tts/a.wav", past, None, store.signature("tts/a.wav", past, None))
    assert "/media/tts/a.wav?exp=" in store.link("tts/a.wav")


def test_local_store_refuses_keys_outside_its_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects", secret="x")
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


@pytest.fixture(scope="module")
def s3_store(seaweedfs: str) -> S3Store:
    settings = Settings(**{k.removeprefix("STUDIO_").lower(): v for k, v in s3_env(seaweedfs, "store-test").items()})
    store = S3Store(settings)
    store.ensure_ready()
    return store


def test_s3_put_and_presigned_get(s3_store: S3Store, tmp_path: Path) -> None:
    key = f"tts/{uuid.uuid4()}.wav"
    src = tmp_path / "x.wav"
    src.write_bytes(b"audio-bytes")
    assert not s3_store.exists(key)
    s3_store.put_file(key, src)
    assert s3_store.exists(key)
    resp = httpx.get(s3_store.link(key, download_name="clip.wav"))
    assert resp.status_code == 200 and resp.content == b"audio-bytes"
    assert resp.headers["content-disposition"] == 'attachment; filename="clip.wav"'


def test_s3_refuses_expired_and_tampered_links(s3_store: S3Store, tmp_path: Path) -> None:
    key = f"tts/{uuid.uuid4()}.wav"
    src = tmp_path / "x.wav"
    src.write_bytes(b"audio-bytes")
    s3_store.put_file(key, src)
    tampered = s3_store.link(key).replace(key, key.replace(".wav", ".mp3"))
    assert httpx.get(tampered).status_code == 403
    short = s3_store.link(key, ttl=4)  # X-Amz-Date has 1 s resolution: leave margin on a busy machine
    assert httpx.get(short).status_code == 200
    time.sleep(5.5)
    expired = httpx.get(short)
    assert expired.status_code == 403 and "expired" in expired.text.lower()


def test_deleting_a_sound_effect_removes_every_variation(tmp_path: Path) -> None:
    from studio.clips import delete_clip
    from studio.models import Clip, ClipKind
    from studio.storage import ClipObjects

    store = LocalStore(tmp_path / "objects", secret="s3cret")
    objects = ClipObjects("sfx", "c", variations=3)
    keys = [objects.audio(ext, v) for v in (1, 2, 3) for ext in (".wav", ".mp3")]
    assert keys[:4] == ["sfx/c.wav", "sfx/c.mp3", "sfx/c-2.wav", "sfx/c-2.mp3"]
    assert objects.download_name(".mp3", 2) == "studio-c-2.mp3"
    for key in [*keys, "sfx/other.wav"]:
        store.put_bytes(key, b"RIFF")
    clip = Clip(id="c", kind=ClipKind.SOUND_EFFECT, object_key="sfx/c.wav", settings={"variations": 3})
    deleted = []

    class Session:  # records the row deletion; the objects are what this test is about
        def delete(self, row: Clip) -> None:
            deleted.append(row)

    delete_clip(Session(), clip, store)
    assert deleted == [clip]
    assert not any(store.exists(k) for k in keys) and store.exists("sfx/other.wav")


@pytest.mark.parametrize(
    ("kind", "settings", "expected"),
    [
        ("tts", {"speed": 1.0}, ["tts/{id}.wav", "tts/{id}.mp3", "tts/{id}.json", "tts/{id}.srt", "tts/{id}.vtt"]),
        ("voice-conversion", {"source_key": "uploads/{id}.ogg"}, ["vc/{id}.wav", "vc/{id}.mp3", "uploads/{id}.ogg"]),
        ("sound-effect", {"variations": 2}, ["sfx/{id}.wav", "sfx/{id}.mp3", "sfx/{id}-2.wav", "sfx/{id}-2.mp3"]),
    ],
)
def test_clip_objects_are_found_without_a_committed_key(
    tmp_path: Path, kind: str, settings: dict, expected: list[str]
) -> None:
    """A clip cancelled during its upload has no object_key, yet what was uploaded is found and deleted."""
    from studio.models import Clip, ClipKind
    from studio.storage import ClipObjects, delete_clip_objects

    clip_id = uuid.uuid4()
    settings = {k: v.format(id=clip_id) if isinstance(v, str) else v for k, v in settings.items()}
    clip = Clip(id=clip_id, kind=ClipKind(kind), object_key=None, settings=settings)
    keys = [k.format(id=clip_id) for k in expected]
    objects = ClipObjects.of(clip)
    assert objects.all_keys() == keys
    assert "uploads" not in " ".join(objects.all_keys(include_source=False))
    store = LocalStore(tmp_path / "objects", secret="s3cret")
    parts = [objects.stream_part(i) for i in range(3)]
    for key in [*keys, *parts, "tts/other.wav", f"tts/{uuid.uuid4()}/part-0000.wav"]:
        store.put_bytes(key, b"RIFF")
    delete_clip_objects(clip, store, include_source=False)
    delete_clip_objects(clip, store, include_source=False)  # idempotent
    assert [k for k in keys if store.exists(k)] == [k for k in keys if k.startswith("uploads/")]
    if kind == "tts":
        assert not any(store.exists(p) for p in parts)
    delete_clip_objects(clip, store)
    assert not any(store.exists(k) for k in keys) and store.exists("tts/other.wav")


def test_s3_delete_clip_objects_removes_streamed_parts(s3_store: S3Store) -> None:
    from studio.models import Clip, ClipKind
    from studio.storage import ClipObjects, delete_clip_objects

    clip = Clip(id=uuid.uuid4(), kind=ClipKind.TTS, object_key=None, settings={"stream": True})
    parts = [ClipObjects.of(clip).stream_part(i) for i in range(3)]
    keys = [f"tts/{clip.id}.wav", f"tts/{clip.id}.mp3", *parts]
    for key in [*keys, "tts/keep-me.wav"]:
        s3_store.put_bytes(key, b"RIFF")
    delete_clip_objects(clip, s3_store)
    delete_clip_objects(clip, s3_store)
    assert not any(s3_store.exists(k) for k in keys) and s3_store.exists("tts/keep-me.wav")
