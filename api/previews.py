"""Voice previews for the site and the API: which exist, and signed links to them.

A stock voice's preview is rendered once by the TTS worker (``studio.storage.stock_preview_key``);
a user's voice's preview is its design clip's MP3 (``OwnVoice.preview_key``). Links are the
store's usual signed, expiring links; pages point at ``/voices/<id>/preview`` (which redirects to
a fresh one, like clip audio), the public API puts a link in ``preview_url``.

A stock preview never changes once stored, so its presence is remembered per store; an absent
one is looked for again after ``MISSING_RECHECK_SECONDS`` (the worker publishes them at start-up).
All functions here block (store calls): call them from sync routes or worker threads.
"""

import threading
import time
import weakref

from studio.storage import ObjectStore, get_store, stock_preview_key
from studio.voice_library import OwnVoice
from studio.voices import VOICES

MISSING_RECHECK_SECONDS = 10.0


class _Seen:
    """What one store is known to hold: previews found, and when absent ones were last looked for."""

    def __init__(self) -> None:
        self.present: set[str] = set()
        self.missing_at: dict[str, float] = {}


_seen: "weakref.WeakKeyDictionary[ObjectStore, _Seen]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _seen_for(store: ObjectStore) -> _Seen:
    with _lock:
        seen = _seen.get(store)
        if seen is None:
            seen = _seen[store] = _Seen()
        return seen


def stock_preview_ready(voice_id: str, store: ObjectStore | None = None) -> bool:
    """Whether the stock voice's preview is in the store."""
    if voice_id not in VOICES:
        return False
    store = store or get_store()
    seen = _seen_for(store)
    if voice_id in seen.present:
        return True
    if time.monotonic() - seen.missing_at.get(voice_id, -MISSING_RECHECK_SECONDS) < MISSING_RECHECK_SECONDS:
        return False
    if store.exists(stock_preview_key(voice_id, ".mp3")):
        seen.present.add(voice_id)
        seen.missing_at.pop(voice_id, None)
        return True
    seen.missing_at[voice_id] = time.monotonic()
    return False


def ready_stock_previews() -> set[str]:
    """The stock voices whose preview can be played now."""
    store = get_store()
    return {voice_id for voice_id in VOICES if stock_preview_ready(voice_id, store)}


def absolute(link: str, base_url: str) -> str:
    """The local store's links are site-relative (``/media/...``); API clients need a full URL."""
    return f"{base_url.rstrip('/')}{link}" if link.startswith("/") else link


def stock_preview_link(voice_id: str) -> str | None:
    """A signed link to the stock voice's preview, or None while it is not rendered yet."""
    if not stock_preview_ready(voice_id):
        return None
    return get_store().link(stock_preview_key(voice_id, ".mp3"))


def own_preview_link(own: OwnVoice) -> str | None:
    """A signed link to a user's voice's preview, or None until its design clip made one."""
    key = own.preview_key
    return get_store().link(key) if key else None


def preview_link(voice_id: str, own: OwnVoice | None) -> str | None:
    """The preview of a stock voice (``own`` None) or of the user's voice ``own``."""
    return own_preview_link(own) if own is not None else stock_preview_link(voice_id)
