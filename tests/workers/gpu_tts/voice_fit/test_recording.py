"""Recordings a fit refuses, with the reason, and the one it accepts.

Thresholds (``recording.py``) were measured on Kokoro, Piper and human telephone speech against
synthetic noise and tones (docs/benchmarks.md, "Voice fitting"); these tests record each measure
with its distance to the threshold.
"""

import numpy as np
import pytest

from tests.margins import expect
from tests.workers.gpu_tts.voice_fit.conftest import RATE
from workers.gpu_tts.voice_fit import recording as rec


def synthetic(kind: str, seconds: float = 20.0, rate: int = 16_000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    noise = rng.standard_normal(len(t))
    if kind == "white noise":
        return 0.1 * noise
    if kind == "chord + noise":
        return 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330)) + 0.05 * noise
    if kind == "pulsed tone + noise":  # on and off four times a second, like syllables
        tone = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
        return 0.3 * tone * (np.sin(2 * np.pi * 4 * t) > 0) + 0.02 * noise
    if kind == "melody + noise":  # plucked notes of a C major scale, four a second
        out = np.zeros_like(t)
        note = int(0.25 * rate)
        for i in range(len(t) // note):
            f = [262, 294, 330, 349, 392, 440, 494, 523][rng.integers(8)]
            tt = t[:note]
            out[i * note : (i + 1) * note] = sum(np.sin(2 * np.pi * f * k * tt) / k for k in range(1, 6)) * np.exp(
                -3 * tt
            )
        return 0.3 * out + 0.03 * noise
    raise ValueError(kind)


def test_one_voice_reading_sentences_is_accepted(recording: np.ndarray, record_property) -> None:  # noqa: ANN001
    assert rec.check_recording(recording, RATE) is None
    stats = rec.speech_stats(rec.to_16k(recording, RATE))
    expect(record_property, "speech share of active time", stats.speech_s / stats.active_s, above=rec.MIN_SPEECH_SHARE)
    expect(record_property, "gliding pitch share (speech)", stats.gliding_pitch, above=rec.MIN_GLIDING_PITCH + 0.1)
    cosine, _ = rec.speakers_apart(rec.speech(recording, RATE))
    expect(record_property, "segment groups cosine (one voice)", cosine, above=rec.SPEAKERS_APART + 0.08)


def test_two_voices_are_refused(recording: np.ndarray, other_voice: np.ndarray, record_property) -> None:  # noqa: ANN001
    both = np.concatenate([recording, other_voice])
    assert "more than one voice" in rec.check_recording(both, RATE)
    cosine, share = rec.speakers_apart(rec.speech(both, RATE))
    expect(record_property, "segment groups cosine (two voices)", cosine, below=rec.SPEAKERS_APART - 0.05)
    assert share >= rec.MIN_GROUP_SHARE


@pytest.mark.parametrize("kind", ["white noise", "chord + noise", "pulsed tone + noise", "melody + noise"])
def test_noise_and_tones_are_not_speech(kind: str, record_property) -> None:  # noqa: ANN001
    audio = synthetic(kind)
    assert "does not sound like speech" in rec.check_recording(audio, 16_000)
    stats = rec.speech_stats(audio.astype(np.float32))
    glide_margin = rec.MIN_GLIDING_PITCH - stats.gliding_pitch
    share_margin = rec.MIN_SPEECH_SHARE - stats.speech_s / stats.active_s
    expect(record_property, f"not-speech margin ({kind})", max(glide_margin, share_margin), above=0.1)


def test_silence_short_and_long_recordings_are_refused(recording: np.ndarray) -> None:
    assert rec.check_recording(np.zeros(20 * 16_000, np.float32), 16_000) == "The recording is silent."
    assert rec.check_recording(1e-3 * synthetic("white noise"), 16_000) == "The recording is silent."  # -80 dBFS
    assert "3.2 minutes long" in rec.check_recording(np.zeros(190 * 8_000, np.float32), 8_000)
    assert "at least 10 s of speech" in rec.check_recording(recording[: 8 * RATE], RATE)
    # 16 s of audio but under 10 s of speech: long pauses do not count
    pauses = np.zeros(4 * RATE, np.float32)
    gappy = np.concatenate([recording[: 3 * RATE], pauses, recording[3 * RATE : 6 * RATE], pauses])
    assert "only" in rec.check_recording(gappy, RATE)
    assert rec.check_recording(np.array([], np.float32), RATE) == "The recording is empty."


def test_speech_cuts_long_silences(recording: np.ndarray) -> None:
    padded = np.concatenate([np.zeros(3 * RATE, np.float32), recording, np.zeros(3 * RATE, np.float32)])
    kept = len(rec.speech(padded, RATE)) / rec.RATE
    assert kept < len(recording) / RATE


def test_narrow_band_recordings_are_recognised(recording: np.ndarray) -> None:
    """A telephone recording (8 kHz, or upsampled from it) is fitted against low-passed renders."""
    from scipy.signal import resample_poly

    assert rec.band_edge(recording, RATE) is None
    telephone = resample_poly(recording, 1, 3).astype(np.float32)  # 24 kHz -> 8 kHz
    assert rec.band_edge(telephone, 8_000) == 4000.0
    assert rec.band_edge(resample_poly(telephone, 2, 1).astype(np.float32), 16_000) == 4000.0
