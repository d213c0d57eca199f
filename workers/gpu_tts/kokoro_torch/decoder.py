"""Kokoro's iSTFTNet decoder: aligned phoneme features + F0 + energy -> waveform at 24 kHz.

The harmonic source and both STFTs follow the ONNX export's arithmetic (no random phase or
noise, its atan-based phase, its inverse-STFT scaling) so the torch model reproduces the shipped
model rather than a slightly different one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from workers.gpu_tts.kokoro_torch.layers import AdainResBlk1d, AdaINResBlock1, Span

SAMPLE_RATE = 24_000
HARMONICS = 9  # fundamental + 8 overtones
SINE_AMP = 0.1
VOICED_F0 = 10.0


def reflect_pad(x: Tensor, lengths: Tensor, pad: int) -> Tensor:
    """Reflect-pad each row of [B, S] by ``pad`` on both sides of its own real length."""
    size = x.shape[1] + 2 * pad
    src = torch.arange(size, device=x.device)[None, :] - pad  # [1, S + 2p]
    last = (lengths - 1)[:, None]
    src = src.abs()
    src = torch.where(src > last, 2 * last - src, src).clamp(0, x.shape[1] - 1)
    return x.gather(1, src)


class Generator(nn.Module):
    def __init__(self, style_dim: int, kernels: list[int], rates: list[int], channels: int,
                 dilations: list[list[int]], up_kernels: list[int], n_fft: int, hop: int) -> None:  # fmt: skip
        super().__init__()
        self.n_fft, self.hop, self.rates = n_fft, hop, rates
        self.samples_per_step = math.prod(rates) * hop
        self.source_linear = nn.Linear(HARMONICS, 1)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.noise_res = nn.ModuleList()
        for i, (rate, kernel) in enumerate(zip(rates, up_kernels, strict=True)):
            ch = channels // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(channels // 2**i, ch, kernel, rate, padding=(kernel - rate) // 2))
            for k, d in zip(kernels, dilations, strict=True):
                self.resblocks.append(AdaINResBlock1(ch, k, d, style_dim))
            if i + 1 < len(rates):
                stride = math.prod(rates[i + 1 :])
                self.noise_convs.append(nn.Conv1d(n_fft + 2, ch, stride * 2, stride, padding=(stride + 1) // 2))
                self.noise_res.append(AdaINResBlock1(ch, 7, [1, 3, 5], style_dim))
            else:
                self.noise_convs.append(nn.Conv1d(n_fft + 2, ch, 1))
                self.noise_res.append(AdaINResBlock1(ch, 11, [1, 3, 5], style_dim))
        self.conv_post = nn.Conv1d(ch, n_fft + 2, 7, padding=3)
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)
        # From the export: its inverse-STFT basis and the window sum it divides the first samples by.
        self.register_buffer("istft_basis", torch.zeros(n_fft + 2, 1, n_fft))
        self.register_buffer("window_sum", torch.zeros(n_fft))

    def source(self, f0: Tensor, span: Span) -> Tensor:
        """The harmonic excitation (sines at F0 and its overtones, merged) at 24 kHz: [B, S]."""
        f0 = span.zero_padding(f0.unsqueeze(1)).squeeze(1)  # padding: F0 0, phase stays put
        up = self.samples_per_step
        harmonics = f0.unsqueeze(-1) * torch.arange(1, HARMONICS + 1, device=f0.device, dtype=f0.dtype)
        rad = harmonics / SAMPLE_RATE
        rad = rad - torch.floor(rad)
        # Phase in cycles, accumulated per step then spread linearly over the step's samples (as the
        # export's Resize does). Accumulating in float64 and keeping only the fraction keeps the
        # phase exact to ~1e-6 cycles; float32 would lose ~1e-2 rad on a few seconds of audio.
        cycles = torch.cumsum(rad.double(), dim=1) * up  # [B, L, H]
        start = (cycles - torch.floor(cycles)).float()
        step = F.pad((cycles[:, 1:] - cycles[:, :-1]).float(), (0, 0, 0, 1))  # to the next step
        pos = (torch.arange(f0.shape[1] * up, device=f0.device, dtype=torch.float64) + 0.5) / up - 0.5
        pos = pos.clamp(0, f0.shape[1] - 1)
        left = pos.floor().long()
        weight = (pos - left).float()[None, :, None]
        phase = start[:, left] + weight * step[:, left]  # [B, S, H] in cycles
        voiced = (f0 > VOICED_F0).to(phase.dtype).repeat_interleave(up, dim=1).unsqueeze(-1)
        sines = torch.sin(2 * math.pi * phase) * SINE_AMP * voiced
        return torch.tanh(self.source_linear(sines)).squeeze(-1)

    def spectrum(self, signal: Tensor, samples: Tensor, frames: Span) -> Tensor:
        """Magnitude and phase of the excitation's STFT, [B, n_fft + 2, frames].

        Phase is ``atan2`` of an FFT, as Kokoro's own TorchSTFT: where the excitation is silent the
        phase of its empty bins is numerical noise that the decoder still reads, and this choice
        lands closest to the export (docs/benchmarks.md: 0.07 spectral distance, vs 0.34 for a conv DFT).
        """
        padded = reflect_pad(signal, samples, self.n_fft // 2)
        spec = torch.stft(padded, self.n_fft, self.hop, window=self.window, center=False, return_complex=True)
        return frames.zero_padding(torch.cat([spec.abs(), torch.angle(spec)], dim=1)[..., : frames.size])

    def inverse(self, x: Tensor, frames: Span) -> Tensor:
        """Overlap-add inverse STFT as the export does it; [B, S] with S = hop * (frames - 1)."""
        half = self.n_fft // 2 + 1
        magnitude, phase = torch.exp(x[:, :half]), torch.sin(x[:, half:])
        z = frames.zero_padding(torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1))
        wave = F.conv_transpose1d(z, self.istft_basis, stride=self.hop).squeeze(1)
        head = wave.shape[1] if wave.shape[1] < self.n_fft else self.n_fft
        ws = self.window_sum[:head]
        scale = torch.where(ws > torch.finfo(torch.float32).tiny, 1 / ws, torch.ones_like(ws))
        wave = torch.cat([wave[:, :head] * scale, wave[:, head:]], dim=1) * (self.n_fft / self.hop)
        return wave[:, self.n_fft // 2 : -(self.n_fft // 2)]

    def forward(self, x: Tensor, style: Tensor, f0: Tensor, span: Span) -> Tensor:
        samples = span.lengths * self.samples_per_step
        har_frames = span.scaled(self.samples_per_step // self.hop, extra=1)
        with torch.autocast(x.device.type, enabled=False):  # phase accumulation needs float32
            har = self.spectrum(self.source(f0.float(), span), samples, har_frames)
        steps = span
        for i, up in enumerate(self.ups):
            x = F.leaky_relu(x, 0.1)
            last = i == len(self.ups) - 1
            steps_next = steps.scaled(self.rates[i], extra=1 if last else 0)
            source = self.noise_res[i](self.noise_convs[i](har), style, steps_next)
            x = up(steps.zero_padding(x))
            if last:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + source
            blocks = self.resblocks[i * 3 : (i + 1) * 3]
            x = sum(block(x, style, steps_next) for block in blocks) / len(blocks)
            steps = steps_next
        x = self.conv_post(steps.zero_padding(F.leaky_relu(x, 0.01)))
        with torch.autocast(x.device.type, enabled=False):
            return self.inverse(x.float(), steps)


class Decoder(nn.Module):
    def __init__(self, hidden: int, style_dim: int, istftnet: dict) -> None:
        super().__init__()
        self.encode = AdainResBlk1d(hidden + 2, 1024, style_dim)
        self.decode = nn.ModuleList(
            [AdainResBlk1d(1024 + 2 + 64, 1024, style_dim) for _ in range(3)]
            + [AdainResBlk1d(1024 + 2 + 64, 512, style_dim, upsample=True)]
        )
        self.F0_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.N_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.asr_res = nn.Conv1d(hidden, 64, 1)
        self.generator = Generator(
            style_dim,
            istftnet["resblock_kernel_sizes"],
            istftnet["upsample_rates"],
            istftnet["upsample_initial_channel"],
            istftnet["resblock_dilation_sizes"],
            istftnet["upsample_kernel_sizes"],
            istftnet["gen_istft_n_fft"],
            istftnet["gen_istft_hop_size"],
        )

    def forward(self, asr: Tensor, f0: Tensor, energy: Tensor, style: Tensor, frames: Span) -> Tensor:
        doubled = frames.scaled(2)
        f0_down = self.F0_conv(doubled.zero_padding(f0.unsqueeze(1)))
        n_down = self.N_conv(doubled.zero_padding(energy.unsqueeze(1)))
        x = self.encode(torch.cat([asr, f0_down, n_down], dim=1), style, frames)
        asr_res = self.asr_res(asr)
        for block in self.decode:
            x = block(torch.cat([x, asr_res, f0_down, n_down], dim=1), style, frames)
        return self.generator(x, style, f0, doubled)
