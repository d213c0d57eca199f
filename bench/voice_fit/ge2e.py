"""resemblyzer's GE2E speaker encoder as a differentiable torch function of 24 kHz audio.

``workers/gpu_vc/speaker.py`` has no gradient path: its front end (librosa resample, WebRTC VAD
trim, librosa mel) runs in numpy. This module redoes the front end in torch so a loss on the
embedding can be backpropagated into the waveform (and through Kokoro into the voice style):

    24 kHz -> 16 kHz (polyphase windowed-sinc, 2 up / 3 down) -> level to -30 dBFS (increase only)
    -> |STFT|^2 (400-point Hann, hop 160, centred, zero padded: librosa's defaults) -> 40 mel bands
    (librosa's Slaney filters, shipped as a matrix) -> 160-frame partials at resemblyzer's rate
    (1.3 per second, last one kept at >= 75 % coverage) -> 3-layer LSTM -> ReLU(linear) -> unit norm.

The VAD trim is left out (renders and TTS targets have little silence); ``bench/voice_fit/score.py``
reports with the real resemblyzer, VAD included, so the fit's own score is checked by the original.
Weights: ``prepare.py`` saves resemblyzer's ``pretrained.pt`` model state (float16, to travel light)
plus the mel matrix and the resampling filter into ``var/voice_fit/ge2e.pt``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

PARTIAL_FRAMES = 160
HOP = 160  # samples at 16 kHz: 10 ms
N_FFT = 400
RATE = 16_000


def resample_filter(up: int = 2, down: int = 3, taps_per_phase: int = 32) -> np.ndarray:
    """Low-pass FIR (Kaiser-windowed sinc) for up/down resampling, gain ``up``."""
    from scipy.signal import firwin

    cutoff = 1.0 / max(up, down)  # relative to the upsampled Nyquist
    numtaps = taps_per_phase * up * 2 + 1
    return (firwin(numtaps, cutoff * 0.95, window=("kaiser", 8.0)) * up).astype(np.float32)


def partial_starts(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[int]:
    """resemblyzer's ``compute_partial_slices`` (mel-frame starts of 160-frame windows)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((RATE / rate) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


class GE2E(nn.Module):
    def __init__(self, state: dict) -> None:
        super().__init__()
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.load_state_dict({k: v.float() for k, v in state["model"].items()})
        self.register_buffer("mel", state["mel"].float())  # [40, 201]
        self.register_buffer("fir", state["fir"].float())  # [taps]
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
        """[B, S] 16 kHz (padded; ``lengths`` real samples) -> [B, frames, 40] power mel."""
        mask = (
            torch.arange(wav.shape[1], device=wav.device)[None, :] < torch.tensor(lengths, device=wav.device)[:, None]
        )
        wav = wav * mask
        power = (wav**2).sum(1) / torch.tensor(lengths, device=wav.device, dtype=wav.dtype)
        dbfs = 10 * torch.log10(power.clamp_min(1e-12))
        gain = 10 ** (torch.clamp(-30.0 - dbfs, min=0.0) / 20)  # increase only
        wav = wav * gain[:, None]
        spec = torch.stft(wav, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True)
        return (self.mel @ spec.abs().pow(2)).transpose(1, 2)  # [B, F, 40]

    def partials(self, mels: Tensor, lengths: list[int]) -> tuple[Tensor, list[int]]:
        """All 160-frame windows of every clip ([N, 160, 40]) and which clip each belongs to."""
        windows, owners = [], []
        for row, n in enumerate(lengths):
            for start in partial_starts(n):
                w = mels[row, start : start + PARTIAL_FRAMES]
                # frames beyond this clip's end are zero audio, as resemblyzer's zero padding
                real = int(np.ceil((n + 1) / HOP)) - start
                if real < PARTIAL_FRAMES or w.shape[0] < PARTIAL_FRAMES:
                    keep = max(0, min(real, w.shape[0]))
                    w = F.pad(w[:keep], (0, 0, 0, PARTIAL_FRAMES - keep))
                windows.append(w)
                owners.append(row)
        return torch.stack(windows), owners

    def embed_partials(self, windows: Tensor) -> Tensor:
        _, (hidden, _) = self.lstm(windows)
        raw = F.relu(self.linear(hidden[-1]))
        return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-9)

    def forward(self, audio: Tensor, samples: list[int], groups: list[int] | None = None, rate: int = 24_000) -> Tensor:
        """Unit speaker embeddings of [B, S] clips (24 kHz, or already 16 kHz). ``groups[row]`` says
        which output a clip feeds (the mean of all its partials, as resemblyzer embeds one speaker's
        several clips); default: one output per clip."""
        if rate == RATE:
            wav, lengths = audio, list(samples)
        else:
            wav, lengths = self.to16k(audio), [math.ceil(2 * n / 3) for n in samples]
        windows, owners = self.partials(self.mels(wav, lengths), lengths)
        partial = self.embed_partials(windows)
        groups = groups if groups is not None else list(range(len(samples)))
        n_out = max(groups) + 1
        index = torch.tensor([groups[o] for o in owners], device=partial.device)
        sums = torch.zeros(n_out, partial.shape[1], device=partial.device, dtype=partial.dtype)
        sums = sums.index_add(0, index, partial)
        return sums / sums.norm(dim=1, keepdim=True).clamp_min(1e-9)


def load(path: str, device: str) -> GE2E:
    return GE2E(torch.load(path, map_location="cpu", weights_only=True)).to(device).eval().requires_grad_(False)
