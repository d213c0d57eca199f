"""The inference step for TTS: text -> Kokoro -> WAV + MP3 in this worker's spool.

Heartbeats every few seconds and after every chunk (so a dead worker is noticed and cancellation
reaches it) and tells the workflow its progress. Bad input raises a non-retryable ``BadInput``.
Each chunk's windows are queued at the batcher under the user's id, so users take turns: a long
job yields to another user's short one between windows.
"""

import asyncio

import numpy as np
from temporalio import activity

from activities.inference import bad_input, check_request, heartbeating
from studio import kinds
from studio.audio import to_wav
from studio.kinds import ClipKind
from studio.voices import VOICES, VoiceRecipe
from workers.gpu_tts import voice_design
from workers.gpu_tts.chunking import MAX_CHUNK_CHARS, STREAM_CHUNK_CHARS, split_into_chunks
from workers.gpu_tts.engine import KokoroEngine
from workers.gpu_tts.normalise import normalise_for_speech
from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks
from workers.gpu_worker import InferenceActivities, WorkerContext
from workflows.types import GenerateRequest, InferenceResult


def validate(req: GenerateRequest) -> tuple[list[str], float]:
    """Check the request (the site's own check, ``studio.kinds``) and cut the text into chunks; raises BadInput."""
    check_request(req)
    speed = float(req.settings.get("speed", 1.0))
    # A stream's first sound waits for its first chunk, so streamed text is cut about a sentence at a time.
    limit = STREAM_CHUNK_CHARS if req.settings.get("stream") else MAX_CHUNK_CHARS
    # Digits, money, dates and abbreviations become words before chunking ("$5.99." is one sentence);
    # British voices (b*) read dates and numbers the UK way.
    chunks = split_into_chunks(normalise_for_speech(req.text, voice_lang(req)), limit)
    if not chunks:
        raise bad_input("There is no text to speak.")
    return chunks, speed


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
        pieces: list[np.ndarray] = []
        # A chunk may wait its turn behind other users' work for longer than the heartbeat timeout:
        # keep heartbeating meanwhile (the work-sized start-to-close timeout bounds a hang).
        async with heartbeating() as beat:
            await beat.progress(0, len(chunks))
            for i, chunk in enumerate(chunks, start=1):
                try:
                    audio = await self.engine.synthesize_async(chunk, voice, speed, owner)
                except ValueError as exc:  # the engine found nothing it can speak in this chunk
                    raise bad_input(f"Cannot speak this text: {exc}") from exc
                if pieces:
                    audio = np.concatenate([self.engine.pause(), audio])
                pieces.append(audio)
                if streaming:  # parts concatenate to exactly the final audio
                    part = to_wav(audio, self.engine.sample_rate)
                    await asyncio.to_thread(self.ctx.store.put_bytes, req.clip_objects.stream_part(i - 1), part)
                await beat.progress(i, len(chunks))
        samples = np.concatenate(pieces)
        rate = self.engine.sample_rate
        return self.result(await self.spool(req, samples, rate), len(samples) / rate)

    @activity.defn(name=kinds.KINDS[ClipKind.VOICE_DESIGN].activity)
    async def design_voice(self, req: GenerateRequest) -> InferenceResult:
        """A user's voice: fitted to their recording (or a blend), and its preview (``voice_design``)."""
        preview, details = await voice_design.design(self, self.fitting, req)
        rate = self.engine.sample_rate
        return self.result(await self.spool(req, preview, rate), len(preview) / rate, details)
