"""Voice conversion through Kokoro's own decoder: the target voice says the source's words.

1. The content encoder (``content``) reads, from the source's log-mel frames, what Kokoro's
   decoder would have been given to say it: the phoneme of each 25 ms frame (Kokoro's own text
   encoder turns that sequence into the decoder's phoneme features), F0 and energy.
2. F0 is tracked in the source (DIO + StoneMask) and keeps its contour; its level and range move
   to the target voice's (measured once per voice by Kokoro's own prosody predictor on a few
   sentences), plus the user's pitch shift.
3. Kokoro's decoder renders those inputs with the target's style: the voice's own renderer, so
   any stock, blended or fitted voice is a target at once, with no per-voice profile.

Long clips are read in overlapping windows and rendered in segments of about 10 s cut at the
quietest frame nearby, joined with a short cross-fade. Runs on CUDA when present, else the CPU.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from workers.gpu_tts.kokoro_torch.layers import Span
from workers.gpu_tts.kokoro_torch.model import SAMPLES_PER_FRAME, DecoderInputs, KokoroModel, load_model
from workers.gpu_tts.kokoro_torch.text import expand_to_frames
from workers.gpu_vc.content.encoder import ContentEncoder, load_encoder
from workers.gpu_vc.content.mel import LogMel
from workers.gpu_vc.conversion import VC_RATE, Conversion, UnknownVoice, limit_peak

if TYPE_CHECKING:  # these need the studio's settings; the GPU bench runs without them
    from studio.voices import VoiceRecipe
    from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks

ENCODER_WEIGHTS = Path(__file__).parent / "content" / "weights" / "content_encoder.pt"
VOICED_F0 = 30.0  # Hz: frames above are voiced for the pitch statistics
VOICED_DECODER = 10.0  # Hz: the decoder's own voicing threshold (kokoro_torch.decoder)
ENCODE_WINDOW = 1200  # frames (30 s) read at once, plus CONTEXT on each side
RENDER_SEGMENT = 400  # frames (10 s) rendered at once, plus CONTEXT on each side
CONTEXT = 40  # frames (1 s)
CUT_SEARCH = 80  # frames either side of a segment boundary searched for the quietest frame
CROSSFADE = 120  # samples either side of a cut (10 ms in all)
MIN_VOICED_FRAMES = 20  # half a second of voiced speech at the F0 rate
SWITCH_PENALTY = 0.0  # nats per change of phoneme when decoding frames: 0 is argmax (``decode_phonemes``)
PITCH_REFERENCE = (  # the target's pitch level and range come from Kokoro saying these
    "A quiet morning walk along the river helps me think clearly about the day ahead.",
    "Would you like to come with us to the museum on Saturday?",
    "The results were surprising, and nobody in the room said a word.",
)

Progress = Callable[[int, int], None]
Tokenize = Callable[[str, str], list[int]]


def pitch_stats(f0: Tensor) -> tuple[float, float]:
    """Mean and spread of log F0 over voiced steps; ValueError when there is too little voice."""
    voiced = f0[f0 > VOICED_F0]
    if voiced.numel() < MIN_VOICED_FRAMES:
        raise ValueError("too little voiced speech")
    lf0 = torch.log(voiced.double())
    return float(lf0.mean()), float(lf0.std().clamp(min=0.02))


def map_pitch(f0: Tensor, source: tuple[float, float], target: tuple[float, float], semitones: float) -> Tensor:
    """The source contour on the target's level and range; steps below the decoder's voicing
    threshold stay as they are (unvoiced)."""
    ratio = min(max(target[1] / source[1], 0.6), 1.6)
    lf0 = torch.log(f0.clamp(min=1.0).double())
    mapped = torch.exp(target[0] + (lf0 - source[0]) * ratio + semitones * math.log(2) / 12).to(f0.dtype)
    return torch.where(f0 > VOICED_DECODER, mapped, f0)


def source_pitch(samples: np.ndarray, predicted: Tensor) -> Tensor:
    """The source's F0 at the decoder's F0 rate (two steps per frame) from DIO + StoneMask, a
    pitch tracker that works on any voice (the encoder's own F0 head is reliable only on voices
    like its training renders); unvoiced steps take the head's low value, as Kokoro's curves have."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    coarse, times = pyworld.dio(x, VC_RATE, frame_period=1000 * SAMPLES_PER_FRAME / 2 / VC_RATE)
    tracked = torch.as_tensor(pyworld.stonemask(x, coarse, times, VC_RATE), dtype=torch.float32)
    tracked = torch.nn.functional.pad(tracked, (0, max(0, len(predicted) - len(tracked))))[: len(predicted)]
    tracked = tracked.to(predicted.device)
    return torch.where(tracked > 0, tracked, predicted.clamp(max=VOICED_DECODER - 2.0))


