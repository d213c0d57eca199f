"""Word and character timestamps from Kokoro's own predicted durations.

Kokoro predicts how many frames (``SAMPLES_PER_FRAME`` samples) each phoneme token lasts, and its
audio is exactly those frames. The engine speaks a chunk as windows (phoneme strings), trims each
window's silence and puts pauses between them; ``phoneme_times`` follows the same steps to give
every phoneme character of the chunk its start and end in the chunk's audio.

Text words are then found in that phoneme string: each word is phonemised on its own (cached) and
the concatenation is aligned to the chunk's phonemes with ``difflib.SequenceMatcher`` on letters
only (stress and length marks dropped, a few context-dependent sounds folded), so espeak merging
words ("of the" -> "ʌvðə"), reducing them ("a" -> "ɐ") or reading digits still lands each word on
its own phonemes; a word that gets none is placed between its neighbours (``word_times``).

Characters (ElevenLabs' ``alignment``): a word's letters share its span, spaces and punctuation
share the gap between neighbouring words (``char_alignment``). The text the user typed maps onto
the normalised text the model spoke through a token-level diff (``original_alignment``): equal
runs one to one, a rewritten run ("$5.99" -> "five dollars and ninety-nine cents") shares the time
of its replacement. ``join`` puts chunks together the way the TTS activity does (a pause between
chunks); ``words_of`` and ``srt`` / ``webvtt`` make caption words and files from any alignment.

Word edges follow what a listener hears (``word_times``): words meet at the space token before a
word, one frame ahead of the token grid, and next to a pause a word is cut where its sound ends or
starts (Kokoro puts a pause's silence inside the neighbouring phoneme). Against pocketsphinx's
forced alignment: boundaries between words within 15 ms median, 45 ms at the 95th percentile
(bench/timing_accuracy.py). Timing a chunk costs about 2 ms beyond the synthesis.

All times are seconds from the start of the audio they describe, monotonic and inside it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field

import numpy as np

from workers.gpu_tts.backends import SAMPLES_PER_FRAME

# A text word: letters and digits, with inner apostrophes ("don't"); hyphens and dots separate
# words, as espeak reads "ninety-nine" and "3.5" as two (or three) words.
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_MARKS = "ˈˌːˑ"  # stress and length: where espeak puts them depends on the neighbours
# Sounds espeak says differently in context than alone (flapped t, reduced vowels, r-coloured schwa).
_FOLD = str.maketrans({"ɾ": "t", "ʔ": "t", "ᵻ": "ɪ", "ɐ": "ə", "ᵊ": "ə", "ɚ": "ə", "ɝ": "ə", "ɜ": "ə"})
LEAD_S = 0.025  # one frame: Kokoro's sound runs ahead of its duration grid (see word_times)
SILENCE_DB = 45.0  # a 10 ms block this far below the chunk's loudest one is silence
LONG_SILENCE_S = 0.1  # a word never starts or ends with this much silence, punctuation or not
SENTENCE_GAP_S = 0.1  # captions: a sentence ends where the voice pauses this long after . ! ? …
_WINDOW_JOIN = "\n"  # stands for the space two windows were cut at, which spans their pause
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True)
class SpokenWindow:
    """One window of a chunk as it ended up in the chunk's audio."""

    phonemes: str  # the phoneme string the window was tokenised from
    durations: np.ndarray  # frames per token, the two boundary tokens included
    kept: tuple[int, int]  # [start, end) samples of the window's own audio kept by the silence trim
    offset: int  # samples: where the kept audio starts in the chunk


@dataclass(frozen=True)
class WordTime:
    word: str
    start: float  # seconds
    end: float
    begin: int  # the word is text[begin:stop] of the text it was found in
    stop: int

    def shifted(self, seconds: float, chars: int = 0) -> WordTime:
        return WordTime(self.word, self.start + seconds, self.end + seconds, self.begin + chars, self.stop + chars)

    def as_dict(self) -> dict:
        return {"word": self.word, "start": self.start, "end": self.end, "begin": self.begin, "stop": self.stop}


