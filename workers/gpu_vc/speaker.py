"""Speaker embeddings (resemblyzer's pretrained GE2E encoder, in PyTorch, on the voice changer's
device: ``STUDIO_VC_DEVICE``).

Cosine similarity of these embeddings is how the conversion is tuned and how it is measured.
The audio front end is resemblyzer's (resample to 16 kHz, level to -30 dBFS, trim long
silences by WebRTC VAD, 40-band mel spectrogram) with one change: the VAD's PCM is packed by
numpy, not by ``struct.pack(*samples)``, which held the GIL for every sample and made
embeddings the bottleneck of concurrent conversions. Several clips embed in one forward pass.
"""

import threading
import warnings

import numpy as np
from scipy.ndimage import binary_dilation

from studio.settings import get_settings
from workers.devices import resolve_device

_encoder = None
_load_lock = threading.Lock()
_use_lock = threading.Lock()  # one forward pass at a time: the model is shared


def encoder():  # noqa: ANN201
    global _encoder
    with _load_lock:
        if _encoder is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # webrtcvad imports pkg_resources
                from resemblyzer import VoiceEncoder
            _encoder = VoiceEncoder(resolve_device(get_settings().vc_device), verbose=False)
        return _encoder


def _trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """resemblyzer's ``trim_long_silences``: drop silences longer than the VAD allows."""
    import webrtcvad
    from resemblyzer import hparams as hp

    window = hp.vad_window_length * hp.sampling_rate // 1000
    wav = wav[: len(wav) - len(wav) % window]
    pcm = np.round(wav * 32767).astype("<i2").tobytes()
    vad = webrtcvad.Vad(mode=3)
    starts = range(0, len(wav), window)
    flags = np.array([vad.is_speech(pcm[s * 2 : (s + window) * 2], hp.sampling_rate) for s in starts], dtype=float)
    width = hp.vad_moving_average_width
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    averaged = np.cumsum(padded)
    averaged[width:] = averaged[width:] - averaged[:-width]
    mask = np.round(averaged[width - 1 :] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(hp.vad_max_silence_length + 1))
    return wav[np.repeat(mask, window)]


def preprocess(samples: np.ndarray, rate: int) -> np.ndarray:
    """16 kHz, levelled, long silences trimmed; the clip as is when too little is left."""
    import librosa
    from resemblyzer import hparams as hp
    from resemblyzer.audio import normalize_volume

    wav = librosa.resample(np.asarray(samples, dtype=np.float32), orig_sr=rate, target_sr=hp.sampling_rate)
    wav = normalize_volume(wav, hp.audio_norm_target_dBFS, increase_only=True)
    trimmed = _trim_long_silences(wav)
    return trimmed if len(trimmed) >= hp.sampling_rate // 4 else wav


def embed_many(clips: list[np.ndarray], rate: int) -> list[np.ndarray]:
    """Unit-length 256-d embeddings of the speaker in each clip, in one forward pass."""
    import torch
    from resemblyzer.audio import wav_to_mel_spectrogram

    model = encoder()
    batches, owners = [], []
    for k, samples in enumerate(clips):
        wav = preprocess(samples, rate)
        wav_slices, mel_slices = model.compute_partial_slices(len(wav), rate=1.3, min_coverage=0.75)
        wav = np.pad(wav, (0, max(0, wav_slices[-1].stop - len(wav))))
        mel = wav_to_mel_spectrogram(wav)
        batches += [mel[s] for s in mel_slices]
        owners += [k] * len(mel_slices)
    with _use_lock, torch.no_grad():
        partials = model(torch.from_numpy(np.stack(batches)).to(model.device)).cpu().numpy()
    owners_array = np.array(owners)
    means = [partials[owners_array == k].mean(0) for k in range(len(clips))]
    return [m / np.linalg.norm(m) for m in means]


def embed(samples: np.ndarray, rate: int) -> np.ndarray:
    """A unit-length 256-d embedding of the speaker in ``samples``."""
    return embed_many([samples], rate)[0]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