def decode_phonemes(log_probs: Tensor, switch_penalty: float = SWITCH_PENALTY) -> Tensor:
    """The most likely phoneme per frame [F] from the encoder's log-probabilities [VOCAB, F], where
    each change of phoneme costs ``switch_penalty`` (nats): a Viterbi pass over a one-state-per-
    phoneme chain. Frame-wise argmax (penalty 0) flickers where two phonemes are close, and every
    flicker becomes a phoneme of its own that Kokoro's text encoder turns into a sound; the penalty
    keeps a short run only when the evidence for it outweighs the cost of two switches. The frame
    count, hence the source's timing, is unchanged. Measured on the second model (docs/benchmarks.md):
    1 nat lowered the phoneme error rate a little (0.315 -> 0.305) but raised the bench's WER
    (0.458 -> 0.524): short runs are often real phonemes. So ``SWITCH_PENALTY`` is 0 (argmax)."""
    cost = -log_probs.float().cpu()
    if switch_penalty <= 0:
        return cost.argmin(0).to(log_probs.device)
    vocab, frames = cost.shape
    total = cost[:, 0].clone()
    came_from = torch.empty(vocab, frames, dtype=torch.long)  # best predecessor of each state
    stay = torch.arange(vocab)
    for t in range(1, frames):
        best = int(total.argmin())
        switch = total[best] + switch_penalty
        keep = total <= switch
        came_from[:, t] = torch.where(keep, stay, best)
        total = torch.where(keep, total, switch) + cost[:, t]
    labels = torch.empty(frames, dtype=torch.long)
    labels[-1] = int(total.argmin())
    for t in range(frames - 1, 0, -1):
        labels[t - 1] = came_from[labels[t], t]
    return labels.to(log_probs.device)


def phoneme_runs(labels: Tensor) -> tuple[Tensor, Tensor]:
    """Per-frame phoneme labels [F] -> the phoneme sequence and frames per phoneme, as Kokoro's
    duration predictor would have given them."""
    change = torch.ones_like(labels, dtype=torch.bool)
    change[1:] = labels[1:] != labels[:-1]
    starts = torch.nonzero(change).squeeze(1)
    ends = torch.cat([starts[1:], torch.tensor([len(labels)], device=labels.device)])
    return labels[starts], ends - starts


def pitch_key(voice: SpeakingVoice) -> tuple[str, str]:
    """What the target-pitch cache is keyed by: the pack's contents (a digest) and language. Not
    ``id(pack)``: an id is reused once its pack is garbage-collected (evicted from ``VoicePacks``'
    cache, say), so another voice would get the stale pitch; a refitted voice gets a new digest."""
    digest = hashlib.blake2b(np.ascontiguousarray(voice.pack, dtype=np.float32).tobytes(), digest_size=16)
    return digest.hexdigest(), voice.lang


def cut_points(energy: Tensor, frames: int) -> list[int]:
    """Segment boundaries (frames) about every RENDER_SEGMENT frames, each at the quietest frame
    within CUT_SEARCH of the even boundary (``energy`` is at twice the frame rate)."""
    per_frame = energy[: 2 * frames].reshape(frames, 2).mean(1)
    cuts, start = [0], 0
    while frames - start > RENDER_SEGMENT + CUT_SEARCH:
        lo, hi = start + RENDER_SEGMENT - CUT_SEARCH, start + RENDER_SEGMENT + CUT_SEARCH
        start = lo + int(per_frame[lo:hi].argmin())
        cuts.append(start)
    cuts.append(frames)
    return cuts


