"""Uploaded recordings: every browser/desktop format decodes; unusable files get a clear reason."""

import numpy as np
import pytest

from studio.audio import audio_format, encode, to_mp3, to_wav
from studio.uploads import UnusableAudio, decode_upload
from tests.conftest import reset_caches

RATE = 24_000
TONE = (0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * RATE) / RATE)).astype(np.float32)


def webm_opus(samples: np.ndarray) -> bytes:
    """What Chrome's MediaRecorder sends."""
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48_000, layout="mono")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000, frame_size=960)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = RATE
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
    return buf.getvalue()


@pytest.mark.parametrize(
    "make",
    [
        lambda: to_wav(TONE, RATE),
        lambda: to_mp3(TONE, RATE),
        lambda: encode(TONE, RATE, audio_format("flac", 44_100)),
        lambda: encode(TONE, RATE, audio_format("opus", 48_000)),
        lambda: webm_opus(TONE),
        lambda: encode(np.repeat(TONE, 1), RATE, audio_format("wav", 8_000)),
    ],
    ids=["wav", "mp3", "flac-44k", "ogg-opus", "webm-opus", "wav-8k"],
)
def test_formats_decode_to_mono_at_the_asked_rate(make) -> None:  # noqa: ANN001
    samples = decode_upload(make(), 16_000)
    assert samples.dtype == np.float32 and abs(len(samples) / 16_000 - 2.0) < 0.1


def test_stereo_is_mixed_down() -> None:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.repeat(TONE, 2) * 32767).astype("<i2").tobytes())
    assert abs(len(decode_upload(buf.getvalue(), RATE)) - len(TONE)) < 10


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"just some text, not audio " * 50, "not audio"),
        (to_wav(TONE, RATE)[:300], "too short"),
        (to_mp3(TONE, RATE)[:2000], "too short"),
        (to_wav(np.zeros(RATE * 2, np.float32), RATE), "silent"),
        (b"RIFF" + b"\x00" * 4000, "not audio"),
    ],
    ids=["empty", "text", "truncated-wav", "truncated-mp3", "silent", "bad-header"],
)
def test_unusable_uploads_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnusableAudio, match=reason):
        decode_upload(data, RATE)


def test_too_long_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_VC_MAX_SECONDS", "1.5")
    reset_caches()
    try:
        with pytest.raises(UnusableAudio, match="longer than"):
            decode_upload(to_wav(TONE, RATE), RATE)
    finally:
        monkeypatch.delenv("STUDIO_VC_MAX_SECONDS")
        reset_caches()
