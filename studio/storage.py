"""Object store: one interface, a local-disk backend and an S3 backend (boto3).

Audio never travels through Temporal payloads; workers ``put`` files here and the site hands
out expiring links: HMAC-signed URLs served by the app for ``local``, presigned GETs for ``s3``.
"""

import hashlib
import hmac
import shutil
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from studio.kinds import KINDS, ClipKind, variations
from studio.settings import Settings, get_settings

CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".json": "application/json",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
}


def content_type_for(key: str) -> str:
    return CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")


AUDIO_EXTENSIONS = (".wav", ".mp3")  # the WAV master first, then the MP3 for download
# A speech clip's timestamps: ElevenLabs-style character alignments and word times (JSON), and captions.
TIMING_EXTENSIONS = (".json", ".srt", ".vtt")
UPLOADS_PREFIX = "uploads"
PREVIEWS_PREFIX = "previews"


def stock_preview_key(voice_id: str, extension: str = ".mp3") -> str:
    """A stock voice's preview (``studio.voices.PREVIEW_TEXT``), rendered once by the TTS worker."""
    return f"{PREVIEWS_PREFIX}/{voice_id}{extension}"


# A streamed part's timestamps document (``ClipObjects.stream_part(i, ".json")``) also says how many
# samples the part's audio holds, so a reader can place the part without fetching it.
PART_SAMPLES = "samples"


@dataclass(frozen=True)
class ClipObjects:
    """Where one clip's objects live in the store: the only place that spells out a key.

    - audio: ``<prefix>/<clip id>.wav`` and ``.mp3``; a sound effect's variation k (k >= 2) is
      ``<prefix>/<clip id>-k.wav``;
    - streamed parts (speech sent while it is made): ``<prefix>/<clip id>/part-0000.wav``, ..., each
      with its timestamps ``part-0000.json``;
    - timestamps of a kind that makes them (speech): ``<prefix>/<clip id>.json`` (alignments, words),
      ``.srt``, ``.vtt``;
    - the recording a voice-changer clip (or a voice fit) came from: ``uploads/<clip id><suffix>``;
    - a voice design's fitted style pack: ``<prefix>/<clip id>.npy`` (its audio is the voice's preview).
    The prefix is the clip kind's (``studio.kinds``). The site builds this value when it records
    the clip, the workflow carries it to the workers, and deletion walks ``all_keys``.
    """

    prefix: str
    clip_id: str
    variations: int = 1
    source_key: str | None = None
    timed: bool = False  # the kind makes timestamps and captions (speech)

    @classmethod
    def of(cls, clip: Any) -> "ClipObjects":
        """For a ``studio.models.Clip`` (or anything with ``id``, ``kind`` and ``settings``)."""
        return cls.for_kind(clip.kind, str(clip.id), clip.settings or {})

    @classmethod
    def for_kind(cls, kind: str, clip_id: str, settings: dict[str, Any]) -> "ClipObjects":
        return cls(
            prefix=KINDS[ClipKind(kind)].key_prefix,
            clip_id=clip_id,
            variations=variations(settings),
            source_key=settings.get("source_key"),
            timed=KINDS[ClipKind(kind)].timestamps,
        )

    @staticmethod
    def upload_key(clip_id: str, suffix: str) -> str:
        return f"{UPLOADS_PREFIX}/{clip_id}{suffix}"

    def stem(self, variation: int = 1) -> str:
        return self.clip_id if variation == 1 else f"{self.clip_id}-{variation}"

    def audio(self, extension: str = ".wav", variation: int = 1) -> str:
        return f"{self.prefix}/{self.stem(variation)}{extension}"

    @property
    def stream_prefix(self) -> str:
        return f"{self.prefix}/{self.clip_id}/"

    def stream_part(self, index: int, extension: str = ".wav") -> str:
        """Where the i-th streamed chunk lands (and, as ``.json``, its timestamps), so the API can
        send it before the rest is done."""
        return f"{self.stream_prefix}part-{index:04d}{extension}"

    def derived(self, name: str) -> str:
        """A file computed from the clip's audio (another format, waveform peaks): inside the clip's
        folder, so it goes when the clip does."""
        return f"{self.stream_prefix}derived/{name}"

    def timing(self, extension: str = ".json") -> str:
        """The clip's timestamps (``.json``) or captions (``.srt``, ``.vtt``)."""
        return f"{self.prefix}/{self.clip_id}{extension}"

    @property
    def voice_pack(self) -> str:
        """A voice design's fitted pack. Not in ``all_keys``: the pack is the voice's, deleted with
        the voice, not with the clip that made it."""
        return f"{self.prefix}/{self.clip_id}.npy"

    def download_name(self, extension: str, variation: int = 1) -> str:
        """What a downloaded file is called: studio-<first 8 of the clip id>[-k].<ext>."""
        short = ClipObjects(self.prefix, f"studio-{self.clip_id[:8]}")
        return f"{short.stem(variation)}{extension}"

    def all_keys(self, include_source: bool = True) -> list[str]:
        """Every audio key the clip may have, committed or not (streamed parts: ``stream_prefix``)."""
        keys = [self.audio(ext, v) for v in range(1, self.variations + 1) for ext in AUDIO_EXTENSIONS]
        keys += [self.timing(ext) for ext in TIMING_EXTENSIONS] if self.timed else []
        if include_source and self.source_key:
            keys.append(self.source_key)
        return keys


