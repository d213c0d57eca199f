"""What the site hands out for a finished clip besides its stored WAV and MP3: every audio format
the public API offers (encoded on demand with the API's own encoder), download names made from
the clip, and a waveform thumbnail.

Derived files (an encoded format, the waveform's peaks) are computed once and kept in the store
under the clip's own folder (``ClipObjects.derived``), so deleting the clip
(``delete_clip_objects`` removes that folder) removes them too; no key is spelled outside
``studio.storage``.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np

from studio.audio import AudioFormat, audio_format, encode, read_wav
from studio.storage import ClipObjects, ObjectStore

# --- formats -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadFormat:
    """One choice in a card's download menu. ``stored``: the workers already upload it (WAV master,
    MP3), so it is a signed link; the others are encoded from the WAV master on first request."""

    name: str
    label: str
    stored: bool = False
    sample_rate: int | None = None  # None: the clip's own rate

    def audio_format(self, clip_rate: int) -> AudioFormat:
        return audio_format(self.name, self.sample_rate or clip_rate)

    @property
    def extension(self) -> str:
        return f".{audio_format(self.name, 24_000).extension}"


# The public API's formats (studio.audio, api/public): the same names, rates it allows for each.
DOWNLOAD_FORMATS: dict[str, DownloadFormat] = {
    f.name: f
    for f in (
        DownloadFormat("mp3", "MP3", stored=True),
        DownloadFormat("wav", "WAV", stored=True),
        DownloadFormat("opus", "Opus", sample_rate=48_000),  # Opus runs at 48 kHz only
        DownloadFormat("flac", "FLAC"),
        DownloadFormat("aac", "AAC"),
        DownloadFormat("pcm", "PCM (raw 16-bit)"),
        DownloadFormat("ulaw", "μ-law 8 kHz", sample_rate=8_000),  # telephony formats: 8 kHz by definition
        DownloadFormat("alaw", "A-law 8 kHz", sample_rate=8_000),
    )
}


def download_format(name: str) -> DownloadFormat:
    """The format called ``name``; a ValueError whose message lists the choices otherwise."""
    try:
        return DOWNLOAD_FORMATS[name]
    except KeyError:
        choices = ", ".join(DOWNLOAD_FORMATS)
        raise ValueError(f"There is no audio format {name[:20]!r}: choose one of {choices}.") from None


def encoded_audio(store: ObjectStore, objects: ClipObjects, fmt: DownloadFormat, variation: int) -> bytes:
    """The clip's audio in ``fmt`` (not a stored one), encoded once and then read back (blocking)."""
    key = objects.derived(f"{objects.stem(variation)}{fmt.extension}")
    if store.exists(key):
        return store.get_bytes(key)
    samples, rate = read_wav(store.get_bytes(objects.audio(".wav", variation)))
    data = encode(samples, rate, fmt.audio_format(rate))
    store.put_bytes(key, data)
    return data


# --- download names ------------------------------------------------------------------------------

MAX_WORDS_CHARS = 48  # the text's first words in a file name
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')  # separators, wildcards, quotes, controls


def first_words(text: str, limit: int = MAX_WORDS_CHARS) -> str:
    """The start of ``text`` on one line, cut at a word boundary within ``limit`` characters."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;.-")


def safe_filename_part(text: str) -> str:
    """``text`` with nothing a file system or a header would choke on (slashes, quotes, controls,
    leading dots), whitespace collapsed."""
    cleaned = " ".join(_UNSAFE.sub(" ", unicodedata.normalize("NFC", text)).split())
    return cleaned.strip(". ")


def download_name(day: str, voice: str, text: str, extension: str, variation: int = 1) -> str:
    """``2026-11-30 Heart - Welcome to the studio.mp3``: date, voice, first words, then `` (k)``
    for a sound effect's variation k >= 2. Bounded in length; never empty before the extension."""
    words = safe_filename_part(first_words(text))
    parts = [p for p in (safe_filename_part(day), safe_filename_part(voice)[:40]) if p]
    stem = " ".join(parts) + (f" - {words}" if words else "")
    stem = stem or "clip"
    if variation > 1:
        stem += f" ({variation})"
    return f"{stem}{extension}"


def ascii_fallback(name: str) -> str:
    """The name with accents stripped and other non-ASCII letters dropped, for clients (and S3
    links) that only take ``filename=``; "clip" when nothing of the stem is left."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem, dot, ext = plain.replace('"', "").replace("\\", "").rpartition(".")
    if not dot:
        stem, ext = plain, ""
    stem = " ".join(stem.split()).strip(" -")
    return f"{stem or 'clip'}{dot}{ext}"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII ``filename`` for old clients, and ``filename*=UTF-8''...`` with the real
    name when it is not plain ASCII."""
    fallback = ascii_fallback(name)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


# --- waveform ------------------------------------------------------------------------------------

WAVEFORM_BARS = 96
WAVEFORM_VERSION = 1  # part of the cache key and the ETag: bump when peaks or drawing change


def peaks(samples: np.ndarray, bars: int = WAVEFORM_BARS) -> list[float]:
    """The loudest absolute sample in each of ``bars`` equal slices, scaled so the loudest bar is 1
    (silence stays 0). Short clips get fewer slices than samples never."""
    if samples.size == 0:
        return [0.0] * bars
    edges = np.linspace(0, samples.size, bars + 1).astype(int)
    magnitude = np.abs(samples)
    values = np.array([magnitude[a:b].max() if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:], strict=True)])
    top = float(values.max())
    return [round(float(v) / top, 3) if top > 0 else 0.0 for v in values]


def clip_peaks(store: ObjectStore, objects: ClipObjects, variation: int) -> list[float]:
    """The waveform's bar heights for one variation, computed from the WAV master once (blocking)."""
    key = objects.derived(f"{objects.stem(variation)}.peaks-v{WAVEFORM_VERSION}.json")
    if store.exists(key):
        return json.loads(store.get_bytes(key))
    samples, _ = read_wav(store.get_bytes(objects.audio(".wav", variation)))
    values = peaks(samples)
    store.put_bytes(key, json.dumps(values).encode())
    return values


def waveform_svg(values: list[float], width: int = 240, height: int = 40) -> str:
    """Bars centred on a mid line in the site's accent colour. The SVG is shown as an image, so it
    carries its own colour rather than the page's variables."""
    step = width / max(1, len(values))
    bar = max(1.0, step * 0.6)
    rects = []
    for i, value in enumerate(values):
        h = max(1.5, value * (height - 2))
        rects.append(
            f'<rect x="{i * step:.2f}" y="{(height - h) / 2:.2f}" width="{bar:.2f}" height="{h:.2f}" rx="0.8"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' preserveAspectRatio="none" role="img" aria-label="Waveform">'
        '<g fill="#4338ca">' + "".join(rects) + "</g></svg>"
    )
