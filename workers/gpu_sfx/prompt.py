"""Prompt -> sound sources with parameters.

The prompt is cut into clauses ("rain on a tin roof | distant thunder"). Each clause is matched
first against the catalogue's keywords (longest phrase first, so "fire truck" is a siren and
"ray gun" a laser), and only a clause no keyword names is matched by meaning, with the MiniLM
sentence embedding against each source's descriptions. Modifier words set parameters: distance
("distant", "close"), intensity ("heavy", "gentle"), tempo ("fast", "slow"), counts ("twice").

The match is open-set: every clause is also compared with sounds the catalogue cannot make
(``foreign.FOREIGN_SOUNDS``), and a source is only taken when it is the confident answer:

- a keyword match stands unless the clause means a foreign sound far better than the keyword's
  source ("a car door slamming" names "car", but it is not an engine);
- a meaning match needs a similarity of at least ``EMBEDDING_FLOOR``, a lead of
  ``RUNNER_UP_MARGIN`` over the next source and of ``FOREIGN_MARGIN`` over the nearest foreign
  sound ("creaky door" is nearer "a creaking door" than "knocking on a wooden door").

A clause that means a foreign sound is *rejected* (the engine refuses the prompt and says what it
heard); one that is merely unclear ("rocks" in "a creek over rocks") is left out as context.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.gpu_sfx.sources import CATALOGUE, SOURCES, Params

# Calibrated on tests/sfx_prompts.py and tests/sfx_open_set.py DEV (``python -m bench.sfx_refusals
# --margins`` prints how far each prompt sits from them); each has margin on both sides, since
# MiniLM's cosines move by ~1e-3 between CPUs and thread counts.
EMBEDDING_FLOOR = 0.47  # meaning matches: right ones scored 0.50-0.96, wrong ones down to 0.30
RUNNER_UP_MARGIN = 0.03  # lead over the second-best source
FOREIGN_MARGIN = 0.01  # lead over the nearest foreign sound
KEYWORD_FOREIGN_MARGIN = 0.30  # a keyword loses when a foreign sound is this much nearer than its source
FOREIGN_FLOOR = 0.60  # a clause nearer a foreign sound than any source, at least this near, is rejected

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
class Match:
    """How near a clause is to every catalogue source and to the nearest foreign sound (cosines)."""

    scores: dict[str, float]  # source name -> best similarity over its descriptions
    foreign: str  # the nearest sound the catalogue cannot make
    foreign_score: float

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.scores.items(), key=lambda kv: -kv[1])


@dataclass
class Rejected:
    clause: str
    heard: str  # the foreign sound it was nearest
    closest: list[str]  # the nearest catalogue sources, best first


@dataclass
class Plan:
    layers: list[Layer] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # unclear clauses, left out
    rejected: list[Rejected] = field(default_factory=list)  # clauses meaning sounds it cannot make

    @property
    def sources(self) -> list[str]:
        return [layer.source for layer in self.layers]

    @property
    def accepted(self) -> bool:
        """The engine renders a plan only when something matched and nothing was rejected."""
        return bool(self.layers) and not self.rejected

    def describe(self) -> str:
        """What the engine understood, for the user: "heavy rain (tin roof) + distant thunder"."""
        return " + ".join(describe_layer(layer) for layer in self.layers)


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


def describe_layer(layer: Layer) -> str:
    p, words = layer.params, []
    if p.distance >= 0.5:
        words.append("distant")
    elif p.distance <= 0.1:
        words.append("close")
    if p.intensity >= 0.8:
        words.append("heavy")
    elif p.intensity <= 0.3:
        words.append("gentle")
    if p.rate > 1.2:
        words.append("fast")
    elif p.rate < 0.8:
        words.append("slow")
    source = SOURCES.get(layer.source)
    if source is None:  # an engine without a catalogue (diffusion) takes the prompt as it is
        return layer.clause
    text = " ".join([*words, source.label])
    if p.variant:
        text += f" ({p.variant})"
    if p.count and p.count > 1:
        text += f" ×{p.count}"
    return text


def decide(clause: str, keyword: str | None, match: Match) -> tuple[str | None, float, bool]:
    """(source or None, its similarity, whether the clause means a sound the catalogue lacks)."""
    ranked = match.ranked()
    if keyword is not None:
        score = match.scores[keyword]
        if match.foreign_score - score > KEYWORD_FOREIGN_MARGIN:
            return None, score, True
        return keyword, score, False
    (best, score), (_, second) = ranked[0], ranked[1]
    if (
        score >= EMBEDDING_FLOOR
        and score - second >= RUNNER_UP_MARGIN
        and score - match.foreign_score >= FOREIGN_MARGIN
    ):
        return best, score, False
    return None, score, match.foreign_score >= FOREIGN_FLOOR and match.foreign_score > score


def parse(prompt: str, embed: Callable[[list[str]], list[Match]] | None = None) -> Plan:
    """The sources a prompt asks for. ``embed`` scores clauses against the catalogue and the
    foreign sounds; without it (tests, the site) only keywords are understood."""
    plan = Plan()
    parts = clauses(prompt)
    matches = embed(parts) if embed is not None and parts else [None] * len(parts)
    found: list[Layer] = []
    for clause, match in zip(parts, matches, strict=True):
        keyword = keyword_source(clause)
        if match is None:
            name, score, foreign = keyword, 1.0, False
        else:
            name, score, foreign = decide(clause, keyword, match)
        if foreign:
            plan.rejected.append(Rejected(clause, match.foreign, [n for n, _ in match.ranked()[:3]]))
        elif name is None:
            plan.unmatched.append(clause)
        else:
            how = "keyword" if keyword is not None else "embedding"
            found.append(Layer(name, modifiers(clause, prompt.lower(), name), clause, how, score))
    for layer in sorted(found, key=lambda layer: layer.how != "keyword"):  # named sources first
        if layer.source not in plan.sources:
            plan.layers.append(layer)
    return plan
