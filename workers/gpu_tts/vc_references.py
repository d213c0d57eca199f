"""The voice changer's reference speech, rendered where the voices live and published in the object store.

The voice changer measures each target voice from the voice speaking ``PROFILE_TEXTS``
(``workers/gpu_vc/reference.py`` is the contract) but has no TTS engine. When it needs a reference
that is not in the store, it starts ``PublishVcReference`` on ``REFERENCE_QUEUE``; this worker
serves that queue (``reference_worker``): it renders the voice (the renders take turns with users
at the batcher) and puts it in the store. Idempotent: a reference already there is not rendered.

By hand, e.g. to fill a fresh store ahead of time: ``python -m workers.gpu_tts.vc_references [VOICE ...]``
"""

import argparse
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from studio.storage import ObjectStore, get_store
from studio.voices import RECIPE_SETTING, VOICES, VoiceRecipe
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.voice_packs import SpeakingVoice, VoicePacks
from workers.gpu_vc.reference import (
    PROFILE_TEXTS,
    PUBLISH_ACTIVITY,
    REFERENCE_QUEUE,
    REFERENCE_RATE,
    PublishVcReference,
    ReferenceRequest,
    pack,
    reference_key,
)

log = logging.getLogger(__name__)
OWNER = "vc-references"  # the batcher's turn-taking name for these renders

Engine = Callable[[], KokoroEngine]


def render(engine: KokoroEngine, voice: str | SpeakingVoice) -> bytes:
    """The voice speaking every reference text, packed as stored."""
    assert engine.sample_rate == REFERENCE_RATE
    return pack([engine.synthesize(text, voice, owner=OWNER) for text in PROFILE_TEXTS], engine.sample_rate)


def publish_one(store: ObjectStore, engine: Engine, voice: str, recipe: dict | None = None) -> bool:
    """Render ``voice``'s reference into the store unless it is there; True when it rendered. A
    user's voice comes with its recipe (the site checked it is theirs)."""
    if recipe is None and voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}")
    key = reference_key(voice)
    if store.exists(key):
        return False
    log.info("rendering the voice changer's reference speech for %s", voice)
    kokoro = engine()
    speaking: str | SpeakingVoice = voice
    if recipe is not None:
        speaking = VoicePacks(kokoro.voices, store).resolve(voice, VoiceRecipe.from_settings({RECIPE_SETTING: recipe}))
    store.put_bytes(key, render(kokoro, speaking))
    return True


def publish(store: ObjectStore, engine: Engine = tts_engine, voices: Iterable[str] = VOICES) -> list[str]:
    """``publish_one`` for each stock voice; returns the voices it rendered."""
    return [voice for voice in voices if publish_one(store, engine, voice)]


def reference_worker(client: Client, engine: KokoroEngine, store: ObjectStore, executor: ThreadPoolExecutor) -> Worker:
    """The Temporal worker that answers the voice changer's requests for references (one render at a time)."""

    @activity.defn(name=PUBLISH_ACTIVITY)
    def publish_reference(req: ReferenceRequest) -> None:
        try:
            publish_one(store, lambda: engine, req.voice, req.recipe)
        except (KeyError, ValueError) as exc:  # unknown voice, or a user's voice deleted meanwhile
            raise ApplicationError(f"Cannot render voice {req.voice!r}: {exc}", non_retryable=True) from exc

    return Worker(
        client, task_queue=REFERENCE_QUEUE, workflows=[PublishVcReference], activities=[publish_reference],
        activity_executor=executor, max_concurrent_activities=1,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="Render and publish the voice changer's missing references.")
    parser.add_argument("voices", nargs="*", default=list(VOICES), help="default: every studio voice")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if unknown := sorted(set(args.voices) - set(VOICES)):
        parser.error(f"unknown voices: {', '.join(unknown)}")
    store = get_store()
    store.ensure_ready()
    published = publish(store, voices=args.voices)
    print(f"rendered {len(published)}, already published {len(args.voices) - len(published)}")


if __name__ == "__main__":
    main()