@dataclass
class CharAlignment:
    """ElevenLabs' ``alignment`` shape: every character of a text with its start and end."""

    characters: list[str]
    character_start_times_seconds: list[float]
    character_end_times_seconds: list[float]

    @property
    def text(self) -> str:
        return "".join(self.characters)

    def shifted(self, seconds: float) -> CharAlignment:
        return CharAlignment(
            list(self.characters),
            [t + seconds for t in self.character_start_times_seconds],
            [t + seconds for t in self.character_end_times_seconds],
        )

    def as_dict(self, ndigits: int | None = 3) -> dict:
        """The JSON object ElevenLabs returns (times rounded to ``ndigits``; rounding keeps order)."""

        def r(ts: list[float]) -> list[float]:
            return [round(t, ndigits) for t in ts] if ndigits is not None else list(ts)

        return {
            "characters": list(self.characters),
            "character_start_times_seconds": r(self.character_start_times_seconds),
            "character_end_times_seconds": r(self.character_end_times_seconds),
        }

    @classmethod
    def from_dict(cls, d: dict) -> CharAlignment:
        return cls(
            list(d["characters"]), list(d["character_start_times_seconds"]), list(d["character_end_times_seconds"])
        )

    def __add__(self, other: CharAlignment) -> CharAlignment:
        return CharAlignment(
            self.characters + other.characters,
            self.character_start_times_seconds + other.character_start_times_seconds,
            self.character_end_times_seconds + other.character_end_times_seconds,
        )


@dataclass
class Timing:
    """The timing of one spoken text (a chunk, or a whole clip after ``join``)."""

    text: str  # what was spoken (normalised text)
    duration: float  # seconds of audio
    words: list[WordTime]  # the text's words (``WORD``), in order
    alignment: CharAlignment = field(init=False)  # every character of ``text``

    def __post_init__(self) -> None:
        self.alignment = char_alignment(self.text, self.words, self.duration)

    def as_dict(self) -> dict:
        return {"text": self.text, "duration": self.duration, "words": [w.as_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, d: dict) -> Timing:
        return cls(d["text"], d["duration"], [WordTime(**w) for w in d["words"]])


# Phonemes -> times


def phoneme_times(
    windows: Sequence[SpokenWindow], known: Container[str], rate: int
) -> tuple[str, np.ndarray, np.ndarray]:
    """The chunk's phoneme string (windows joined by a space, which spans the pause between them)
    and each character's start and end in seconds. ``known``: the model's vocabulary (a character
    outside it made no token and gets no time)."""
    chars: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    for k, w in enumerate(windows):
        first, last = w.kept
        length = max(0, last - first)

        def at(sample: int, w: SpokenWindow = w, first: int = first, length: int = length) -> float:
            return (w.offset + min(max(sample - first, 0), length)) / rate

        if k:
            chars.append(_WINDOW_JOIN)
            starts.append(ends[-1] if ends else 0.0)
            ends.append(max(starts[-1], at(0)))
        bounds = np.concatenate([[0], np.cumsum(np.asarray(w.durations, dtype=np.int64))]) * SAMPLES_PER_FRAME
        token = 1  # ids[0] is the boundary token
        for c in w.phonemes:
            if c in known and token + 1 < len(bounds) - 1:
                s, e = at(int(bounds[token])), at(int(bounds[token + 1]))
                token += 1
            else:  # dropped: no time of its own
                s = e = at(int(bounds[min(token, len(bounds) - 1)]))
            chars.append(c)
            starts.append(s)
            ends.append(e)
    return "".join(chars), np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)


# Words


def _letters(phonemes: str) -> tuple[str, list[int]]:
    """The sounds of a phoneme string for matching, and where each one is in it."""
    keep = [(c, i) for i, c in enumerate(phonemes.translate(_FOLD)) if c.isalpha() and c not in _MARKS]
    return "".join(c for c, _ in keep), [i for _, i in keep]


def _groups(phonemes: str, positions: list[int]) -> list[int]:
    """For each matched sound, the number of the phoneme word (space- or punctuation-separated)
    it is in."""
    out, group = [], 0
    for n, p in enumerate(positions):
        if n and any(not (c.isalpha() or c in _MARKS) for c in phonemes[positions[n - 1] + 1 : p]):
            group += 1
        out.append(group)
    return out


