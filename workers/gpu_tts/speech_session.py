"""The TTS worker's side of a speech session (``workflows.speech_session``): speak one segment as
stream parts, join a finished session's parts into its clip, and delete the parts.

Served on their own queue (``SESSION_QUEUE``) by a Temporal worker beside the TTS worker's main
one, sharing its engine: the batcher still takes users in turn, but a live segment never waits
for an activity slot behind queued whole clips.

A segment is cut into chunks of the typed text, each normalised and spoken on its own, so each
part knows both the typed and the spoken characters' times (the websocket sends both). Parts
concatenate to exactly the clip's audio: a part starts with the silence that follows the text
before it. Everything goes to the object store directly: assembly reads the parts from there, so
it can run on any TTS worker, and a retried put just overwrites.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from temporalio import activity
from temporalio.worker import Worker

from activities.inference import bad_input, check_request, heartbeating
from studio.audio import read_wav, to_mp3, to_wav
from studio.kinds import ClipKind
from studio.storage import ClipObjects, ObjectStore
from studio.voices import VoiceRecipe
from workers.gpu_tts import timing
from workers.gpu_tts.chunking import STREAM_CHUNK_CHARS, split_for_stream, split_into_chunks
from workers.gpu_tts.engine import CHUNK_PAUSE_SECONDS, KokoroEngine
from workers.gpu_tts.markup import spoken_text
from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks
from workers.gpu_worker import GRACEFUL_SHUTDOWN, WorkerContext
from workflows.types import (
    ASSEMBLE_SESSION,
    DROP_SESSION_PARTS,
    SESSION_QUEUE,
    SPEAK_SEGMENT,
    AssembleRequest,
    AssembleResult,
    GenerateRequest,
    SegmentRequest,
    SegmentResult,
)

CLAUSE_PAUSE_SECONDS = 0.1  # after a segment ending at a comma, colon, ...; none mid-sentence


def pause_after(text: str) -> float:
    """The silence after ``text`` before what follows: a sentence's pause after a full stop (as
    between a clip's chunks), a short one after a clause, none after a word (the text goes on)."""
    end = text.rstrip().rstrip("\"')]”’")
    if end.endswith((".", "!", "?", "…")):
        return CHUNK_PAUSE_SECONDS
    return CLAUSE_PAUSE_SECONDS if end.endswith((",", ";", ":", "—")) else 0.0


class SessionActivities:
    def __init__(self, engine: KokoroEngine, store: ObjectStore) -> None:
        self.engine, self.store = engine, store
        self.packs = VoicePacks(engine.voices, store)

    async def _voice(self, req: SegmentRequest) -> SpeakingVoice:
        try:
            return await asyncio.to_thread(self.packs.resolve, req.voice, VoiceRecipe.from_settings(req.settings))
        except (KeyError, ValueError) as exc:
            raise bad_input("This voice is no longer available (it was deleted).") from exc

    @activity.defn(name=SPEAK_SEGMENT)
    async def speak_segment(self, req: SegmentRequest) -> SegmentResult:
        """Speak a segment chunk by chunk, publishing each as a stream part; BadInput if nothing in
        it can be spoken (the session skips it)."""
        check_request(GenerateRequest(req.clip_id, req.user_id, ClipKind.TTS, req.text, req.voice, req.settings))
        voice = await self._voice(req)
        speed = float(req.settings.get("speed", 1.0))
        owner = req.user_id or req.clip_id
        parts, seconds, lead = 0, 0.0, req.lead_seconds
        # The session's first sound waits for its first chunk: the opening segment starts with a few words.
        opening = req.first_part == 0
        chunks = split_for_stream(req.text) if opening else split_into_chunks(req.text, STREAM_CHUNK_CHARS)
        async with heartbeating() as beat:
            for typed in chunks:
                spoken = spoken_text(typed, voice.lang, req.settings)
                try:
                    audio, said = await self.engine.synthesize_timed_async(spoken, voice, speed, owner)
                except ValueError:  # only symbols: nothing to say here
                    continue
                if lead:
                    audio = np.concatenate([self.engine.pause(lead), audio])
                await self._publish(req.objects, req.first_part + parts, audio, typed, said, lead)
                parts, seconds, lead = parts + 1, seconds + len(audio) / self.engine.sample_rate, pause_after(typed)
                beat.details = (parts, parts)
        if not parts:
            raise bad_input(f"Cannot speak this text: {req.text[:40]!r}")
        return SegmentResult(parts, seconds, lead)

    async def _publish(
        self, objects: ClipObjects, index: int, audio: np.ndarray, typed: str, said: timing.Timing, lead: float
    ) -> None:
        """A part and its timestamps (from the part's start), the timestamps first: a reader that
        sees the audio finds them. ``timing`` and ``lead`` are for the assembly."""
        document = {
            "alignment": timing.original_alignment(typed, said.alignment).shifted(lead).as_dict(),
            "normalized_alignment": said.alignment.shifted(lead).as_dict(),
            "timing": said.as_dict(),
            "lead": lead,
        }
        data = json.dumps(document, ensure_ascii=False).encode()
        await asyncio.to_thread(self.store.put_bytes, objects.stream_part(index, ".json"), data)
        wav = await asyncio.to_thread(to_wav, audio, self.engine.sample_rate)
        await asyncio.to_thread(self.store.put_bytes, objects.stream_part(index), wav)

    @activity.defn(name=ASSEMBLE_SESSION)
    async def assemble(self, req: AssembleRequest) -> AssembleResult:
        """The clip's WAV, MP3, timestamps and captions from its parts (the parts stay: the site
        may still be sending them)."""
        async with heartbeating():
            return await asyncio.to_thread(self._assemble, req)

    def _assemble(self, req: AssembleRequest) -> AssembleResult:
        objects, pieces, timings = req.objects, [], []
        rate = self.engine.sample_rate
        for i in range(req.parts):
            document = json.loads(self.store.get_bytes(objects.stream_part(i, ".json")))
            samples, rate = read_wav(self.store.get_bytes(objects.stream_part(i)))
            pieces.append(samples)
            said, lead = timing.Timing.from_dict(document["timing"]), float(document["lead"])
            # the part's own silence in front: its words move by it, and nothing else is added between parts
            timings.append(timing.Timing(said.text, said.duration + lead, [w.shifted(lead) for w in said.words]))
        samples = np.concatenate(pieces)
        files = {".wav": to_wav(samples, rate), ".mp3": to_mp3(samples, rate)}
        for extension, data in files.items():
            self.store.put_bytes(objects.audio(extension), data)
        for extension, data in timing.timestamp_files(req.text, timing.join(timings, 0.0)).items():
            self.store.put_bytes(objects.timing(extension), data)
        return AssembleResult(objects.audio(".wav"), len(samples) / rate)

    @activity.defn(name=DROP_SESSION_PARTS)
    async def drop_parts(self, objects: ClipObjects) -> None:
        await asyncio.to_thread(self.store.delete_prefix, objects.stream_prefix)


def session_worker(engine: KokoroEngine, ctx: WorkerContext, executor: ThreadPoolExecutor, concurrent: int) -> Worker:
    """The Temporal worker for sessions' TTS activities, on ``SESSION_QUEUE``, sharing ``engine``."""
    activities = SessionActivities(engine, ctx.store)
    return Worker(
        ctx.client, task_queue=SESSION_QUEUE, activities=[activities.speak_segment, activities.assemble,
        activities.drop_parts], max_concurrent_activities=concurrent, graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )  # fmt: skip
