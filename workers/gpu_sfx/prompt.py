"""Prompt -> sound sources with parameters.

The prompt is cut into clauses ("rain on a tin roof | distant thunder"). Each clause is matched
first against the catalogue's keywords (longest phrase first, so "fire truck" is a siren and
"ray gun" a laser), and only a clause no keyword names is matched by meaning, with the MiniLM
sentence embedding against each source's descriptions; below a similarity floor the clause is
reported as not understood rather than guessed. Modifier words set parameters: distance
("distant", "close"), intensity ("heavy", "gentle"), tempo ("fast", "slow"), counts ("twice").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.gpu_sfx.sources import CATALOGUE, SOURCES, Params

EMBEDDING_FLOOR = 0.47  # on the labelled prompts right matches scored 0.50-0.88, refusals 0.30-0.44

_CLAUSE_SPLIT = re.compile(
    r",|;|\.|\bwith\b|\band\b|\bthen\b|\bplus\b|\bwhile\b|\bfollowed by\b|\bover\b|\bamid\b|\bas\b|\bbehind\b"
)
_DISTANT = re.compile(r"\b(distant|far|faraway|far-off|in the distance|remote|muffled)\b")
_CLOSE = re.compile(r"\b(close|closeup|close-up|nearby|near|right next)\b")
_STRONG = re.compile(
    r"\b(heavy|loud|intense|strong|huge|big|violent|pouring|torrential|massive|powerful|roaring|angry)\b"
)
_GENTLE = re.compile(r"\b(light|gentle|soft|quiet|faint|small|little|calm|soothing|low|lazy)\b")
_FAST = re.compile(r"\b(fast|quick|quickly|rapid|rapidly|running|hurried|frantic)\b")
_SLOW = re.compile(r"\b(slow|slowly|leisurely|steady)\b")
_COUNTS = {
    "once": 1, "single": 1, "one": 1, "twice": 2, "two": 2, "double": 2, "three": 3, "thrice": 3, "triple": 3,
    "four": 4, "five": 5, "several": 4, "multiple": 4, "few": 3,
}  # fmt: skip
_FILLER = {"a", "an", "the", "of", "in", "on", "at", "sound", "sounds", "some", "noise", "effect", "background"}


@dataclass
class Layer:
    source: str
    params: Params
    clause: str
    how: str  # "keyword" or "embedding"
    score: float = 1.0


@dataclass
class Plan:
    layers: list[Layer] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return [layer.source for layer in self.layers]


def clauses(prompt: str) -> list[str]:
    parts = [" ".join(p.split()) for p in _CLAUSE_SPLIT.split(prompt.lower())]
    return [p for p in parts if p and set(p.split()) - _FILLER]


def _keyword_index() -> list[tuple[re.Pattern, str]]:
    pairs = [(kw, s.name) for s in CATALOGUE for kw in s.keywords]
    pairs.sort(key=lambda kv: -len(kv[0]))  # longest phrase first
    return [(re.compile(rf"\b{re.escape(kw)}s?\b"), name) for kw, name in pairs]


_KEYWORDS = _keyword_index()


def keyword_source(clause: str) -> str | None:
    """The source a clause names: the earliest keyword in it, longer phrases winning ties.

    One source per clause: within a clause further keywords describe the first ("alarm clock
    beeping", "fireworks exploding"); layers come from separate clauses ("rain with thunder").
    """
    found = []
    for pattern, name in _KEYWORDS:
        match = pattern.search(clause)
        if match:
            found.append((match.start(), -(match.end() - match.start()), name))
    return min(found)[2] if found else None


def modifiers(clause: str, prompt: str, source: str) -> Params:
    p = Params()
    if _DISTANT.search(clause):
        p.distance = 0.8
    elif _CLOSE.search(clause):
        p.distance = 0.05
    if _STRONG.search(clause):
        p.intensity = 0.9
    elif _GENTLE.search(clause):
        p.intensity = 0.2
    if _FAST.search(clause):
        p.rate = 1.6
    elif _SLOW.search(clause):
        p.rate = 0.6
    for word in re.findall(r"[a-z]+", clause):
        if word in _COUNTS:
            p.count = _COUNTS[word]
            break
    m = re.search(r"\b(\d+) times\b", clause)
    if m:
        p.count = min(int(m.group(1)), 20)
    variants = [v for v in SOURCES[source].variants if re.search(rf"\b{v}\b", prompt)]
    p.variant = variants[0] if variants else ""
    return p


def parse(prompt: str, embed: Callable[[list[str]], list[tuple[str, float]]] | None = None) -> Plan:
    """The sources a prompt asks for. ``embed`` maps clauses to (best source, similarity)."""
    plan = Plan()
    pending: list[str] = []
    for clause in clauses(prompt):
        name = keyword_source(clause)
        if name is None:
            pending.append(clause)
        elif name not in plan.sources:
            plan.layers.append(Layer(name, modifiers(clause, prompt.lower(), name), clause, "keyword"))
    if pending and embed is not None:
        for clause, (name, score) in zip(pending, embed(pending), strict=True):
            if score >= EMBEDDING_FLOOR and name not in plan.sources:
                plan.layers.append(Layer(name, modifiers(clause, prompt.lower(), name), clause, "embedding", score))
            elif score < EMBEDDING_FLOOR:
                plan.unmatched.append(clause)
    else:
        plan.unmatched.extend(pending)
    return plan
