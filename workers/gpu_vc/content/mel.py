"""Log-mel frames at twice Kokoro's frame rate: what the content encoder reads.

Kokoro's decoder works on frames of 600 samples at 24 kHz (40 a second), its F0 and energy at
twice that; a 300-sample hop gives exactly two mel frames per decoder frame, so no resampling of
targets is needed. Each mel bin's mean over the clip is removed: the long-term spectrum is mostly
the speaker and the microphone, which the encoder must not care about.
"""

import math

import torch
from torch import Tensor, nn

SAMPLE_RATE = 24_000
SAMPLES_PER_FRAME = 600  # one Kokoro decoder frame
HOP = SAMPLES_PER_FRAME // 2
N_FFT = 1024
N_MELS = 80
F_MIN, F_MAX = 40.0, 11_000.0


def _mel(hz: Tensor) -> Tensor:
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = SAMPLE_RATE) -> Tensor:
    """Triangular filters evenly spaced on the mel scale, area-normalised: [n_mels, n_fft // 2 + 1]."""
    bins = torch.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = 700.0 * (
        10 ** (torch.linspace(_mel(torch.tensor(F_MIN)), _mel(torch.tensor(F_MAX)), n_mels + 2) / 2595.0) - 1
    )
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    triangles = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return triangles * (2.0 / (upper - lower))


class LogMel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("filters", mel_filterbank(), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    @staticmethod
    def frames(samples: Tensor) -> Tensor:
        """Decoder frames covered by clips of ``samples`` samples (a partial frame is dropped)."""
        return samples // SAMPLES_PER_FRAME

    def forward(self, audio: Tensor, samples: Tensor) -> Tensor:
        """audio [B, S] at 24 kHz, real lengths [B] -> mean-normalised log-mel [B, N_MELS, 2 * max frames]."""
        frames = self.frames(samples)
        size = 2 * int(frames.max())
        with torch.autocast(audio.device.type, enabled=False):
            spec = torch.stft(audio.float(), N_FFT, HOP, window=self.window, center=True, return_complex=True)
            power = spec[..., :size].abs().pow(2)
            mel = torch.log(torch.clamp(self.filters @ power, min=1e-6))
        valid = (torch.arange(size, device=audio.device)[None, :] < 2 * frames[:, None]).unsqueeze(1)  # [B, 1, T]
        count = valid.sum(-1, keepdim=True).clamp(min=1)
        mean = torch.where(valid, mel, 0.0).sum(-1, keepdim=True) / count
        return torch.where(valid, mel - mean, 0.0) / math.log(10.0)
