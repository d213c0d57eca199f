"""The inference step for TTS: text -> Kokoro -> WAV + MP3, timestamps and captions in this worker's spool.

Heartbeats every few seconds and after every chunk (so a dead worker is noticed and cancellation
reaches it) and tells the workflow its progress. Bad input raises a non-retryable ``BadInput``.
Each chunk's windows are queued at the batcher under the user's id, so users take turns: a long
job yields to another user's short one between windows.
"""

import asyncio
import json

import numpy as np
from temporalio import activity

from activities.inference import bad_input, check_request, heartbeating, spool_bytes
from studio import kinds
from studio.audio import to_wav
from studio.kinds import ClipKind
from studio.storage import PART_SAMPLES
from studio.voices import VOICES, VoiceRecipe
from workers.gpu_tts import timing, voice_design
from workers.gpu_tts.chunking import MAX_CHUNK_CHARS, sentence_ends, split_for_stream, split_into_chunks
from workers.gpu_tts.engine import KokoroEngine, pause_after, vocabulary
from workers.gpu_tts.markup import problem as markup_problem
from workers.gpu_tts.markup import spoken_text
from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks
from workers.gpu_worker import InferenceActivities, WorkerContext
from workflows.types import GenerateRequest, InferenceResult


def validate(req: GenerateRequest) -> tuple[list[str], float]:
    """Check the request (the site's own check, ``studio.kinds``) and cut the text into chunks; raises BadInput."""
    check_request(req)
    speed = float(req.settings.get("speed", 1.0))
    # Digits, money, dates and abbreviations become words before chunking ("$5.99." is one sentence);
    # British voices (b*) read dates and numbers the UK way. A request may turn this off.
    spoken = spoken_text(req.text, voice_lang(req), req.settings)
    if message := markup_problem(spoken, vocabulary()):
        raise bad_input(message)
    # A stream's first sound waits for its first chunk: streamed text starts with a few words, then
    # goes about a sentence at a time.
    chunks = split_for_stream(spoken) if req.settings.get("stream") else split_into_chunks(spoken, MAX_CHUNK_CHARS)
    if not chunks:
        raise bad_input("There is no text to speak.")
    return chunks, speed


def sentence_progress(chunks: list[str]) -> list[str]:
    """What the card says after 0, 1, ... len(chunks) chunks are done: "sentence k of n", k being
    the sentence now being spoken (chunks hold whole sentences, or a ramp's part of one)."""
    ends = sentence_ends(chunks)
    total = sum(ends)
    done = [sum(ends[:k]) for k in range(len(chunks) + 1)]
    return [f"sentence {min(d + 1, total)} of {total}" for d in done]


def voice_lang(req: GenerateRequest) -> str:
    """The accent a (checked) request speaks with: its stock voice's, or its recipe's."""
    recipe = VoiceRecipe.from_settings(req.settings)
    return recipe.lang if recipe is not None else VOICES[req.voice].lang


class TtsActivities(InferenceActivities[KokoroEngine]):
    def __init__(self, engine: KokoroEngine, ctx: WorkerContext) -> None:
        super().__init__(engine, ctx)
        self.packs = VoicePacks(engine.voices, ctx.store)
        self.fitting = voice_design.Fitting(engine)

    async def speaking_voice(self, req: GenerateRequest) -> SpeakingVoice:
        """The request's voice: stock, or the user's own from its recipe (a fitted pack comes from the store)."""
        try:
            return await asyncio.to_thread(self.packs.resolve, req.voice, VoiceRecipe.from_settings(req.settings))
        except (KeyError, ValueError) as exc:
            raise bad_input("This voice is no longer available (it was deleted).") from exc

    @activity.defn(name=kinds.KINDS[ClipKind.TTS].activity)
    async def synthesize_speech(self, req: GenerateRequest) -> InferenceResult:
        chunks, speed = validate(req)
        voice = await self.speaking_voice(req)
        streaming = bool(req.settings.get("stream"))
        owner = req.user_id or req.clip_id  # users take turns at the batcher, window by window
        pauses = [pause_after(chunk) for chunk in chunks[:-1]]
        sentences = sentence_progress(chunks)
        pieces: list[np.ndarray] = []
        timings: list[timing.Timing] = []
        # A chunk may wait its turn behind other users' work for longer than the heartbeat timeout:
        # keep heartbeating meanwhile (the work-sized start-to-close timeout bounds a hang).
        async with heartbeating() as beat:
            beat.progress_soon(0, len(chunks), sentences[0])  # the first chunk starts at once
            for i, chunk in enumerate(chunks, start=1):
                try:
                    audio, chunk_timing = await self.engine.synthesize_timed_async(chunk, voice, speed, owner)
                except ValueError as exc:  # the engine found nothing it can speak in this chunk
                    raise bad_input(f"Cannot speak this text: {exc}") from exc
                lead = pauses[i - 2] if pieces else 0.0
                if lead:
                    audio = np.concatenate([self.engine.pause(lead), audio])
                pieces.append(audio)
                timings.append(chunk_timing)
                if streaming:  # parts concatenate to exactly the final audio
                    await self.publish_part(req, i - 1, audio, chunk_timing.alignment.shifted(lead))
                await beat.progress(i, len(chunks), sentences[i])
        samples = np.concatenate(pieces)
        rate = self.engine.sample_rate
        artifacts = await self.spool(req, samples, rate)
        files = await asyncio.to_thread(timing.timestamp_files, req.text, timing.join(timings, pauses))
        artifacts += [
            await spool_bytes(self.ctx.spool_dir, req.clip_objects.timing(ext), data) for ext, data in files.items()
        ]
        return self.result(artifacts, len(samples) / rate)

    async def publish_part(
        self, req: GenerateRequest, index: int, audio: np.ndarray, spoken: timing.CharAlignment
    ) -> None:
        """A streamed chunk and its timestamps (the spoken text's characters, from the part's start)
        with its length in samples. The timestamps go first: a reader that sees the audio finds them."""
        stamps = {"normalized_alignment": spoken.as_dict(), PART_SAMPLES: len(audio)}
        document = json.dumps(stamps, ensure_ascii=False).encode()
        put = self.ctx.store.put_bytes
        await asyncio.to_thread(put, req.clip_objects.stream_part(index, ".json"), document)
        await asyncio.to_thread(put, req.clip_objects.stream_part(index), to_wav(audio, self.engine.sample_rate))

    @activity.defn(name=kinds.KINDS[ClipKind.VOICE_DESIGN].activity)
    async def design_voice(self, req: GenerateRequest) -> InferenceResult:
        """A user's voice: fitted to their recording (or a blend), and its preview (``voice_design``)."""
        preview, details = await voice_design.design(self, self.fitting, req)
        rate = self.engine.sample_rate
        return self.result(await self.spool(req, preview, rate), len(preview) / rate, details)
