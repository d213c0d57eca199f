"""Encoders for every format the API offers: decodable, right rate and length, streamable."""

import numpy as np
import pytest

from studio.audio import Encoder, decode, encode, parse_output_format, read_wav, to_wav
from tests.margins import expect

RATE = 24_000
TONE = (0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * RATE) / RATE)).astype(np.float32)


@pytest.mark.parametrize("spec", ["mp3_44100_128", "mp3_22050_32", "opus_48000_64", "wav_24000", "flac_16000",
                                  "aac_44100"])  # fmt: skip
def test_formats_decode_to_the_same_length_at_the_asked_rate(spec: str, record_property) -> None:  # noqa: ANN001
    fmt = parse_output_format(spec)
    samples, rate = decode(encode(TONE, RATE, fmt))
    assert rate == fmt.sample_rate
    expect(record_property, f"codec |length - 2 s| [{spec}]", abs(len(samples) / rate - 2.0), below=0.06)
    # the tone survived, not silence or noise: RMS 0.212 +- 0.06 (0.15..0.27)
    expect(record_property, f"codec |RMS - 0.212| [{spec}]", abs(np.sqrt(np.mean(samples**2)) - 0.212), below=0.06)


def test_pcm_is_raw_16_bit_at_the_asked_rate() -> None:
    data = encode(TONE, RATE, parse_output_format("pcm_16000"))
    assert len(data) == 2 * 16_000 * 2


def test_mp3_streams_bytes_before_the_end() -> None:
    encoder = Encoder(parse_output_format("mp3_44100_128"), RATE)
    first = encoder.write(TONE[:RATE])
    rest = encoder.write(TONE[RATE:]) + encoder.close()
    assert len(first) > 1000
    samples, _ = decode(first + rest)
    assert abs(len(samples) / 44_100 - 2.0) < 0.06


def test_wav_round_trip(record_property) -> None:  # noqa: ANN001
    samples, rate = read_wav(to_wav(TONE, RATE))
    assert rate == RATE
    expect(record_property, "wav round trip max |error|", np.max(np.abs(samples - TONE)), below=1e-3)


def test_bitrate_defaults_when_left_out() -> None:
    assert parse_output_format("mp3_44100").bitrate == 128_000


@pytest.mark.parametrize("spec", ["ogg_44100", "mp3_1000_128", "opus_44100_64", "mp3_44100_999", ""])
def test_unknown_formats_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_output_format(spec)