def word_times(
    text: str,
    phonemes: str,
    starts: np.ndarray,
    ends: np.ndarray,
    word_phonemes: Callable[[str], str],
    duration: float,
    audio: np.ndarray | None = None,
    rate: int = 24_000,
    lead_s: float = LEAD_S,
) -> list[WordTime]:
    """Each word of ``text`` with its time, found in the chunk's ``phonemes`` (see module doc).

    Conventions, checked against a forced aligner (bench/timing_accuracy.py): the space token
    before a word is its onset (so neighbouring words meet); times are ``lead_s`` earlier than the
    token grid, as Kokoro's audio runs ahead of its durations; next to a pause (punctuation, a
    window's or the chunk's edge) Kokoro hides the silence in the word's last (or first) phoneme,
    so with ``audio`` the word is cut where its sound ends (starts) there."""
    matches = list(WORD.finditer(text))
    if not matches:
        return []
    a_chars, owner = [], []
    for n, m in enumerate(matches):
        letters, _ = _letters(word_phonemes(m.group()))
        a_chars.append(letters)
        owner.extend([n] * len(letters))
    a = "".join(a_chars)
    b, positions = _letters(phonemes)
    groups = _groups(phonemes, positions)
    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def assign(word: int, j: int) -> None:
        first.setdefault(word, positions[j])
        last[word] = positions[j]

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1):
                assign(owner[i1 + k], j1 + k)
        elif tag == "replace":
            words = sorted(set(owner[i1:i2]))
            spoken = sorted(set(groups[j1:j2]))
            for j in range(j1, j2):
                if len(words) == len(spoken):  # as many words as phoneme words: one to one
                    assign(words[spoken.index(groups[j])], j)
                else:
                    assign(owner[i1 + (j - j1) * (i2 - i1) // (j2 - j1)], j)
    loud = _Loudness(audio, rate) if audio is not None and len(audio) else None
    times: list[tuple[float, float] | None] = []
    previous_end = 0.0
    for n in range(len(matches)):
        if n not in first:
            times.append(None)
            continue
        lo, hi = first[n], last[n]
        while lo > 0 and phonemes[lo - 1] in _MARKS + " ":  # its stress marks and the space before it
            lo -= 1
        while hi + 1 < len(phonemes) and phonemes[hi + 1] in _MARKS:
            hi += 1
        s, e = float(starts[lo]) - lead_s, float(ends[hi]) - lead_s
        if loud is not None:  # after (before) silence: where its sound starts (ends)
            onset = loud.first(previous_end, float(ends[hi]), default=s)
            if _pause_at(phonemes, lo - 1) or onset - previous_end >= LONG_SILENCE_S:
                s = onset
            offset = loud.last(max(s, float(starts[lo])), float(ends[hi]), default=e)
            if _pause_at(phonemes, hi + 1) or float(ends[hi]) - offset >= LONG_SILENCE_S:
                e = offset
        times.append((max(float(s), 0.0), max(float(e), float(s), 0.0)))
        previous_end = times[-1][1]
    times = _fill(times, duration)
    out, previous = [], 0.0
    for m, (s, e) in zip(matches, times, strict=True):
        s = min(max(s, previous), duration)
        e = min(max(e, s), duration)
        out.append(WordTime(m.group(), s, e, m.start(), m.end()))
        previous = e
    return out


def _pause_at(phonemes: str, i: int) -> bool:
    """Whether the word edge next to ``phonemes[i]`` meets a pause: punctuation, a window join or
    the chunk's edge."""
    return not 0 <= i < len(phonemes) or not (phonemes[i].isalpha() or phonemes[i] == " ")


class _Loudness:
    """Where a chunk's audio is sound rather than silence, in 10 ms blocks (``SILENCE_DB`` below the
    loudest block)."""

    def __init__(self, audio: np.ndarray, rate: int) -> None:
        self.block = rate // 100
        n = len(audio) // self.block
        blocks = np.asarray(audio[: n * self.block], dtype=np.float64).reshape(n, self.block)
        db = 10 * np.log10(np.mean(blocks**2, axis=1) + 1e-12)
        self.loud = db > db.max() - SILENCE_DB if n else np.zeros(0, dtype=bool)
        self.seconds = self.block / rate

    def first(self, start: float, end: float, default: float) -> float:
        """The start of the first loud block in [start, end), else ``default``."""
        lo, hi = int(start / self.seconds), min(int(np.ceil(end / self.seconds)), len(self.loud))
        hits = np.flatnonzero(self.loud[lo:hi])
        return (lo + hits[0]) * self.seconds if len(hits) else default

    def last(self, start: float, end: float, default: float) -> float:
        """The end of the last loud block in [start, end), else ``default``."""
        lo, hi = int(start / self.seconds), min(int(np.ceil(end / self.seconds)), len(self.loud))
        hits = np.flatnonzero(self.loud[lo:hi])
        return (lo + hits[-1] + 1) * self.seconds if len(hits) else default


def _fill(times: list[tuple[float, float] | None], duration: float) -> list[tuple[float, float]]:
    """Words that matched nothing share the gap between their timed neighbours evenly."""
    out: list[tuple[float, float]] = []
    n = 0
    while n < len(times):
        if times[n] is not None:
            out.append(times[n])
            n += 1
            continue
        run = n
        while run < len(times) and times[run] is None:
            run += 1
        lo = out[-1][1] if out else 0.0
        hi = times[run][0] if run < len(times) else duration
        hi = max(hi, lo)
        step = (hi - lo) / (run - n)
        out.extend((lo + k * step, lo + (k + 1) * step) for k in range(run - n))
        n = run
    return out


# Characters


def _spread(chars: str, start: float, end: float) -> tuple[list[float], list[float]]:
    n = len(chars)
    step = (end - start) / n if n else 0.0
    return [start + k * step for k in range(n)], [start + (k + 1) * step if k + 1 < n else end for k in range(n)]


def char_alignment(text: str, words: Sequence[WordTime], duration: float) -> CharAlignment:
    """Every character of ``text``: a word's characters share its span, the characters between
    two words (spaces, punctuation) share the gap between them."""
    starts: list[float] = []
    ends: list[float] = []
    cursor, clock = 0, 0.0
    for w in [*words, WordTime("", duration, duration, len(text), len(text))]:
        gap = text[cursor : w.begin]
        s, e = _spread(gap, clock, max(clock, w.start))
        starts += s
        ends += e
        s, e = _spread(text[w.begin : w.stop], w.start, w.end)
        starts += s
        ends += e
        cursor, clock = w.stop, max(clock, w.end)
    return CharAlignment(list(text), starts, ends)


# Chunks -> clip


def join(timings: Sequence[Timing], pauses: float | Sequence[float]) -> Timing:
    """The timing of chunks spoken one after another with silence between them (``pauses``: the
    seconds after each chunk but the last, or one figure for all); the texts are joined by one
    space, which spans the pause."""
    gaps = [pauses] * len(timings) if isinstance(pauses, (int, float)) else list(pauses)
    words: list[WordTime] = []
    texts: list[str] = []
    clock, chars = 0.0, 0
    for k, t in enumerate(timings):
        if k:
            clock += gaps[k - 1]
            chars += 1
        words += [w.shifted(clock, chars) for w in t.words]
        texts.append(t.text)
        clock += t.duration
        chars += len(t.text)
    return Timing(" ".join(texts), clock, words)


_TOKEN = re.compile(r"\w+|[^\w\s]")  # words and single symbols; whitespace is what lies between them


def original_alignment(original: str, spoken: CharAlignment) -> CharAlignment:
    """``spoken`` (the normalised text's alignment) carried over to the text the user typed: runs
    the normaliser left alone keep their characters' times, a rewritten run shares the span of
    what replaced it, a removed run sits at the point where it was, and whitespace takes the time
    between its neighbours."""
    s0, e0 = spoken.character_start_times_seconds, spoken.character_end_times_seconds
    a = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(original)]
    b = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(spoken.text)]
    starts: list[float | None] = [None] * len(original)
    ends: list[float | None] = [None] * len(original)

    def point(j: int) -> float:  # the time just before normalised token j
        if j < len(b):
            return s0[b[j][1]]
        return e0[-1] if e0 else 0.0

    matcher = difflib.SequenceMatcher(None, [t for t, _, _ in a], [t for t, _, _ in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for (_, ca, cz), (_, cb, _) in zip(a[i1:i2], b[j1:j2], strict=True):
                starts[ca:cz], ends[ca:cz] = s0[cb : cb + cz - ca], e0[cb : cb + cz - ca]
        elif tag in ("replace", "delete"):
            ca, cz = a[i1][1], a[i2 - 1][2]
            lo, hi = (s0[b[j1][1]], e0[b[j2 - 1][2] - 1]) if tag == "replace" else (point(j1), point(j1))
            said = cz  # a rewritten run's trailing symbols ("Dr." -> "Doctor", "50%") end with it
            if any(c.isalnum() for c in original[ca:cz]):
                while not original[said - 1].isalnum():
                    said -= 1
            starts[ca:said], ends[ca:said] = _spread(original[ca:said], lo, hi)
            starts[said:cz], ends[said:cz] = [hi] * (cz - said), [hi] * (cz - said)
    _fill_gaps(starts, ends, spoken_end=e0[-1] if e0 else 0.0)
    return CharAlignment(list(original), starts, ends)  # type: ignore[arg-type]


def _fill_gaps(starts: list[float | None], ends: list[float | None], spoken_end: float) -> None:
    """Characters with no time yet (whitespace, or all of a text with no tokens) share the gap
    between their neighbours; then order is made strict against rounding."""
    k = 0
    while k < len(starts):
        if starts[k] is not None:
            k += 1
            continue
        run = k
        while run < len(starts) and starts[run] is None:
            run += 1
        lo = ends[k - 1] if k else 0.0
        hi = starts[run] if run < len(starts) else max(spoken_end, lo)
        starts[k:run], ends[k:run] = _spread(" " * (run - k), lo, max(hi, lo))
        k = run
    for k in range(1, len(starts)):
        starts[k] = max(starts[k], ends[k - 1])
        ends[k] = max(ends[k], starts[k])


# Captions


def words_of(alignment: CharAlignment) -> list[WordTime]:
    """Whitespace-separated words of an alignment's text, timed by their letters and digits (a
    quote or a comma at a word's edge does not stretch it)."""
    text = alignment.text
    out = []
    for m in re.finditer(r"\S+", text):
        inner = [i for i in range(m.start(), m.end()) if text[i].isalnum()] or list(range(m.start(), m.end()))
        out.append(
            WordTime(
                m.group(),
                alignment.character_start_times_seconds[inner[0]],
                alignment.character_end_times_seconds[inner[-1]],
                m.start(),
                m.end(),
            )
        )
    return out


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def cues(words: Sequence[WordTime], max_chars: int = 42, max_seconds: float = 7.0) -> list[Cue]:
    """Caption cues of whole words: at most ``max_chars`` characters and ``max_seconds`` each, and a
    sentence's end always ends a cue (a word ending in . ! ? … that the voice pauses after, so "Dr."
    does not)."""
    out: list[Cue] = []
    group: list[WordTime] = []

    def flush() -> None:
        if group:
            out.append(Cue(group[0].start, max(group[-1].end, group[0].start), " ".join(w.word for w in group)))
            group.clear()

    for k, w in enumerate(words):
        if group and (
            len(" ".join(x.word for x in group)) + 1 + len(w.word) > max_chars or w.end - group[0].start > max_seconds
        ):
            flush()
        group.append(w)
        after = words[k + 1].start - w.end if k + 1 < len(words) else np.inf
        if _SENTENCE_END.search(w.word) and after >= SENTENCE_GAP_S:
            flush()
    flush()
    return out


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(words: Sequence[WordTime], **limits: float) -> str:
    """SubRip captions (``cues``)."""
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(cues(words, **limits), 1)
    ]
    return "\n".join(blocks)


def webvtt(words: Sequence[WordTime], **limits: float) -> str:
    """WebVTT captions (``cues``)."""
    blocks = [f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n" for c in cues(words, **limits)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def timestamp_files(typed: str, spoken: Timing) -> dict[str, bytes]:
    """A clip's timestamp objects by extension (``studio.storage.TIMING_EXTENSIONS``): the JSON the
    public API serves (ElevenLabs' ``alignment`` of the typed text and ``normalized_alignment`` of
    the spoken text, the typed words with their times, the duration) and SRT / WebVTT captions."""
    import json

    alignment = original_alignment(typed, spoken.alignment)
    words = words_of(alignment)
    document = {
        "alignment": alignment.as_dict(),
        "normalized_alignment": spoken.alignment.as_dict(),
        "words": [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3)} for w in words],
        "duration": round(spoken.duration, 3),
    }
    return {
        ".json": json.dumps(document, ensure_ascii=False).encode(),
        ".srt": srt(words).encode(),
        ".vtt": webvtt(words).encode(),
    }
