"""Cuts the text of a TTS request into chunks: whitespace normalised, split at sentence boundaries.

Kokoro reads at most ~510 phonemes per pass, and progress is reported per chunk, so long text
is cut into chunks of whole sentences (a sentence longer than the limit is cut at clause marks,
then at spaces). Phonemes are the engine's business (``engine.KokoroEngine.windows``); the
model's own text side (ALBERT, text encoder, prosody) is ``kokoro_torch.text``.
"""

import re

MAX_CHUNK_CHARS = 300
STREAM_CHUNK_CHARS = 120
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+")


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
