"""Kokoro-82M as one PyTorch module that synthesises a padded batch of utterances at once.

Weights come from the shipped int8 ONNX export through ``workers.gpu_tts.convert``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from workers.gpu_tts.kokoro_torch.decoder import Decoder
from workers.gpu_tts.kokoro_torch.layers import Span
from workers.gpu_tts.kokoro_torch.text import Albert, ProsodyPredictor, TextEncoder, albert_dims, expand_to_frames

SAMPLES_PER_FRAME = 600  # 24 kHz audio, 40 duration frames per second

# Kokoro v1.0's architecture (its config.json without the phoneme vocabulary).
KOKORO_V1 = {
    "hidden_dim": 512,
    "style_dim": 128,
    "n_token": 178,
    "n_layer": 3,
    "max_dur": 50,
    "text_encoder_kernel_size": 5,
    "plbert": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 2048,
        "max_position_embeddings": 512,
        "num_hidden_layers": 12,
    },
    "istftnet": {
        "upsample_kernel_sizes": [20, 12],
        "upsample_rates": [10, 6],
        "gen_istft_hop_size": 5,
        "gen_istft_n_fft": 20,
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "resblock_kernel_sizes": [3, 7, 11],
        "upsample_initial_channel": 512,
    },
}


@dataclass
class BatchRow:
    """One row of the model's padded batch: phoneme ids (with the 0 boundary tokens), a 256-d style,
    a speed. ``synthesize`` reads only these fields, so the engine's ``backends.Utterance`` (a window
    of text to speak, made without torch) is passed as is."""

    ids: list[int]
    style: Tensor | np.ndarray  # [256] (or [1, 256])
    speed: float = 1.0


@dataclass
class DecoderInputs:
    """The decoder's inputs for a padded batch: phoneme features repeated over their frames (40 per
    second), F0 (Hz) and energy at twice that rate, the frames' span, and frames per phoneme."""

    asr: Tensor  # [B, 512, F]
    f0: Tensor  # [B, 2F]
    energy: Tensor  # [B, 2F]
    frames: Span
    durations: Tensor  # [B, T]


@dataclass
class Synthesis:
    audio: Tensor  # [samples] float32
    durations: Tensor  # [tokens] frames per phoneme


class KokoroModel(nn.Module):
    def __init__(self, config: dict = KOKORO_V1) -> None:
        super().__init__()
        hidden, style_dim, vocab = config["hidden_dim"], config["style_dim"], config["n_token"]
        self.style_dim = style_dim
        self.max_tokens = config["plbert"]["max_position_embeddings"]
        self.bert = Albert(vocab, **albert_dims(config["plbert"]))
        self.bert_encoder = nn.Linear(config["plbert"]["hidden_size"], hidden)
        self.predictor = ProsodyPredictor(style_dim, hidden, config["n_layer"], config["max_dur"])
        self.text_encoder = TextEncoder(hidden, config["text_encoder_kernel_size"], config["n_layer"], vocab)
        self.decoder = Decoder(hidden, style_dim, config["istftnet"])

    @property
    def device(self) -> torch.device:
        return self.bert_encoder.weight.device

    @torch.inference_mode()
    def forward(self, ids: Tensor, lengths: Tensor, styles: Tensor, speeds: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """ids [B, T] (0-padded), lengths [B] (on the CPU), styles [B, 256], speeds [B] ->
        (audio [B, S] padded, samples per row [B], durations [B, T])."""
        return self.render(ids, lengths, styles, speeds)

    def render(self, ids: Tensor, lengths: Tensor, styles: Tensor, speeds: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``forward`` outside inference mode: the voice fitter's audio stays a differentiable
        function of the style (durations are whole frames and carry no gradient)."""
        inputs = self.decoder_inputs(ids, lengths, styles, speeds)
        audio = self.decode(inputs, styles)
        return audio, inputs.frames.host_lengths * SAMPLES_PER_FRAME, inputs.durations

    def decoder_inputs(self, ids: Tensor, lengths: Tensor, styles: Tensor, speeds: Tensor) -> DecoderInputs:
        """Everything the decoder is given for these phonemes in these voices: what the voice
        changer's content encoder learns to read back from audio."""
        tokens = Span.of(lengths, ids.device, ids.shape[1])
        prosody_style = styles[:, self.style_dim :]
        bert = self.bert(ids, tokens)
        d = self.predictor.text_encoder(self.bert_encoder(bert), prosody_style, tokens)  # [B, T, C]
        durations = self.predictor.durations(d, speeds, tokens)

        en, frames = expand_to_frames(d.transpose(1, 2), durations)
        f0, energy = self.predictor.curves(en, prosody_style, frames)
        asr, _ = expand_to_frames(self.text_encoder(ids, tokens), durations)
        return DecoderInputs(asr, f0, energy, frames, durations)

    def decode(self, inputs: DecoderInputs, styles: Tensor) -> Tensor:
        """The waveform [B, frames * SAMPLES_PER_FRAME] for decoder inputs in voices ``styles`` [B, 256]
        (only the first half, the decoder's style, is read)."""
        return self.decoder(inputs.asr, inputs.f0, inputs.energy, styles[:, : self.style_dim], inputs.frames)

    def synthesize(self, batch: Sequence[BatchRow], half: torch.dtype | None = None) -> list[Synthesis]:
        """Run utterances of any lengths as one padded batch; each gets exactly its own audio.

        ``half`` (torch.float16 or torch.bfloat16) runs matmuls and convolutions under autocast;
        norms, the harmonic source and the STFTs stay in float32.
        """
        device = self.device
        lengths = torch.tensor([len(u.ids) for u in batch])
        ids = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
        for row, u in enumerate(batch):
            ids[row, : len(u.ids)] = torch.tensor(u.ids)
        ids = ids.to(device)
        styles = torch.stack([torch.as_tensor(np.asarray(u.style, np.float32)).reshape(-1) for u in batch])
        styles = styles.to(device)
        speeds = torch.tensor([u.speed for u in batch], device=device, dtype=torch.float32)
        with torch.autocast(device.type, dtype=half or torch.float32, enabled=half is not None):
            audio, samples, durations = self(ids, lengths, styles, speeds)
        audio, samples, durations = audio.float().cpu(), samples.cpu(), durations.cpu()
        return [
            Synthesis(audio[row, : samples[row]].clone(), durations[row, : len(u.ids)].clone())
            for row, u in enumerate(batch)
        ]


def load_model(weights: Path, device: str = "cpu") -> KokoroModel:
    """Build the module and load a converted state dict (strict: every tensor must be there)."""
    model = KokoroModel()
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()