class KokoroConverter:
    name = "kokoro-decoder"
    needs_reference = False  # no per-voice profile: the style pack is all a target needs

    def __init__(
        self, kokoro: KokoroModel, encoder: ContentEncoder, tokenize: Tokenize, packs: VoicePacks | None = None
    ) -> None:
        self.kokoro, self.encoder, self.tokenize, self.packs = kokoro, encoder, tokenize, packs
        self.device = kokoro.device
        self.mel = LogMel().to(self.device)
        self.switch_penalty = SWITCH_PENALTY
        self._pitch: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Nothing to load: the models loaded with the converter."""

    def style(self, voice: SpeakingVoice, frames: int) -> Tensor:
        """The decoder's style for a stretch of ``frames`` frames (a pack row per phoneme count;
        English runs at about three frames a phoneme)."""
        row = min(max(frames // 3, 1), len(voice.pack)) - 1
        return torch.as_tensor(np.asarray(voice.pack[row], np.float32).reshape(1, -1), device=self.device)

    @torch.inference_mode()
    def target_pitch(self, voice: SpeakingVoice) -> tuple[float, float]:
        """The target voice's log-F0 mean and spread, from Kokoro's predictor (cached per pack)."""
        key = pitch_key(voice)
        with self._lock:
            if key in self._pitch:
                return self._pitch[key]
        ids = [[0, *self.tokenize(text, voice.lang), 0] for text in PITCH_REFERENCE]
        lengths = torch.tensor([len(i) for i in ids])
        padded = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
        for row, i in enumerate(ids):
            padded[row, : len(i)] = torch.tensor(i)
        styles = torch.cat([self.style(voice, 3 * (len(i) - 2)) for i in ids])
        speeds = torch.ones(len(ids), device=self.device)
        inputs = self.kokoro.decoder_inputs(padded.to(self.device), lengths, styles, speeds)
        f0 = torch.cat([inputs.f0[r, : 2 * int(n)] for r, n in enumerate(inputs.frames.host_lengths)])
        stats = pitch_stats(f0.float().cpu())
        with self._lock:
            self._pitch[key] = stats
            while len(self._pitch) > 256:
                self._pitch.popitem(last=False)
        return stats

    @torch.inference_mode()
    def read(self, samples: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        """The content encoder over the whole clip in overlapping windows: the decoder's phoneme
        features (Kokoro's text encoder over the recognised phonemes) [512, F], F0 [2F], energy [2F]."""
        audio = torch.as_tensor(samples, dtype=torch.float32, device=self.device)
        frames = len(samples) // SAMPLES_PER_FRAME
        tokens, f0, energy = [], [], []
        for start in range(0, frames, ENCODE_WINDOW):
            lo, hi = max(start - CONTEXT, 0), min(start + ENCODE_WINDOW + CONTEXT, frames)
            piece = audio[lo * SAMPLES_PER_FRAME : hi * SAMPLES_PER_FRAME][None]
            content = self.encoder(self.mel(piece, torch.tensor([piece.shape[1]], device=self.device)),
                                   torch.tensor([hi - lo], device=self.device))  # fmt: skip
            keep = slice(start - lo, min(start + ENCODE_WINDOW, frames) - lo)
            tokens.append(torch.log_softmax(content.tokens[0, :, keep].float(), 0))
            f0.append(content.f0[0, 2 * keep.start : 2 * keep.stop])
            energy.append(content.energy[0, 2 * keep.start : 2 * keep.stop])
        ids, durations = phoneme_runs(decode_phonemes(torch.cat(tokens, 1), self.switch_penalty))
        span = Span.of(torch.tensor([len(ids)]), self.device)
        asr, _ = expand_to_frames(self.kokoro.text_encoder(ids[None], span), durations[None])
        return asr[0].float(), torch.cat(f0).float(), torch.cat(energy).float()

    @torch.inference_mode()
    def render(self, asr: Tensor, f0: Tensor, energy: Tensor, voice: SpeakingVoice, lo: int, hi: int) -> Tensor:
        """Frames [lo, hi) rendered (with CONTEXT on each side, trimmed) plus CROSSFADE samples each side."""
        a, b = max(lo - CONTEXT, 0), min(hi + CONTEXT, asr.shape[1])
        frames = Span.of(torch.tensor([b - a]), self.device)
        inputs = DecoderInputs(asr[None, :, a:b], f0[None, 2 * a : 2 * b], energy[None, 2 * a : 2 * b], frames, None)
        audio = self.kokoro.decode(inputs, self.style(voice, hi - lo))[0]
        start = (lo - a) * SAMPLES_PER_FRAME - (CROSSFADE if lo > 0 else 0)
        stop = (hi - a) * SAMPLES_PER_FRAME + (CROSSFADE if hi < asr.shape[1] else 0)
        return audio[start:stop].float()

    def convert(
        self,
        samples: np.ndarray,
        rate: int,
        voice: str,
        pitch: float = 0.0,
        formant: float | None = None,
        progress: Progress | None = None,
        recipe: VoiceRecipe | None = None,
    ) -> Conversion:
        """The engine interface (``workers.gpu_vc.engine``): ``voice`` is a stock voice id, or a
        user's voice with its ``recipe`` (a blend, or a fitted pack in the object store). There is
        no formant shift here: the target's own decoder style sets the timbre."""
        if self.packs is None:
            raise RuntimeError("this converter was built without voice packs: call convert_to")
        try:
            target = self.packs.resolve(voice, recipe)
        except (KeyError, ValueError) as exc:
            raise UnknownVoice(str(exc)) from exc
        return self.convert_to(samples, rate, target, pitch, progress)

    @torch.inference_mode()
    def convert_to(
        self,
        samples: np.ndarray,
        rate: int,
        voice: SpeakingVoice,
        pitch: float = 0.0,
        progress: Progress | None = None,
    ) -> Conversion:
        """Convert mono float samples at ``rate`` (must be VC_RATE) into ``voice``; ValueError when
        the clip holds too little voiced speech."""
        assert rate == VC_RATE, "decode the source at VC_RATE first"
        report = progress or (lambda done, total: None)
        frames = len(samples) // SAMPLES_PER_FRAME
        if frames < 8:
            raise ValueError("the clip is too short")
        asr, predicted_f0, energy = self.read(samples)
        f0 = source_pitch(samples, predicted_f0)
        target = self.target_pitch(voice)
        f0 = map_pitch(f0, pitch_stats(f0.cpu()), target, pitch)
        cuts = cut_points(energy.cpu(), frames)
        total = len(cuts)
        report(1, total)
        out = torch.zeros(frames * SAMPLES_PER_FRAME, device=self.device)
        fade = torch.linspace(0, 1, 2 * CROSSFADE, device=self.device)
        for i, (lo, hi) in enumerate(itertools.pairwise(cuts)):
            piece = self.render(asr, f0, energy, voice, lo, hi)
            start = lo * SAMPLES_PER_FRAME - (CROSSFADE if lo > 0 else 0)
            if lo > 0:
                piece[: 2 * CROSSFADE] *= fade
                out[start : start + 2 * CROSSFADE] *= 1 - fade
            out[start : start + len(piece)] += piece
            report(i + 2, total)
        converted = np.concatenate([out.cpu().numpy(), np.zeros(len(samples) - len(out), np.float32)])
        limit_peak(converted)
        return Conversion(converted, rate, 1.0, None, None)


def espeak_tokenizer() -> Tokenize:
    """Kokoro token ids for a text (espeak, one call at a time: it is process-global)."""
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.engine import vocabulary

    tokenizer, lock = Tokenizer(vocab=vocabulary()), threading.Lock()

    def tokenize(text: str, lang: str) -> list[int]:
        with lock:
            return tokenizer.tokenize(" ".join(tokenizer.phonemize(text, lang).split()))

    return tokenize


def load_converter(
    weights: Path, device: str, tokenize: Tokenize, encoder: Path = ENCODER_WEIGHTS, packs: VoicePacks | None = None
) -> KokoroConverter:
    """Kokoro (the TTS worker's converted weights) and the content encoder, on ``device``."""
    kokoro = load_model(weights, device)
    return KokoroConverter(kokoro, load_encoder(encoder, device), tokenize, packs)


def kokoro_converter(device: str) -> KokoroConverter:
    """The worker's converter: Kokoro's assets (from packages, as the TTS worker has them), the
    stock voice packs and users' voices from the object store."""
    from studio.storage import get_store
    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
    from workers.gpu_tts.voice_packs import VoicePacks

    model, voices = ensure_assets()
    packs = VoicePacks(dict(np.load(voices)), get_store())
    return load_converter(ensure_torch_weights(model), device, espeak_tokenizer(), packs=packs)
