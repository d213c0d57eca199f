"""Pronunciation dictionaries in the text front end: a request's rules (``studio.pronunciation``,
resolved by the API into the ``pronunciation_rules`` setting) applied before normalisation.

An alias rule replaces the words by its alias, which is then read (and normalised) as any text;
a phoneme rule turns the words into a marked-up span ``[words](/phonemes/)`` (``markup``), so
captions and timestamps still name the words. Rules match whole words with their case unless they
say otherwise (ElevenLabs' ``word_boundaries``, ``case_sensitive``), apply in order, and never
touch text already inside a span (inline markup, or an earlier phoneme rule's).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=1024)
def _pattern(string: str, case_sensitive: bool, word_boundaries: bool) -> re.Pattern[str]:
    body = re.escape(string)
    if word_boundaries:  # no letter or digit just before or after (punctuation and spaces are edges)
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def substitution(rule: dict) -> Callable[[str], str]:
    """What one rule does to a plain run of text (``markup.spoken_text`` applies it to each run,
    in the order of the rules, leaving spans alone)."""
    pattern = _pattern(rule["string_to_replace"], rule.get("case_sensitive", True), rule.get("word_boundaries", True))
    if rule["type"] == "alias":
        alias = rule["alias"]
        return lambda run: pattern.sub(lambda _: alias, run)
    phonemes = rule["phoneme"]
    return lambda run: pattern.sub(lambda m: f"[{m.group(0)}](/{phonemes}/)", run)
