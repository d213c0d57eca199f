"""Checking and decoding an uploaded recording, the same way on the site and on the worker.

Anything FFmpeg decodes is accepted (WAV, MP3, FLAC, OGG/Opus, WebM from MediaRecorder, ...),
at any rate and channel count; it comes out as float32 mono at the rate asked for.
"""

import io

import av
import numpy as np

from studio.settings import get_settings

SILENCE_RMS = 10 ** (-50 / 20)  # below -50 dBFS over the whole clip: nothing to convert
MIN_SECONDS = 0.5


class UnusableAudio(ValueError):
    """The upload cannot be converted; the message says why, for the user."""


def decode_upload(data: bytes, rate: int) -> np.ndarray:
    if not data:
        raise UnusableAudio("The file is empty.")
    max_seconds = get_settings().vc_max_seconds
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise UnusableAudio("This file has no audio in it.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > max_seconds * rate:
                    raise UnusableAudio(f"The recording is longer than {max_seconds / 60:g} minutes.")
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except UnusableAudio:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise UnusableAudio("This file is not audio we can read (or it is damaged).") from exc
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if len(samples) < MIN_SECONDS * rate:
        raise UnusableAudio("The recording is too short (or truncated): it needs at least half a second of sound.")
    if not np.isfinite(samples).all() or np.sqrt(np.mean(samples**2)) < SILENCE_RMS:
        raise UnusableAudio("The recording is silent.")
    return samples.astype(np.float32)
