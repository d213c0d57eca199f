"""Audio encoding with FFmpeg (PyAV): WAV/MP3 for the site, every format the public API offers.

``Encoder`` takes float32 mono samples in pieces and returns encoded bytes as they become
available, so a stream can start before synthesis ends. Containers that patch their header at
the end (WAV, FLAC) are returned whole by ``close()``.
"""

import io
import re
import wave
from dataclasses import dataclass

import av
import numpy as np


@dataclass(frozen=True)
class AudioFormat:
    container: str  # FFmpeg muxer
    codec: str  # FFmpeg encoder
    sample_rate: int
    bitrate: int | None  # bits per second, for lossy codecs
    media_type: str
    extension: str

    @property
    def streamable(self) -> bool:
        return self.container not in ("wav", "flac")


_KINDS = {  # name -> (container, codec, media type, extension, default bitrate kbps)
    "mp3": ("mp3", "libmp3lame", "audio/mpeg", "mp3", 128),
    "opus": ("ogg", "libopus", "audio/ogg", "opus", 64),
    "aac": ("adts", "aac", "audio/aac", "aac", 128),
    "flac": ("flac", "flac", "audio/flac", "flac", None),
    "wav": ("wav", "pcm_s16le", "audio/wav", "wav", None),
    "pcm": ("s16le", "pcm_s16le", "audio/pcm", "pcm", None),
    "ulaw": ("mulaw", "pcm_mulaw", "audio/basic", "ulaw", None),
    "alaw": ("alaw", "pcm_alaw", "audio/x-alaw-basic", "alaw", None),
}
SAMPLE_RATES = {8000, 16000, 22050, 24000, 44100, 48000}


def audio_format(kind: str, sample_rate: int, kbps: int | None = None) -> AudioFormat:
    container, codec, media_type, ext, default_kbps = _KINDS[kind]
    bitrate = (kbps or default_kbps) * 1000 if default_kbps else None
    return AudioFormat(container, codec, sample_rate, bitrate, media_type, ext)


MP3_24K = audio_format("mp3", 24_000, 128)


def parse_output_format(spec: str) -> AudioFormat:
    """ElevenLabs-style ``<codec>_<sample rate>[_<kbps>]``, e.g. mp3_44100_128, pcm_24000, opus_48000_64."""
    match = re.fullmatch(r"(mp3|opus|pcm|wav|ulaw|alaw|flac|aac)_(\d+)(?:_(\d+))?", spec)
    if not match:
        raise ValueError(f"unknown output_format {spec!r}")
    kind, rate, kbps = match.group(1), int(match.group(2)), match.group(3)
    if rate not in SAMPLE_RATES or (kind == "opus" and rate != 48_000):
        raise ValueError(f"unsupported sample rate {rate} for {kind}")
    if kbps and not 8 <= int(kbps) <= 320:
        raise ValueError(f"unsupported bitrate {kbps} kbps")
    return audio_format(kind, rate, int(kbps) if kbps else None)


class Encoder:
    def __init__(self, fmt: AudioFormat, input_rate: int) -> None:
        self.fmt, self.input_rate = fmt, input_rate
        self._buffer = io.BytesIO()
        self._sent = 0
        self._out = av.open(self._buffer, "w", format=fmt.container)
        self._stream = self._out.add_stream(fmt.codec, rate=fmt.sample_rate, layout="mono")
        if fmt.bitrate:
            self._stream.bit_rate = fmt.bitrate
        ctx = self._stream.codec_context
        self._resampler = av.AudioResampler(
            format=ctx.format.name, layout="mono", rate=fmt.sample_rate, frame_size=ctx.frame_size or None
        )
        self._pts = 0

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for resampled in self._resampler.resample(frame):
            resampled.pts = self._pts
            self._pts += resampled.samples
            for packet in self._stream.encode(resampled):
                self._out.mux(packet)

    def _drain(self) -> bytes:
        if not self.fmt.streamable:
            return b""
        data = self._buffer.getvalue()[self._sent :]
        self._sent += len(data)
        return data

    def write(self, samples: np.ndarray) -> bytes:
        """Encode more float32 mono samples; returns whatever encoded bytes are ready."""
        pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="flt", layout="mono")
        frame.sample_rate = self.input_rate
        self._encode(frame)
        return self._drain()

    def close(self) -> bytes:
        """Flush the encoder; returns the rest (or, for WAV/FLAC, the whole file)."""
        self._encode(None)
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self._out.close()
        if not self.fmt.streamable:
            return self._buffer.getvalue()
        return self._drain()


def encode(samples: np.ndarray, sample_rate: int, fmt: AudioFormat) -> bytes:
    encoder = Encoder(fmt, sample_rate)
    return encoder.write(samples) + encoder.close()


def to_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    return encode(samples, sample_rate, audio_format("wav", sample_rate))


def to_mp3(samples: np.ndarray, sample_rate: int, kbps: int = 128) -> bytes:
    return encode(samples, sample_rate, audio_format("mp3", sample_rate, kbps))


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode any container FFmpeg knows to float32 mono samples."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [f.to_ndarray().reshape(-1) for frame in container.decode(stream) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), rate


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode 16-bit WAV bytes to float32 mono samples (no FFmpeg needed)."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32) / 32768
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    return pcm, rate
