"""Kokoro-82M text-to-speech, loaded once per worker process.

Text -> phonemes (espeak, through kokoro-onnx's tokenizer) -> windows of at most 510 phonemes ->
the backend (int8 ONNX on a CPU, the PyTorch port on CUDA; see ``backends``) through the
cross-request ``Batcher`` -> silence trimmed, windows joined with the pause their punctuation
calls for -> mastered (``mastering``: the voice's gain to one loudness, true peaks limited).
Float32 mono samples at 24 kHz out; ``synthesize_timed`` also gives the chunk's word and character
timestamps, from the model's own predicted durations (``timing``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from workers.devices import resolve_device
from workers.engines import one_per_process
from workers.gpu_tts import heteronyms, markup, mastering, timing
from workers.gpu_tts.backends import OnnxBackend, Spoken, TorchBackend, Utterance
from workers.gpu_tts.batcher import Batcher
from workers.gpu_tts.chunking import boundary
from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000
CHUNK_PAUSE_SECONDS = 0.3  # silence between chunks that end and start a sentence
SENTENCE_PAUSE, CLAUSE_PAUSE = 0.25, 0.1  # between windows of one chunk (kokoro-onnx's defaults)
# Silence after a chunk, by how it ends (``chunking.boundary``): a stream's ramp may cut mid-clause.
BOUNDARY_PAUSE = {"sentence": CHUNK_PAUSE_SECONDS, "clause": CLAUSE_PAUSE, "word": 0.0}


@lru_cache
def vocabulary() -> dict[str, int]:
    """Kokoro v1.0's phoneme vocabulary, shipped in kokoro-onnx's config.json."""
    return json.loads(resources.files("kokoro_onnx").joinpath("config.json").read_text())["vocab"]


@dataclass
class Window:
    utterance: Utterance
    pause_after: float  # seconds
    phonemes: str = ""  # what ``utterance.ids`` were made from (for timestamps)


class KokoroEngine:
    """Front end (phonemes, windows, trimming) around one backend behind one batcher."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self, backend: OnnxBackend | TorchBackend, voices_path, max_batch: int = 1, window_s: float = 0.0,
        threads: int = 1, loudness_db: float = -20.0, peak_db: float = -1.0,
    ) -> None:  # fmt: skip
        from kokoro_onnx.tokenizer import Tokenizer

        self.backend = backend
        self.voices = dict(np.load(voices_path))  # the stock packs
        self.packs = VoicePacks(self.voices)  # users' voices are resolved by the activity (it has the store)
        self._tokenizer = Tokenizer(vocab=vocabulary())
        self._phonemize_lock = threading.Lock()  # espeak is a process-global C library
        batch = max_batch if backend.batched else 1
        threads = threads if backend.batched else 1
        self.batcher: Batcher[Utterance, Spoken] = Batcher(
            backend.speak, lambda u: len(u.ids), batch, window_s, threads=threads
        )
        self.word_phonemes = lru_cache(maxsize=1 << 16)(self._espeak)  # (word, lang) -> phonemes, for timing
        self.loudness_db, self.peak_db = loudness_db, peak_db
        self.levels = mastering.VoiceLevels(self.voices)
        log.info("Kokoro engine: %s on %s, batches up to %d", backend.name, backend.device, batch)

    @property
    def device(self) -> str:
        return self.backend.device

    @property
    def name(self) -> str:
        return f"Kokoro ({self.backend.name}) on {self.device}"

    def warm_up(self) -> None:
        """Nothing left to load: the backend compiled its kernels (on CUDA) as it loaded."""

    def speaking_voice(self, voice: str | SpeakingVoice) -> SpeakingVoice:
        """A stock voice id's pack, or the given (blended or fitted) voice as it is."""
        return voice if isinstance(voice, SpeakingVoice) else self.packs.stock_voice(voice)

    def phonemes(self, text: str, lang: str) -> str:
        """Kokoro's phonemes for ``text``: espeak's, except where the text marks a pronunciation up
        (``markup``) or a heteronym's context picks the reading espeak gets wrong (``heteronyms``)."""
        pieces = [
            s.phonemes if s.phonemes is not None else self._espeak(s.respelling or s.text, lang)
            for s in self._segments(text)
        ]
        return " ".join(" ".join(pieces).split())

    @staticmethod
    def _segments(text: str) -> list[markup.Segment]:
        out = []
        for s in markup.segments(text):
            out.extend([s] if s.phonemes is not None else heteronyms.resolve(s.text))
        return out

    def _espeak(self, text: str, lang: str) -> str:
        """espeak's phonemes for ``text`` (one call at a time: espeak is process-global)."""
        if not text.strip():
            return ""
        with self._phonemize_lock:
            return " ".join(self._tokenizer.phonemize(text, lang).split())

    def token_ids(self, text: str, lang: str) -> list[int]:
        """Kokoro's token ids for ``text`` (no boundary tokens): what the voice fitter renders."""
        return self._tokenizer.tokenize(self.phonemes(text, lang))

    def windows(self, text: str, voice: str | SpeakingVoice, speed: float = 1.0) -> list[Window]:
        """Phonemise and cut into model-sized windows; raises ValueError if nothing is speakable."""
        from kokoro_onnx.chunker import pause_after, split_phonemes
        from kokoro_onnx.config import MAX_PHONEME_LENGTH

        voice = self.speaking_voice(voice)
        phonemes = self.phonemes(text, voice.lang)
        parts = split_phonemes(phonemes, MAX_PHONEME_LENGTH)
        if not parts:
            raise ValueError(f"nothing to synthesize, {text!r} produced no phonemes")
        windows = []
        for i, part in enumerate(parts):
            tokens = self._tokenizer.tokenize(part)
            if not tokens:
                raise ValueError(f"no phonemes of {part!r} are in the model vocabulary")
            pack = voice.pack
            style = pack[min(len(tokens), len(pack)) - 1].reshape(-1)
            pause = pause_after(part, SENTENCE_PAUSE, CLAUSE_PAUSE) if i < len(parts) - 1 else 0.0
            windows.append(Window(Utterance([0, *tokens, 0], style, speed), pause, part))
        return windows

    @staticmethod
    def join(windows: list[Window], audios: list[np.ndarray]) -> np.ndarray:
        """Trim each window's silence and put its pause back after it."""
        return KokoroEngine._assemble(windows, audios)[0]

    @staticmethod
    def _assemble(windows: list[Window], audios: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """``join``, and for each window the [start, end) samples its trim kept and where they start."""
        from kokoro_onnx.trim import trim

        pieces, kept, offset = [], [], 0
        for window, audio in zip(windows, audios, strict=True):
            piece, (start, end) = trim(audio)
            pieces.append(piece)
            kept.append((int(start), int(start) + len(piece), offset))
            offset += len(piece)
            if window.pause_after:
                pieces.append(np.zeros(int(window.pause_after * SAMPLE_RATE), dtype=np.float32))
                offset += len(pieces[-1])
        return np.concatenate(pieces).astype(np.float32), kept

    def timed(
        self, text: str, lang: str, windows: list[Window], spoken: list[Spoken]
    ) -> tuple[np.ndarray, timing.Timing]:
        """Join spoken windows into the chunk's audio and time every word and character of ``text``."""
        audio, kept = self._assemble(windows, [s.audio for s in spoken])
        # Timed as shown: a marked-up span by its text, found in the phonemes by what it says.
        said = {
            s.text: s.phonemes or self._espeak(s.respelling, lang)
            for s in self._segments(text)
            if s.phonemes or s.respelling
        }
        text = markup.display(text)
        parts = [
            timing.SpokenWindow(w.phonemes, s.durations, (start, end), offset)
            for w, s, (start, end, offset) in zip(windows, spoken, kept, strict=True)
        ]
        phonemes, starts, ends = timing.phoneme_times(parts, vocabulary(), SAMPLE_RATE)
        duration = len(audio) / SAMPLE_RATE
        words = timing.word_times(
            text,
            phonemes,
            starts,
            ends,
            lambda w: said.get(w) or self.word_phonemes(w, lang),
            duration,
            audio,
            SAMPLE_RATE,
        )
        return audio, timing.Timing(text, duration, words)

    def synthesize_raw(
        self, text: str, voice: str | SpeakingVoice, speed: float = 1.0, owner: Hashable = None
    ) -> np.ndarray:
        """The model's own output level (no mastering): what a voice's level is measured on."""
        windows = self.windows(text, voice, speed)
        return self.join(windows, [s.audio for s in self.batcher.run([w.utterance for w in windows], owner)])

    def synthesize(
        self, text: str, voice: str | SpeakingVoice, speed: float = 1.0, owner: Hashable = None
    ) -> np.ndarray:
        """Speak one chunk of text (blocking); float32 samples at 24 kHz, mastered. ``owner`` (a user
        id) takes turns with other owners at the batcher, window by window."""
        voice = self.speaking_voice(voice)
        return self.master(self.synthesize_raw(text, voice, speed, owner), self.gain(voice, owner))

    def synthesize_timed(
        self, text: str, voice: str | SpeakingVoice, speed: float = 1.0, owner: Hashable = None
    ) -> tuple[np.ndarray, timing.Timing]:
        """As ``synthesize``, with the timing of every word and character of ``text`` in the audio."""
        voice = self.speaking_voice(voice)
        windows = self.windows(text, voice, speed)
        audio, timed = self.timed(text, voice.lang, windows, self.batcher.run([w.utterance for w in windows], owner))
        return self.master(audio, self.gain(voice, owner)), timed

    def master(self, audio: np.ndarray, gain: float) -> np.ndarray:
        return mastering.master(audio, SAMPLE_RATE, gain, self.peak_db)

    def gain(self, voice: SpeakingVoice, owner: Hashable = None) -> float:
        """The voice's gain to the studio's loudness; a voice without a known level is measured once."""
        level = self.levels.get(voice.pack)
        if level is None:
            calibration = self.synthesize_raw(mastering.CALIBRATION_TEXT, voice, 1.0, owner)
            level = mastering.speech_level_db(calibration, SAMPLE_RATE)
            self.levels.put(voice.pack, level)
        return mastering.voice_gain_for(level, self.loudness_db)

    async def gain_async(self, voice: SpeakingVoice, owner: Hashable = None) -> float:
        level = self.levels.get(voice.pack)
        if level is None:
            windows = await asyncio.to_thread(self.windows, mastering.CALIBRATION_TEXT, voice, 1.0)
            spoken = await self._spoken(windows, owner)
            audio = await asyncio.to_thread(self.join, windows, [s.audio for s in spoken])
            level = mastering.speech_level_db(audio, SAMPLE_RATE)
            self.levels.put(voice.pack, level)
        return mastering.voice_gain_for(level, self.loudness_db)

    async def _spoken(self, windows: list[Window], owner: Hashable) -> list[Spoken]:
        futures = [asyncio.wrap_future(f) for f in self.batcher.submit([w.utterance for w in windows], owner)]
        try:
            return [await f for f in futures]
        finally:
            for f in futures:  # a cancelled request's queued windows are dropped, not computed
                f.cancel()

    async def synthesize_async(
        self, text: str, voice: str | SpeakingVoice, speed: float = 1.0, owner: Hashable = None
    ) -> np.ndarray:
        """As ``synthesize``, for coroutines: waits on the batcher without holding a thread."""
        voice = self.speaking_voice(voice)
        gain = await self.gain_async(voice, owner)
        windows = await asyncio.to_thread(self.windows, text, voice, speed)
        spoken = await self._spoken(windows, owner)
        audio = await asyncio.to_thread(self.join, windows, [s.audio for s in spoken])
        return await asyncio.to_thread(self.master, audio, gain)

    async def synthesize_timed_async(
        self, text: str, voice: str | SpeakingVoice, speed: float = 1.0, owner: Hashable = None
    ) -> tuple[np.ndarray, timing.Timing]:
        """As ``synthesize_timed``, for coroutines."""
        voice = self.speaking_voice(voice)
        gain = await self.gain_async(voice, owner)
        windows = await asyncio.to_thread(self.windows, text, voice, speed)
        spoken = await self._spoken(windows, owner)
        audio, timed = await asyncio.to_thread(self.timed, text, voice.lang, windows, spoken)
        return await asyncio.to_thread(self.master, audio, gain), timed

    @staticmethod
    def pause(seconds: float = CHUNK_PAUSE_SECONDS) -> np.ndarray:
        return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def pause_after(chunk: str) -> float:
    """Seconds of silence between ``chunk`` and the next one, by how it ends."""
    return BOUNDARY_PAUSE[boundary(chunk)]


def choose_backend(engine: str, device: str) -> tuple[str, str]:
    """Settings -> (backend, device). Auto: PyTorch on CUDA when present, else int8 ONNX on the CPU."""
    device = resolve_device(device)
    if engine == "auto":
        engine = "torch" if device == "cuda" else "onnx"
    return engine, device


@one_per_process
def tts_engine() -> KokoroEngine:
    """The process-wide engine, loaded on first use, as the settings choose."""
    from studio.settings import get_settings
    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights

    cfg = get_settings()
    model, voices = ensure_assets()
    kind, device = choose_backend(cfg.tts_engine, cfg.tts_device)
    if kind == "torch":
        weights = ensure_torch_weights(model)
        backend = TorchBackend(weights, device, cfg.tts_precision, cfg.tts_threads, cfg.tts_compile)
    else:
        backend = OnnxBackend(model, threads=cfg.tts_threads)
    return KokoroEngine(
        backend, voices, cfg.tts_max_batch, cfg.tts_batch_window_ms / 1000, cfg.tts_infer_threads,
        cfg.tts_loudness_dbfs, cfg.tts_peak_dbfs,
    )  # fmt: skip
