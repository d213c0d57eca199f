"""Fit a Kokoro voice (a style pack) to a recording of one speaker.

A Kokoro voice is a pack of 510 styles of 256 values (row i: the style for an utterance of i + 1
phoneme tokens; values 0..127 drive the decoder's timbre, 128..255 the prosody predictor). No
cloning model exists offline, but the torch Kokoro is differentiable in the style, and so is a
torch port of resemblyzer's GE2E speaker encoder (``speaker.py``). So a fit is:

1. the recording's speaker embedding (speech only: long silences cut, ``recording.speech``), and
   its bandwidth: a narrow-band (telephone) recording is compared with renders low-passed the same
   way everywhere below, so the fit does not chase the missing treble;
2. nearest stock voices: every stock voice says the probe sentences once (cached per fitter: the
   one-off cost of a fitter's first fit), cosine to the recording;
3. the start: the best of a few blends of the nearest voices (top 1, similarity-softmax,
   uniform top k), rendered in one batch;
4. Adam on a low-dimensional offset of that blend: 24 principal directions of the stock packs
   (16 timbre, 8 prosody, each one stock-voice standard deviation long, over all 510 rows, so
   every utterance length moves consistently) plus one free 256-d offset added to every row (in
   units of the stock voices' spread). Objective: cosine(embedding of the probe renders, target)
   minus 0.02 x mean squared coefficient, which keeps the voice near the space of real voices.
   Each step renders the probe sentences once, forward and backward. The best pack by objective
   is kept; the pack is clamped to the stock voices' value range (per style dimension).

Why these choices: ``docs/benchmarks.md``, "Voice fitting spike" (gradient descent beat a CMA-ES
population search at every budget; ~50-100 steps reach most of the held-out gain) and "Voice
fitting" (the product fitter measured on held-out speech with an independent encoder).

Deterministic: no random numbers (CUDA kernels may still differ in the last bits between runs).
One fit at a time per process (a lock): a fit holds the GPU and switches the LSTMs of the shared
model to training mode for its backward passes (no effect on outputs; see ``render.lstms_training``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from workers.gpu_tts.kokoro_torch import KokoroModel
from workers.gpu_tts.voice_fit.recording import band_edge, speech
from workers.gpu_tts.voice_fit.render import Sentences, lstms_training
from workers.gpu_tts.voice_fit.speaker import RENDER_RATE, SpeakerEncoder, speaker_encoder

# What candidate voices say while fitting: varied phonetics (all English vowels, fricatives,
# affricates, nasals, clusters), a question and an exclamation. The first two are the shortest
# rich ones, for small budgets.
PROBE_SENTENCES = (
    "Which jobs would you choose, the farm or the shop?",
    "She thought the weather was much warmer than usual.",
    "Bright yellow boats drift slowly past the harbor wall.",
    "Could you measure the voltage before you plug it in?",
    "The judge gave a quiet, thoughtful answer to each question.",
    "We'll need three more chairs for the evening meeting!",
    "A sudden gust of wind pushed the heavy door wide open.",
    "Everyone enjoyed the fresh fruit and the cheese platter.",
)
N_TIMBRE, N_PROSODY = 16, 8
PENALTY = 0.02
LEARNING_RATE = 0.05
TOP = 5  # nearest stock voices that blends are made of
BLENDS = ("top1", "softmax0.05", "uniform2", "uniform3", "softmax0.02", "uniform5", "uniform4", "softmax0.01")
RANGE_MARGIN = 0.1  # the clamp allows 10 % of each dimension's stock range beyond it
ROWS_PER_BATCH = {"cuda": 48, "cpu": 8}  # renders per forward pass when embedding the stock voices
LOWPASS_TAPS = 129  # FIR that makes renders sound like a narrow-band recording


class FitCancelled(Exception):
    """``should_stop`` asked the fit to stop."""


@dataclass(frozen=True)
class FitBudget:
    """What a fit may spend: optimisation steps, probe sentences rendered per step (and per stock
    voice, once), blends tried for the start, and an optional wall-clock cap on the whole ``fit``
    call (checked before each step, with the last step's duration as the forecast)."""

    steps: int
    probe_sentences: int
    blend_candidates: int
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.steps < 0 or not 1 <= self.probe_sentences <= len(PROBE_SENTENCES):
            raise ValueError(f"bad budget {self}")
        if not 1 <= self.blend_candidates <= len(BLENDS):
            raise ValueError(f"bad budget {self}")


# Measured (docs/benchmarks.md, "Voice fitting"): on an H200 a step of 8 sentences takes ~0.22 s,
# so 120 steps 25-34 s, plus the stock voices 2 s once. On 2 idle CPU cores a step of 2 sentences
# takes ~5 s and the stock voices ~2.2 min once: a first fit 6 min. On a loaded CPU (load 4 on 2
# cores) steps took 13-57 s; the cap, which covers the stock voices when a fit embeds them, then
# ends the fit early (24 steps measured) inside 15 minutes.
GPU_BUDGET = FitBudget(steps=120, probe_sentences=8, blend_candidates=8, seconds=110.0)
CPU_BUDGET = FitBudget(steps=40, probe_sentences=2, blend_candidates=3, seconds=780.0)


@dataclass
class FittedVoice:
    pack: np.ndarray  # [510, 1, 256] float32, same layout as a stock pack
    lang: str  # "en-us" or "en-gb": the accent of the nearest stock voices
    nearest: list[tuple[str, float]]  # stock voices by GE2E cosine to the recording, best first
    start_blend: dict[str, float]  # voice id -> weight of the start
    start_similarity: float  # GE2E cosine of the start's probe renders to the recording
    similarity: float  # the same for the fitted pack (the fitting encoder's, not an independent one)
    steps: int
    seconds: float
    history: list[float] = field(default_factory=list)  # best similarity after each step
    band: float | None = None  # Hz: the recording was narrow-band; renders were compared low-passed


def lang_of(voice_id: str) -> str:
    return "en-gb" if voice_id.startswith("b") else "en-us"


def pca_directions(packs: np.ndarray, half: slice, k: int) -> np.ndarray:
    """[k, 510, 256]: principal directions of the packs' ``half`` (the other half zero), each
    scaled to one standard deviation of the voices along it. ``packs`` is [V, 510, 256]."""
    x = packs[:, :, half].reshape(len(packs), -1).astype(np.float64)
    x = x - x.mean(0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(k, len(packs) - 1)
    scale = s[:k] / np.sqrt(max(1, len(packs) - 1))
    out = np.zeros((k, packs.shape[1], packs.shape[2]), np.float32)
    out[:, :, half] = (vt[:k] * scale[:, None]).reshape(k, packs.shape[1], -1)
    return out


def blend_weights(name: str, order: np.ndarray, sims: np.ndarray) -> dict[int, float]:
    """Stock index -> weight for one of BLENDS, from the voices ordered by similarity."""
    top = order[:TOP]
    if name == "top1":
        return {int(top[0]): 1.0}
    if name.startswith("uniform"):
        k = min(int(name[len("uniform") :]), len(top))
        return {int(i): 1.0 / k for i in top[:k]}
    temperature = float(name[len("softmax") :])
    w = np.exp((sims[top] - sims[top[0]]) / temperature)
    return {int(i): float(x) for i, x in zip(top, w / w.sum(), strict=True)}


_FIT_LOCK = threading.Lock()


class VoiceFitter:
    """Fits voices against one set of stock packs; holds their probe embeddings once computed.

    ``model``: ``workers.gpu_tts.kokoro_torch.load_model(weights, device)``; its parameters are
    frozen here (``requires_grad_(False)``: the fit differentiates only the style). ``phonemize(
    text, lang)`` returns Kokoro token ids without boundary tokens (production passes the TTS
    engine's, which holds espeak's process-wide lock). ``encoder`` defaults to the process's
    GE2E (``speaker.speaker_encoder(device)``).
    """

    def __init__(
        self,
        model: KokoroModel,
        stock_packs: Mapping[str, np.ndarray],
        phonemize: Callable[[str, str], list[int]],
        device: str,
        *,
        encoder: SpeakerEncoder | None = None,
    ) -> None:
        if len(stock_packs) < 2:
            raise ValueError("a fit needs at least two stock voices")
        self.model = model.requires_grad_(False)
        self.device = torch.device(device)
        self.encoder = encoder if encoder is not None else speaker_encoder(device)
        self.names = list(stock_packs)
        packs = np.stack([np.asarray(stock_packs[v], np.float32).reshape(-1, 256) for v in self.names])
        self.packs = torch.from_numpy(packs).to(self.device)  # [V, 510, 256]
        directions = np.concatenate(
            [pca_directions(packs, slice(0, 128), N_TIMBRE), pca_directions(packs, slice(128, 256), N_PROSODY)]
        )
        self.directions = torch.from_numpy(directions).to(self.device)  # [D, 510, 256]
        self.spread = torch.from_numpy(packs.std(0).mean(0)).to(self.device)  # [256]
        lo, hi = packs.min((0, 1)), packs.max((0, 1))
        margin = RANGE_MARGIN * (hi - lo)
        self.lo = torch.from_numpy(lo - margin).to(self.device)
        self.hi = torch.from_numpy(hi + margin).to(self.device)
        self.tokens = {lang: [list(phonemize(text, lang)) for text in PROBE_SENTENCES] for lang in ("en-us", "en-gb")}
        self._stock: dict[tuple[int, float | None], Tensor] = {}  # (probe count, band) -> [V, 256]
        self._lowpass: dict[float, Tensor] = {}
        self._stock_lock = threading.Lock()

    # ----------------------------------------------------------------------------------------
    def probe(self, lang: str, count: int) -> Sentences:
        return Sentences(self.tokens[lang][:count], self.device)

    def _rows_per_batch(self) -> int:
        return ROWS_PER_BATCH["cuda" if self.device.type == "cuda" else "cpu"]

    def heard(self, audio: Tensor, band: float | None) -> Tensor:
        """Renders [B, S] at 24 kHz as the recording was heard: low-passed at ``band`` Hz (a
        narrow-band recording, ``recording.band_edge``), else as they are."""
        if band is None:
            return audio
        if band not in self._lowpass:
            from scipy.signal import firwin

            taps = firwin(LOWPASS_TAPS, 0.95 * band, window=("kaiser", 8.0), fs=RENDER_RATE).astype(np.float32)
            self._lowpass[band] = torch.from_numpy(taps[::-1].copy()).to(self.device).view(1, 1, -1)
        kernel = self._lowpass[band]
        return F.conv1d(audio.unsqueeze(1), kernel, padding=kernel.shape[-1] // 2).squeeze(1)

    @torch.no_grad()
    def embed_packs(
        self,
        packs: Tensor,
        sentences: Sentences,
        should_stop: Callable[[], bool] | None = None,
        band: float | None = None,
    ) -> Tensor:
        """[P, 510, 256] packs -> [P, 256] GE2E embeddings of their renders of ``sentences``
        (heard through ``band``), in batches of about ``ROWS_PER_BATCH`` renders."""
        per_batch = max(1, self._rows_per_batch() // len(sentences))
        out = []
        for start in range(0, len(packs), per_batch):
            if should_stop is not None and should_stop():
                raise FitCancelled
            audio, samples, groups = sentences.render(packs[start : start + per_batch], self.model)
            out.append(self.encoder(self.heard(audio, band), samples, groups))
        return torch.cat(out)

    def stock_embeddings(
        self, count: int, should_stop: Callable[[], bool] | None = None, band: float | None = None
    ) -> Tensor:
        """[V, 256]: each stock voice saying the first ``count`` probe sentences in its own accent,
        heard through ``band``. Computed once per fitter, count and band (the first fit pays)."""
        with self._stock_lock:
            if (count, band) not in self._stock:
                out = torch.zeros(len(self.names), 256, device=self.device)
                for lang in ("en-us", "en-gb"):
                    idx = [i for i, v in enumerate(self.names) if lang_of(v) == lang]
                    if idx:
                        out[idx] = self.embed_packs(self.packs[idx], self.probe(lang, count), should_stop, band)
                self._stock[(count, band)] = out
            return self._stock[(count, band)]

    def pack_of(self, start: Tensor, coef: Tensor, offset: Tensor) -> Tensor:
        """[510, 256]: start + coef . directions + offset * spread, clamped to the stock range."""
        pack = start + torch.einsum("d,drs->rs", coef, self.directions) + (offset * self.spread)[None, :]
        return torch.maximum(torch.minimum(pack, self.hi), self.lo)

    # ----------------------------------------------------------------------------------------
    def fit(
        self,
        samples: np.ndarray,
        rate: int,
        budget: FitBudget,
        on_step: Callable[[int, int, float], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> FittedVoice:
        """Fit a pack to the speaker of ``samples`` (mono, any rate; checked beforehand with
        ``recording.check_recording``). ``on_step(step, total, best similarity so far)`` after
        every step; ``should_stop()`` before every step and render batch (raises FitCancelled)."""
        stop = should_stop or (lambda: False)
        t0 = time.perf_counter()
        while not _FIT_LOCK.acquire(timeout=0.5):
            if stop():
                raise FitCancelled
        try:
            return self._fit(samples, rate, budget, on_step, stop, t0)
        finally:
            _FIT_LOCK.release()

    def _fit(
        self,
        samples: np.ndarray,
        rate: int,
        budget: FitBudget,
        on_step: Callable[[int, int, float], None] | None,
        stop: Callable[[], bool],
        t0: float,
    ) -> FittedVoice:
        deadline = None if budget.seconds is None else t0 + budget.seconds
        target = self.encoder.embed_speech([speech(samples, rate)])
        band = band_edge(samples, rate)
        if stop():
            raise FitCancelled

        # nearest stock voices, and the accent the fit speaks in
        sims = (self.stock_embeddings(budget.probe_sentences, stop, band) @ target).cpu().numpy()
        order = np.argsort(-sims)
        nearest = [(self.names[i], float(sims[i])) for i in order[:TOP]]
        votes = blend_weights("softmax0.05", order, sims)
        british = sum(w for i, w in votes.items() if lang_of(self.names[i]) == "en-gb")
        lang = "en-gb" if british > 0.5 else "en-us"
        probe = self.probe(lang, budget.probe_sentences)

        # the start: the best of a few blends of the nearest voices
        blends = [blend_weights(name, order, sims) for name in BLENDS[: budget.blend_candidates]]
        blend_packs = torch.stack([sum(w * self.packs[i] for i, w in b.items()) for b in blends])
        blend_sims = (self.embed_packs(blend_packs, probe, stop, band) @ target).cpu().numpy()
        best_blend = int(np.argmax(blend_sims))
        start = blend_packs[best_blend]
        start_similarity = float(blend_sims[best_blend])

        # gradient descent on the offset of the start
        coef = torch.zeros(self.directions.shape[0], device=self.device, requires_grad=True)
        offset = torch.zeros(256, device=self.device, requires_grad=True)
        optimiser = torch.optim.Adam([coef, offset], lr=LEARNING_RATE)
        best = (-np.inf, coef.detach().clone(), offset.detach().clone(), start_similarity)
        history: list[float] = []
        steps, last_step_s = 0, 0.0
        with lstms_training(self.model, self.encoder):
            for step in range(1, budget.steps + 1):
                if stop():
                    raise FitCancelled
                now = time.perf_counter()
                if deadline is not None and now + last_step_s > deadline:
                    break
                pack = self.pack_of(start, coef, offset)
                audio, samples_out, groups = probe.render(pack[None], self.model)
                similarity = self.encoder(self.heard(audio, band), samples_out, groups)[0] @ target
                objective = similarity - PENALTY * ((coef**2).mean() + (offset**2).mean())
                if float(objective.detach()) > best[0]:
                    best = (
                        float(objective.detach()),
                        coef.detach().clone(),
                        offset.detach().clone(),
                        float(similarity.detach()),
                    )
                optimiser.zero_grad()
                (-objective).backward()
                optimiser.step()
                steps = step
                history.append(best[3])
                if on_step is not None:
                    on_step(step, budget.steps, best[3])
                last_step_s = time.perf_counter() - now

        with torch.no_grad():
            pack = self.pack_of(start, best[1], best[2])
        return FittedVoice(
            pack=pack.cpu().numpy().astype(np.float32).reshape(-1, 1, 256),
            lang=lang,
            nearest=nearest,
            start_blend={self.names[i]: float(w) for i, w in blends[best_blend].items()},
            start_similarity=start_similarity,
            similarity=best[3],
            steps=steps,
            seconds=time.perf_counter() - t0,
            history=history,
            band=band,
        )
