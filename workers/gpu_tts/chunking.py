"""Cuts the text of a TTS request into chunks: whitespace normalised, split at sentence boundaries.

Kokoro reads at most ~510 phonemes per pass, and progress is reported per chunk, so long text
is cut into chunks of whole sentences (a sentence longer than the limit is cut at clause marks,
then at spaces). A streamed request's first chunks are cut shorter (``split_for_stream``): the
first sound waits for the first chunk, and each chunk must be ready before the one before it
has finished playing. Phonemes are the engine's business (``engine.KokoroEngine.windows``); the
model's own text side (ALBERT, text encoder, prosody) is ``kokoro_torch.text``.
"""

import re

MAX_CHUNK_CHARS = 300
STREAM_CHUNK_CHARS = 120
# A stream's first chunks, in characters: a few words (~1.5 s of speech, rendered in under a second
# on a 2-core CPU at RTF ~0.6), then a clause, then growing (by less than 1 / RTF) to whole-chunk
# size: each renders in less time than the one before it takes to play, and long text still goes
# in few, large chunks.
STREAM_RAMP = (24, 60, 120, 200)
MIN_CUT_CHARS = 12  # never leave a scrap shorter than this on either side of a ramp cut
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+")
_SPACE = re.compile(r"\s+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"')\]]*$")
_ENDS_CLAUSE = re.compile(r"[,;:—]$")


def normalise(text: str) -> str:
    return " ".join(text.split())


def _split_long(piece: str, limit: int) -> list[str]:
    if len(piece) <= limit:
        return [piece]
    parts: list[str] = []
    for clause in _CLAUSE_END.split(piece):
        while len(clause) > limit:
            cut = clause.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            parts.append(clause[:cut].strip())
            clause = clause[cut:].strip()
        if clause:
            parts.append(clause)
    return parts


def split_into_chunks(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Group whole sentences into chunks of at most ``limit`` characters, in order."""
    text = normalise(text)
    if not text:
        return []
    pieces = [p for s in _SENTENCE_END.split(text) if s for p in _split_long(s.strip(), limit)]
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks


def split_for_stream(text: str) -> list[str]:
    """Chunks for a streamed request, growing along ``STREAM_RAMP`` then ``MAX_CHUNK_CHARS``: each
    ends at the last sentence end, else clause mark, else space that fits (never leaving a scrap);
    with none, at the first space past the limit."""
    text = normalise(text)
    chunks: list[str] = []
    limits = iter(STREAM_RAMP)
    while text:
        limit = next(limits, MAX_CHUNK_CHARS)
        if len(text) <= limit:
            chunks.append(text)
            break
        cut = _head_cut(text, limit)
        chunks.append(text[:cut].strip())
        text = text[cut:].strip()
    return chunks


def _head_cut(text: str, limit: int) -> int:
    """Where the next streamed chunk of ``text`` ends (see ``split_for_stream``)."""
    fits = range(MIN_CUT_CHARS, min(limit, len(text) - MIN_CUT_CHARS) + 1)
    for marks in (_SENTENCE_END, _CLAUSE_END, _SPACE):
        cuts = [m.start() for m in marks.finditer(text) if m.start() in fits]
        if cuts:
            return cuts[-1]
    if later := _SPACE.search(text, limit):
        return later.start()
    return len(text) if _SPACE.search(text) else limit  # one unbroken run: cut it as the limit says


def boundary(chunk: str) -> str:
    """How ``chunk`` ends, for the pause after it: "sentence", "clause" or "word" (a ramp cut)."""
    if _ENDS_SENTENCE.search(chunk):
        return "sentence"
    return "clause" if _ENDS_CLAUSE.search(chunk) else "word"


def sentence_ends(chunks: list[str]) -> list[int]:
    """How many sentences each chunk finishes (the text's end finishes one, punctuated or not)."""
    ends = [len(_SENTENCE_END.findall(chunk)) + (boundary(chunk) == "sentence") for chunk in chunks]
    if chunks and boundary(chunks[-1]) != "sentence":
        ends[-1] += 1
    return ends
