"""resemblyzer's GE2E speaker encoder as a differentiable torch function of the audio.

The voice fitter moves a Kokoro style pack so that the speaker embedding of what Kokoro renders
comes close to the recording's; that needs a gradient from the embedding back into the waveform.
resemblyzer's own front end (librosa resampling, WebRTC VAD trim, librosa mel) runs in numpy and
has none, so this module redoes it in torch:

    24 kHz -> 16 kHz (polyphase windowed-sinc, 2 up / 3 down) -> level to -30 dBFS (increase only)
    -> |STFT|^2 (400-point Hann, hop 160, centred, zero padded: librosa's defaults) -> 40 mel bands
    (librosa's Slaney filters) -> 160-frame partials at resemblyzer's rate (1.3 per second, the
    last one kept at >= 75 % coverage) -> 3-layer LSTM -> ReLU(linear) -> unit norm.

There is no VAD trim inside (it is not differentiable, and renders have little silence): a
recording is trimmed beforehand by :func:`workers.gpu_tts.voice_fit.recording.speech`. On such
input the embedding equals the resemblyzer package's to cosine > 0.999 (tests say by how much).

Weights are read straight from the installed ``resemblyzer`` package's ``pretrained.pt`` (its
file is located without importing the package, which would pull in librosa's audio stack and
webrtcvad); the mel matrix is computed by librosa and the resampling filter by scipy at load time.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

RATE = 16_000  # the encoder's sample rate
RENDER_RATE = 24_000  # Kokoro's
PARTIAL_FRAMES = 160
HOP = 160  # samples at 16 kHz: 10 ms
N_FFT = 400
N_MELS = 40
LEVEL_DBFS = -30.0


def resample_filter(up: int = 2, down: int = 3, taps_per_phase: int = 32) -> np.ndarray:
    """Low-pass FIR (Kaiser-windowed sinc) for up/down resampling, with gain ``up``."""
    from scipy.signal import firwin

    cutoff = 1.0 / max(up, down)  # relative to the upsampled Nyquist
    numtaps = taps_per_phase * up * 2 + 1
    return (firwin(numtaps, cutoff * 0.95, window=("kaiser", 8.0)) * up).astype(np.float32)


def partial_starts(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[int]:
    """Mel-frame starts of the 160-frame windows, as resemblyzer's ``compute_partial_slices``."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((RATE / rate) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