def delete_clip_objects(clip: Any, store: "ObjectStore | None" = None, include_source: bool = True) -> list[str]:
    """Remove every object of a clip (audio, variations, streamed parts and, with ``include_source``,
    its upload). Idempotent: missing objects are skipped. Returns the keys it was asked to delete."""
    store = store or get_store()
    objects = ClipObjects.of(clip)
    keys = objects.all_keys(include_source)
    for key in keys:
        store.delete(key)
    store.delete_prefix(objects.stream_prefix)
    return keys


class ObjectStore(ABC):
    def ensure_ready(self) -> None:  # noqa: B027 - a no-op unless the backend needs setting up
        """Create whatever the backend needs (a bucket); safe to call on every start."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose key starts with ``prefix`` (a folder-like ``a/b/``)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def link(self, key: str, ttl: int | None = None, download_name: str | None = None) -> str:
        """A URL that serves the object until ``ttl`` seconds from now."""


class LocalStore(ObjectStore):
    """Files under a directory; links point at the site's ``/media`` route with an HMAC."""

    def __init__(self, root: Path, secret: str, base_url: str = "", ttl: int = 3600) -> None:
        self.root, self._secret, self.base_url, self.ttl = root, secret.encode(), base_url.rstrip("/"), ttl

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"bad object key {key!r}")
        return path

    def put_file(self, key: str, path: Path) -> None:
        self.put_bytes(key, path.read_bytes())

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        tmp.write_bytes(data)
        tmp.replace(target)  # readers never see half a file; a retried put just overwrites

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"prefix {prefix!r} must name a folder (end with '/')")
        folder = self.path(prefix)
        if folder == self.root.resolve():
            raise ValueError("refusing to delete the whole store")
        shutil.rmtree(folder, ignore_errors=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def signature(self, key: str, expires: int, download_name: str | None) -> str:
        message = f"{key}\n{expires}\n{download_name or ''}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(self, key: str, expires: int, download_name: str | None, signature: str) -> bool:
        good = hmac.compare_digest(self.signature(key, expires, download_name), signature)
        return good and expires >= time.time()

    def link(self, key: str, ttl: int | None = None, download_name: str | None = None) -> str:
        expires = int(time.time()) + (ttl if ttl is not None else self.ttl)
        params = {"exp": expires, "sig": self.signature(key, expires, download_name)}
        if download_name:
            params["dl"] = download_name
        return f"{self.base_url}/media/{quote(key)}?{urlencode(params)}"


class S3Store(ObjectStore):
    """An S3 bucket (AWS, SeaweedFS, MinIO ...) under an optional key prefix."""

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix, self.ttl = settings.s3_bucket, settings.s3_prefix, settings.link_ttl_seconds
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def ensure_ready(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(
            str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type_for(key)}
        )

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type_for(key))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"prefix {prefix!r} must name a folder (end with '/')")
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        for page in pages:  # one DELETE per object: every S3-compatible server takes it
            for obj in page.get("Contents", []):
                self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def link(self, key: str, ttl: int | None = None, download_name: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=ttl if ttl is not None else self.ttl
        )


def make_store(settings: Settings) -> ObjectStore:
    if settings.storage_backend == "s3":
        return S3Store(settings)
    return LocalStore(settings.var_dir / "objects", settings.secret_key, ttl=settings.link_ttl_seconds)


@lru_cache
def get_store() -> ObjectStore:
    return make_store(get_settings())
