"""The differentiable GE2E port against the resemblyzer package it was ported from."""

import warnings

import numpy as np
import torch

from tests.margins import expect
from workers.gpu_tts.voice_fit.recording import speech
from workers.gpu_tts.voice_fit.speaker import RENDER_RATE, speaker_encoder


def resemblyzer_embedding(samples: np.ndarray, rate: int, trim: bool = True) -> np.ndarray:
    """The package's own embedding; ``trim=False`` leaves out its VAD trim (as the fit's renders)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad imports pkg_resources
        import librosa
        from resemblyzer import VoiceEncoder, preprocess_wav
        from resemblyzer.audio import normalize_volume
    if trim:
        wav = preprocess_wav(samples, source_sr=rate)
    else:
        wav = normalize_volume(librosa.resample(samples, orig_sr=rate, target_sr=16_000), -30, increase_only=True)
    return VoiceEncoder("cpu", verbose=False).embed_utterance(wav)


def test_the_port_embeds_like_resemblyzer(recording: np.ndarray, record_property) -> None:  # noqa: ANN001
    """Both routes into the port: a recording (numpy resampling + VAD trim, then 16 kHz), against
    the package with its trim; and a render (24 kHz straight into the torch front end, as the fit
    does, no trim), against the package without it. A different speaker scores ~0.6, so 0.99 is
    a real match, with room for CPU code paths."""
    encoder = speaker_encoder("cpu")
    as_recording = encoder.embed_speech([speech(recording, RENDER_RATE)]).numpy()
    reference = resemblyzer_embedding(recording, RENDER_RATE)
    expect(record_property, "ge2e port vs resemblyzer (recording)", as_recording @ reference, above=0.99)
    with torch.no_grad():
        as_render = encoder(torch.from_numpy(recording)[None], [len(recording)])[0].numpy()
    untrimmed = resemblyzer_embedding(recording, RENDER_RATE, trim=False)
    expect(record_property, "ge2e port vs resemblyzer (24 kHz render)", as_render @ untrimmed, above=0.99)


def test_gradients_reach_the_waveform() -> None:
    encoder = speaker_encoder("cpu")
    audio = (0.1 * torch.randn(1, 2 * RENDER_RATE, generator=torch.Generator().manual_seed(0))).requires_grad_(True)
    direction = torch.ones(256) / 16
    (encoder(audio, [audio.shape[1]])[0] @ direction).backward()
    assert audio.grad is not None and torch.isfinite(audio.grad).all() and audio.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in encoder.parameters())
