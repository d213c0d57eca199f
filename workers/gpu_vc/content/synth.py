"""Training batches made by Kokoro on the fly: audio plus the exact decoder inputs behind it.

Each row is a generated sentence in a voice no pack has: a random blend of one to three training
packs (all languages), at a random speed, with its F0 contour scaled (about -9 to +9 semitones)
so pitch alone never identifies content. Targets are what the decoder was given, so every frame's
label is exact. Everything runs on the model's device, under ``torch.inference_mode``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from workers.gpu_tts.kokoro_torch.model import SAMPLES_PER_FRAME, DecoderInputs, KokoroModel
from workers.gpu_tts.kokoro_torch.text import expand_to_frames

VOICED_F0 = 10.0  # the decoder's own threshold (kokoro_torch.decoder)
F0_SCALE_RANGE = (0.6, 1.7)
SPEED_RANGE = (0.8, 1.25)


@dataclass
class Batch:
    audio: Tensor  # [B, S] float32 at 24 kHz
    samples: Tensor  # [B] real length of each row
    asr: Tensor  # [B, 512, F]
    f0: Tensor  # [B, 2F] Hz
    energy: Tensor  # [B, 2F]
    frames: Tensor  # [B] real frames
    tokens: Tensor  # [B, F] the phoneme token each frame belongs to


class Corpus:
    """``corpus.npz`` (``workers.gpu_vc.content.corpus``) on a device: sentences and voice packs."""

    def __init__(self, path: Path, device: torch.device) -> None:
        data = np.load(path)
        self.ids, self.offsets = data["ids"].astype(np.int64), data["offsets"]
        self.voices = [str(v) for v in data["voices"]]
        self.held_out = data["held_out"]
        self.pack_rows = torch.as_tensor(data["pack_rows"], device=device)
        self.packs = torch.as_tensor(data["packs"].astype(np.float32), device=device)  # [V, R, 256]
        self.device = device

    def sentence(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def styles(self, voices: Tensor, weights: Tensor, tokens: Tensor) -> Tensor:
        """Blended styles [B, 256]: voices/weights [B, K], each row at its pack row for ``tokens``."""
        row = torch.searchsorted(self.pack_rows, (tokens - 1).to(self.device)).clamp(max=len(self.pack_rows) - 1)
        chosen = self.packs[voices, row[:, None]]  # [B, K, 256]
        return (chosen * weights[..., None]).sum(1)


def random_voices(corpus: Corpus, n: int, held_out: bool, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """n blends of 1-3 packs from the training (or held-out) voices: (indices [n, 3], weights [n, 3])."""
    pool = torch.as_tensor(np.flatnonzero(corpus.held_out == held_out))
    voices = pool[torch.randint(len(pool), (n, 3), generator=gen)]
    weights = -torch.log(torch.rand(n, 3, generator=gen).clamp(min=1e-6))  # normalised: Dirichlet(1, 1, 1)
    used = torch.randint(1, 4, (n,), generator=gen)
    weights = torch.where(torch.arange(3)[None, :] < used[:, None], weights, 0.0)
    return voices.to(corpus.device), (weights / weights.sum(1, keepdim=True)).to(corpus.device)


def uniform(n: int, low: float, high: float, gen: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


@torch.inference_mode()
def make_batch(model: KokoroModel, corpus: Corpus, size: int, gen: torch.Generator, held_out: bool = False) -> Batch:
    """``size`` random sentences rendered in random voices, with their decoder inputs."""
    device = model.device
    rows = torch.randint(len(corpus.offsets) - 1, (size,), generator=gen).tolist()
    sentences = [corpus.sentence(i) for i in rows]
    lengths = torch.tensor([len(s) + 2 for s in sentences])  # with the boundary tokens
    ids = torch.zeros(size, int(lengths.max()), dtype=torch.long)
    for r, s in enumerate(sentences):
        ids[r, 1 : len(s) + 1] = torch.as_tensor(s)
    voices, weights = random_voices(corpus, size, held_out, gen)
    styles = corpus.styles(voices, weights, lengths - 2)
    speeds = uniform(size, *SPEED_RANGE, gen).to(device)
    inputs = model.decoder_inputs(ids.to(device), lengths, styles, speeds)
    scale = torch.exp(uniform(size, *map(math.log, F0_SCALE_RANGE), gen)).to(device)
    f0 = torch.where(inputs.f0 > VOICED_F0, inputs.f0 * scale[:, None], inputs.f0)
    shifted = DecoderInputs(inputs.asr, f0, inputs.energy, inputs.frames, inputs.durations)
    audio = model.decode(shifted, styles)
    frames = inputs.frames.lengths
    tokens, _ = expand_to_frames(ids.to(device)[:, None].float(), inputs.durations)
    return Batch(
        audio.float(), frames * SAMPLES_PER_FRAME, inputs.asr.float(), f0.float(), inputs.energy.float(), frames,
        tokens[:, 0].long(),
    )  # fmt: skip
