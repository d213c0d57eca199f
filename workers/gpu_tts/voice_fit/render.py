"""Kokoro renders whose audio stays a differentiable function of the style.

``KokoroModel.forward`` runs under ``torch.inference_mode`` (the TTS engine never needs a gradient),
so the fitter renders through ``KokoroModel.render``. Durations are rounded to whole frames and carry
no gradient: the prosody half of the style is still fitted through the F0 and energy curves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from workers.gpu_tts.kokoro_torch import KokoroModel


def differentiable_forward(
    model: KokoroModel, ids: Tensor, lengths: Tensor, styles: Tensor, speeds: Tensor
) -> tuple[Tensor, list[int]]:
    """``KokoroModel.render``: ids [B, T] (0-padded, with boundary tokens), lengths [B] on the CPU,
    styles [B, 256], speeds [B] -> (audio [B, S], samples per row)."""
    audio, samples, _ = model.render(ids, lengths, styles, speeds)
    return audio, samples.tolist()


class Sentences:
    """Fixed phonemised sentences, rendered for one or many packs in one padded batch.

    ``tokens`` are Kokoro ids without the boundary tokens; sentence k reads row ``len(tokens) - 1``
    of a pack (a pack holds one style per utterance length).
    """

    def __init__(self, tokens: Sequence[Sequence[int]], device: str | torch.device) -> None:
        self.ids = [[0, *t, 0] for t in tokens]
        self.rows = torch.tensor([len(t) - 1 for t in tokens], device=device)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return len(self.ids)

    def render(self, packs: Tensor, model: KokoroModel) -> tuple[Tensor, list[int], list[int]]:
        """packs [P, 510, 256] (or only the rows this set reads, indexed the same way) ->
        (audio [P * S, samples] at 24 kHz, samples per row, pack index of each row)."""
        p, s = packs.shape[0], len(self.ids)
        lengths = torch.tensor([len(x) for x in self.ids] * p)
        ids = torch.zeros(p * s, int(lengths.max()), dtype=torch.long)
        for r in range(p * s):
            ids[r, : len(self.ids[r % s])] = torch.tensor(self.ids[r % s])
        styles = packs[:, self.rows].reshape(p * s, -1)
        speeds = torch.ones(p * s, device=self.device)
        audio, samples = differentiable_forward(model, ids.to(self.device), lengths, styles, speeds)
        return audio, samples, [r // s for r in range(p * s)]


@contextlib.contextmanager
def lstms_training(*modules: nn.Module) -> Iterator[None]:
    """Put the LSTMs of ``modules`` in training mode for the block: cuDNN's LSTM backward refuses
    eval mode. Neither Kokoro nor GE2E has dropout, so outputs are unchanged; on the CPU the mode
    does not matter and nothing is switched."""
    lstms = [m for module in modules for m in module.modules() if isinstance(m, nn.LSTM)]
    on_cuda = any(p.is_cuda for m in lstms for p in m.parameters())
    before = [m.training for m in lstms]
    if on_cuda:
        for m in lstms:
            m.train()
    try:
        yield
    finally:
        if on_cuda:
            for m, mode in zip(lstms, before, strict=True):
                m.train(mode)
