"""Pronunciation inside the text: ``[Kokoro](/kˈOkəɹO/)`` says "Kokoro" with the given phonemes.

The text between the brackets is what is shown and timed (captions, character timestamps); the
phonemes between the slashes are Kokoro's own symbols (its vocabulary: IPA plus misaki's
shorthands such as O for /oʊ/), spliced into the phonemiser's output as they are. This is the one
mechanism behind inline markup, heteronyms (``heteronyms``: a word read by another spelling) and
pronunciation dictionaries (``dictionaries``). The normaliser never sees inside a span, so "/" is not "slash".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from studio import kinds
from studio.pronunciation import PRONUNCIATION_RULES
from workers.gpu_tts import dictionaries
from workers.gpu_tts.normalise import normalise_for_speech

SPAN = re.compile(r"\[([^\[\]\n]{1,100})\]\(/([^/()\[\]\n]{1,200})/\)")
SENTENCE_MARKS = ".!?;:"  # not inside phonemes: the chunker would cut a span in two


@dataclass(frozen=True)
class Segment:
    """A run of text and how to say it: ``phonemes`` as given, else the phonemiser reads
    ``respelling`` (a heteronym's other spelling) or, failing that, ``text`` itself."""

    text: str
    phonemes: str | None = None
    respelling: str | None = None


def segments(text: str, exact: bool = False) -> list[Segment]:
    """``text`` cut into plain runs and marked-up spans, in order (a span's phonemes with runs of
    spaces closed up, or ``exact`` as written)."""
    out, at = [], 0
    for m in SPAN.finditer(text):
        if m.start() > at:
            out.append(Segment(text[at : m.start()]))
        out.append(Segment(m.group(1), phonemes=m.group(2) if exact else " ".join(m.group(2).split())))
        at = m.end()
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


def display(text: str) -> str:
    """What the reader sees and the timestamps name: each span replaced by its text."""
    return SPAN.sub(lambda m: m.group(1), text)


def has_markup(text: str) -> bool:
    return SPAN.search(text) is not None


def problem(text: str, vocabulary: Iterable[str]) -> str | None:
    """A message if a span's phonemes are not ones Kokoro can say, else None."""
    known = set(vocabulary) | {" "}
    for m in SPAN.finditer(text):
        bad = sorted({ch for ch in m.group(2) if ch not in known or ch in SENTENCE_MARKS})
        if bad:
            return (
                f"The pronunciation of “{m.group(1)}” uses {' '.join(bad)}, which Kokoro cannot say: "
                "write its phonemes with IPA letters and stress marks, e.g. [Kokoro](/kˈOkəɹO/)."
            )
    return None


def map_plain(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to its plain runs only (spans kept exactly)."""
    return "".join(
        change(s.text) if s.phonemes is None else f"[{s.text}](/{s.phonemes}/)" for s in segments(text, exact=True)
    )


def spoken_text(text: str, accent: str, settings: dict) -> str:
    """What the engine speaks for a request's ``text``: its pronunciation rules applied
    (``dictionaries``), then normalised (unless the request turned the normaliser off,
    ``studio.kinds.TEXT_NORMALIZATION``), marked-up spans kept as written."""
    for rule in settings.get(PRONUNCIATION_RULES) or ():
        text = map_plain(text, dictionaries.substitution(rule))
    if settings.get(kinds.TEXT_NORMALIZATION, "auto") == "off":
        return text
    return map_plain(text, lambda run: normalise_for_speech(run, accent))
