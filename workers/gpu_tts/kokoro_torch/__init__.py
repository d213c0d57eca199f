"""Kokoro-82M in PyTorch (StyleTTS2 family: ALBERT text encoder, prosody predictor, iSTFTNet
decoder), written for padded batches so one forward pass serves many requests."""

from workers.gpu_tts.kokoro_torch.layers import fused
from workers.gpu_tts.kokoro_torch.model import KOKORO_V1, BatchRow, KokoroModel, Synthesis, load_model

__all__ = ["KOKORO_V1", "BatchRow", "KokoroModel", "Synthesis", "fused", "load_model"]