class SpeakerEncoder(nn.Module):
    """GE2E with a torch front end. ``state`` holds the ``lstm.*`` and ``linear.*`` weights,
    ``mel`` ([40, 201] Slaney filters) and ``fir`` (the 24 -> 16 kHz filter); any float dtype."""

    def __init__(self, state: Mapping[str, Tensor]) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        weights = {k: v.float() for k, v in state.items() if k.startswith(("lstm.", "linear."))}
        self.load_state_dict(weights)
        self.register_buffer("mel", state["mel"].float())
        self.register_buffer("fir", state["fir"].float())
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True))

    def to16k(self, audio: Tensor) -> Tensor:
        """[B, S] at 24 kHz -> [B, ceil(2S/3)] at 16 kHz."""
        b, s = audio.shape
        up = torch.zeros(b, s * 2, device=audio.device, dtype=audio.dtype)
        up[:, ::2] = audio
        k = self.fir.numel()
        y = F.conv1d(F.pad(up.unsqueeze(1), (k // 2, k // 2)), self.fir.flip(0).view(1, 1, -1)).squeeze(1)
        return y[:, ::3]

    def mels(self, wav: Tensor, lengths: list[int]) -> Tensor:
        """[B, S] at 16 kHz (padded; ``lengths`` real samples) -> [B, frames, 40] power mel."""
        steps = torch.arange(wav.shape[1], device=wav.device)
        n = torch.tensor(lengths, device=wav.device)
        wav = wav * (steps[None, :] < n[:, None])
        power = (wav**2).sum(1) / n.to(wav.dtype)
        dbfs = 10 * torch.log10(power.clamp_min(1e-12))
        gain = 10 ** (torch.clamp(LEVEL_DBFS - dbfs, min=0.0) / 20)  # increase only
        wav = wav * gain[:, None]
        spec = torch.stft(wav, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True)
        return (self.mel @ spec.abs().pow(2)).transpose(1, 2)

    def partials(self, mels: Tensor, lengths: list[int]) -> tuple[Tensor, list[int]]:
        """Every 160-frame window of every clip ([N, 160, 40]) and the clip each belongs to."""
        windows, owners = [], []
        for row, n in enumerate(lengths):
            real_frames = int(np.ceil((n + 1) / HOP))
            for start in partial_starts(n):
                w = mels[row, start : start + PARTIAL_FRAMES]
                keep = max(0, min(real_frames - start, w.shape[0]))
                if keep < PARTIAL_FRAMES:  # past the clip's end resemblyzer sees zero audio
                    w = F.pad(w[:keep], (0, 0, 0, PARTIAL_FRAMES - keep))
                windows.append(w)
                owners.append(row)
        return torch.stack(windows), owners

    def embed_partials(self, windows: Tensor) -> Tensor:
        _, (hidden, _) = self.lstm(windows)
        raw = F.relu(self.linear(hidden[-1]))
        return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-9)

    def forward(
        self, audio: Tensor, samples: list[int], groups: list[int] | None = None, rate: int = RENDER_RATE
    ) -> Tensor:
        """Unit embeddings of [B, S] clips at 24 or 16 kHz with ``samples[b]`` real samples each.

        ``groups[b]`` says which output clip b feeds: an output is the mean of all its clips'
        partials, as resemblyzer embeds one speaker from several utterances. Default: one each.
        """
        if rate == RATE:
            wav, lengths = audio, list(samples)
        elif rate == RENDER_RATE:
            wav, lengths = self.to16k(audio), [math.ceil(2 * n / 3) for n in samples]
        else:
            raise ValueError(f"the encoder takes 16 or 24 kHz audio, not {rate} Hz")
        windows, owners = self.partials(self.mels(wav, lengths), lengths)
        partial = self.embed_partials(windows)
        groups = list(range(len(samples))) if groups is None else groups
        index = torch.tensor([groups[o] for o in owners], device=partial.device)
        sums = torch.zeros(max(groups) + 1, partial.shape[1], device=partial.device, dtype=partial.dtype)
        sums = sums.index_add(0, index, partial)
        return sums / sums.norm(dim=1, keepdim=True).clamp_min(1e-9)

    @torch.no_grad()
    def embed_speech(self, wavs: list[np.ndarray]) -> Tensor:
        """One unit embedding [256] of several 16 kHz clips of one speaker (no gradient)."""
        device = self.mel.device
        batch = torch.zeros(len(wavs), max(len(w) for w in wavs), device=device)
        for row, w in enumerate(wavs):
            batch[row, : len(w)] = torch.from_numpy(np.asarray(w, np.float32)).to(device)
        return self(batch, [len(w) for w in wavs], [0] * len(wavs), rate=RATE)[0]


def resemblyzer_weights_path() -> Path:
    """``pretrained.pt`` of the installed resemblyzer package (found without importing it)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("resemblyzer is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


def resemblyzer_state() -> dict[str, Tensor]:
    """The encoder's state: resemblyzer's weights, librosa's mel matrix, scipy's resampling filter."""
    import librosa

    checkpoint = torch.load(resemblyzer_weights_path(), map_location="cpu", weights_only=True)
    state = {k: v for k, v in checkpoint["model_state"].items() if k.startswith(("lstm.", "linear."))}
    state["mel"] = torch.from_numpy(librosa.filters.mel(sr=RATE, n_fft=N_FFT, n_mels=N_MELS))
    state["fir"] = torch.from_numpy(resample_filter())
    return state


_encoders: dict[str, SpeakerEncoder] = {}
_lock = threading.Lock()


def speaker_encoder(device: str = "cpu") -> SpeakerEncoder:
    """The process's one encoder on ``device`` (loaded on first use, ~0.1 s; 5.7 MB of weights).

    Frozen and in eval mode. Its forward passes are read-only, so threads may share it; a caller
    that backpropagates on CUDA switches its LSTM to training mode for the pass (cuDNN's LSTM
    backward requires it; the encoder has no dropout, so the numbers are the same).
    """
    key = str(torch.device(device))
    with _lock:
        if key not in _encoders:
            encoder = SpeakerEncoder(resemblyzer_state())
            _encoders[key] = encoder.to(device).eval().requires_grad_(False)
        return _encoders[key]
