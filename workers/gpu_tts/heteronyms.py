"""Heteronyms: words spelled alike and said differently ("close the door" /z/, "a close call" /s/).

espeak reads most of them by one fixed choice, right in some sentences and wrong in others: it
says "Please close the door" with /s/, "I read it yesterday" with /iː/, "the lead pipe" with /iː/,
"wind the clock" with /ɪ/. Kokoro was trained on misaki's part-of-speech-aware phonemes, but misaki
drags in spaCy and a phonemiser fork that shadows kokoro-onnx's, so this module does what matters
with the words around each heteronym: each rule below names the context that selects the reading
espeak gets wrong, and says it by another spelling espeak reads right ("cloze", "red"), which
keeps US and UK vowels (``markup.Segment.respelling``). Where no rule fires, espeak's choice
stands (it is right in the other cases: "I have read", "the refuse", "I object", "a new record").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from workers.gpu_tts.markup import Segment

WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")

SUBJECTS = {"i", "you", "we", "they", "he", "she", "it", "who", "people"}
MODALS = {"will", "would", "can", "could", "should", "must", "shall", "may", "might", "to", "please",
          "let's", "don't", "didn't", "doesn't", "won't", "can't", "do", "does", "did", "i'll", "we'll",
          "you'll", "they'll", "and", "then"}  # fmt: skip
OBJECTS = {"the", "a", "an", "this", "that", "these", "those", "it", "them", "him", "her", "his", "my",
           "your", "our", "their", "its", "up", "down", "me", "us", "all", "every", "some"}  # fmt: skip
PAST_TIME = {"yesterday", "ago", "last", "earlier", "already", "once", "previously", "before", "recently"}
PERFECT = {"have", "has", "had", "i've", "you've", "we've", "they've", "i'd", "he'd", "she'd", "was",
           "were", "been", "being", "is", "are", "be", "am", "well", "widely", "never", "just"}  # fmt: skip


@dataclass(frozen=True)
class Context:
    prev: str  # the word before, lower case ("" at the start of a sentence)
    next: str  # the word after
    sentence: set[str]  # every word of the sentence, lower case
    starts_sentence: bool


def _close(c: Context) -> str | None:
    """Verb (/z/) after a modal or subject, or giving an order ("Close the door"), before an object."""
    verb_before = c.prev in MODALS or c.prev in SUBJECTS or c.starts_sentence
    return "cloze" if verb_before and (c.next in OBJECTS or c.next in {"in", "out", "off", "shop", "early"}) else None


def _read(c: Context) -> str | None:
    """Past tense (/ɛ/): after have/was; after he/she/it (present would be "reads"); after I/we/you/
    they when the sentence says when ("yesterday", "last night")."""
    if c.prev in MODALS:
        return None
    if c.prev in PERFECT or c.prev in {"he", "she", "it"}:
        return "red"
    if c.prev in SUBJECTS and c.sentence & PAST_TIME:
        return "red"
    return None


LEAD_METAL = {"pipe", "pipes", "paint", "poisoning", "pencil", "pencils", "weight", "weights", "balloon",
              "shot", "levels", "exposure", "crystal", "acetate", "roof", "sheet", "sheets", "free", "solder",
              "mine", "mines", "oxide", "content"}  # fmt: skip


def _lead(c: Context) -> str | None:
    """The metal (/ɛ/): before words that go with it ("lead pipe"), or "made of lead"."""
    if c.next in LEAD_METAL or (c.prev == "of" and c.sentence & {"made", "heavy", "weighs", "solid"}):
        return "led"
    return None


def _wind(c: Context) -> str | None:
    """The verb (/aɪ/): "wind the clock", "wind it up", "to wind", "winds down"."""
    if c.next in {"up", "down"} or ((c.prev in MODALS or c.starts_sentence) and c.next in OBJECTS):
        return "wined"
    return None


def _bow(c: Context) -> str | None:
    """Bending (/aʊ/): "take a bow", "bow to", "bow down", "a deep bow"."""
    if c.next in {"to", "down", "before", "out", "low"} or c.prev in {"deep", "low", "slight", "final"}:
        return "bough"
    if c.prev in {"a", "another"} and c.sentence & {"take", "took", "taking", "takes"}:
        return "bough"
    return None


TINY_THINGS = {"detail", "details", "amount", "amounts", "quantity", "quantities", "particle", "particles",
               "trace", "traces", "difference", "differences", "change", "changes", "fraction", "crack",
               "cracks", "variation", "variations"}  # fmt: skip


def _minute(c: Context) -> str | None:
    """Tiny (/maɪˈnjuːt/): "a minute detail", "so minute"."""
    return "my-newt" if c.next in TINY_THINGS or c.prev in {"so", "very", "too", "extremely", "most"} else None


def _record(c: Context) -> str | None:
    """The verb (/ɹɪˈkɔːɹd/): after a modal or subject, or an order, before what is recorded."""
    if (c.prev in MODALS or c.prev in SUBJECTS or c.starts_sentence) and (c.next in OBJECTS or c.next == ""):
        return "rekord"
    return None


def _wound(c: Context) -> str | None:
    """Past of wind (/aʊ/): "he wound the clock", "wound it up"."""
    if c.next in {"up", "down", "around", "round"} or (c.prev in SUBJECTS and c.next in OBJECTS):
        return "wownd"
    return None


LIVE_BEFORE = {"i", "you", "we", "they", "people", "who", "to", "will", "can", "could", "would", "should",
               "must", "you'll", "we'll", "still", "now"}  # fmt: skip


def _live(c: Context) -> str | None:
    """The verb (/ɪ/) where espeak says the adjective: "we live in", "where they live" (not "watch
    it live", "live music")."""
    return "liv" if c.prev in LIVE_BEFORE else None


RULES: dict[str, Callable[[Context], str | None]] = {
    "close": _close, "read": _read, "lead": _lead, "wind": _wind, "bow": _bow, "minute": _minute,
    "record": _record, "wound": _wound, "live": _live,
}  # fmt: skip
_ANY = re.compile(r"\b(?:" + "|".join(RULES) + r")\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]+\s+")


def resolve(text: str) -> list[Segment]:
    """``text`` as plain runs, with each heteronym a rule decides as its own segment to be read by
    another spelling. Text with no heteronym comes back as one segment (the common case, cheap)."""
    if not _ANY.search(text):
        return [Segment(text)]
    out: list[Segment] = []
    at = 0
    for start, end in _sentences(text):
        words = list(WORD.finditer(text, start, end))
        lower = [w.group().lower() for w in words]
        for i, w in enumerate(words):
            rule = RULES.get(lower[i])
            if rule is None:
                continue
            context = Context(lower[i - 1] if i else "", lower[i + 1] if i + 1 < len(words) else "", set(lower), i == 0)
            respelling = rule(context)
            if respelling is None:
                continue
            if w.start() > at:
                out.append(Segment(text[at : w.start()]))
            out.append(Segment(w.group(), respelling=respelling))
            at = w.end()
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((at, m.end()))
        at = m.end()
    spans.append((at, len(text)))
    return spans
