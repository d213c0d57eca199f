"""Stock voices' previews: each voice speaking ``studio.voices.PREVIEW_TEXT``, rendered once into
the object store (``studio.storage.stock_preview_key``), where the site's voice pickers, the
voices page and the public API's ``preview_url`` link to them.

The TTS worker publishes the missing ones when it starts (idempotent: one already stored is not
rendered again); the renders take turns with users at the batcher. By hand, e.g. to fill a fresh
store ahead of time: ``python -m workers.gpu_tts.previews [VOICE ...]``
"""

import argparse
import logging
from collections.abc import Iterable

from studio.audio import to_mp3, to_wav
from studio.storage import ObjectStore, get_store, stock_preview_key
from studio.voices import PREVIEW_TEXT, VOICES
from workers.gpu_tts.engine import KokoroEngine

log = logging.getLogger(__name__)
OWNER = "voice-previews"  # the batcher's turn-taking name for these renders


def publish_previews(store: ObjectStore, engine: KokoroEngine, voices: Iterable[str] = VOICES) -> list[str]:
    """Render and store every listed stock voice's preview the store lacks; returns those rendered.
    The MP3 is written last, so its presence (what the site checks) means both are there."""
    rendered = []
    for voice in voices:
        if voice not in VOICES:
            raise ValueError(f"unknown voice {voice!r}")
        if store.exists(stock_preview_key(voice, ".mp3")):
            continue
        samples = engine.synthesize(PREVIEW_TEXT, voice, owner=OWNER)
        store.put_bytes(stock_preview_key(voice, ".wav"), to_wav(samples, engine.sample_rate))
        store.put_bytes(stock_preview_key(voice, ".mp3"), to_mp3(samples, engine.sample_rate))
        rendered.append(voice)
    if rendered:
        log.info("rendered the previews of %d stock voices", len(rendered))
    return rendered


def main() -> None:
    from workers.gpu_tts.engine import tts_engine

    parser = argparse.ArgumentParser(description="Render and store the stock voices' missing previews.")
    parser.add_argument("voices", nargs="*", default=list(VOICES), help="default: every studio voice")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if unknown := sorted(set(args.voices) - set(VOICES)):
        parser.error(f"unknown voices: {', '.join(unknown)}")
    store = get_store()
    store.ensure_ready()
    rendered = publish_previews(store, tts_engine(), args.voices)
    print(f"rendered {len(rendered)}, already stored {len(args.voices) - len(rendered)}")


if __name__ == "__main__":
    main()
