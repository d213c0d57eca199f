"""Sound-effect engines behind one interface: prompt + duration + influence + seed -> variations.

``ProceduralEngine`` (the default) understands the prompt (``prompt.parse``: keywords, and MiniLM
for meaning and for telling a catalogue sound from one it cannot make), refuses a prompt it has
no confident match for (``UnmatchedPrompt``, naming what it heard and its closest sounds),
renders each source with its own generator, places events in time,
layers everything and masters the mix: loudness to a target, a peak limiter (no clipping),
fades. Same prompt, settings and seed => the same audio, sample for sample.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from workers.devices import resolve_device
from workers.engines import Engine, one_per_process
from workers.gpu_sfx.dsp import SFX_RATE, band, place, reverb
from workers.gpu_sfx.foreign import FOREIGN_SOUNDS
from workers.gpu_sfx.prompt import Match, Plan, parse
from workers.gpu_sfx.result import SfxResult, master
from workers.gpu_sfx.sources import CATALOGUE, SOURCES, Params

REPEAT_INSIDE = frozenset({"knock", "beep", "bark"})  # one event holds all the knocks/beeps/barks


class UnmatchedPrompt(ValueError):
    """The prompt asks for a sound this engine cannot make, or for nothing it recognises."""


def refusal(prompt: str, plan: Plan) -> str:
    """The message for a prompt the engine will not render: what it heard, what it can make."""
    labels = lambda names: ", ".join(SOURCES[n].label for n in names)  # noqa: E731
    if plan.rejected:
        heard = "; ".join(f"{r.clause!r} sounds like {r.heard}" for r in plan.rejected)
        closest = labels(dict.fromkeys(n for r in plan.rejected for n in r.closest))
        return (
            f"No sound in this engine matches {prompt.strip()!r}: {heard}, which it cannot make. "
            f"The closest sounds it can make are {closest}."
        )
    examples = ", ".join(s.descriptions[0] for s in CATALOGUE[::5])
    return (
        f"No sound in this engine matches {prompt.strip()!r}. It makes weather, water, fire, animals, "
        f"machines, crowds, impacts and sci-fi effects; try e.g. {examples}."
    )


class SfxEngine(Engine, Protocol):
    def understand(self, prompt: str) -> Plan: ...

    def generate(self, prompt: str, seconds: float, influence: float, seed: int, variations: int) -> SfxResult: ...


class ProceduralEngine:
    name = "procedural"

    def __init__(self) -> None:
        self._descriptions: list[tuple[str, str]] = [(s.name, d) for s in CATALOGUE for d in [*s.descriptions, s.name]]
        self._description_vectors = None
        self._lock = threading.Lock()

    def _embed(self, clauses: list[str]) -> list[Match]:
        """Each clause's cosine similarity to every source (its best description) and to the
        nearest sound the catalogue cannot make."""
        from workers.gpu_sfx.text_encoder import get_encoder

        with self._lock:
            if self._description_vectors is None:
                encoder = get_encoder()
                self._description_vectors = encoder.encode([d for _, d in self._descriptions])
                self._foreign_vectors = encoder.encode(FOREIGN_SOUNDS)
        vectors = get_encoder().encode(clauses)
        sims = (vectors @ self._description_vectors.T).tolist()
        foreign = (vectors @ self._foreign_vectors.T).max(dim=1)
        out = []
        for row, f_score, f_index in zip(sims, foreign.values.tolist(), foreign.indices.tolist(), strict=True):
            scores: dict[str, float] = {}
            for (name, _), sim in zip(self._descriptions, row, strict=True):
                scores[name] = max(scores.get(name, -1.0), sim)
            out.append(Match(scores, FOREIGN_SOUNDS[f_index], f_score))
        return out

    def understand(self, prompt: str) -> Plan:
        return parse(prompt, self._embed)

    def warm_up(self) -> None:
        """Load the text encoder (MiniLM) and embed the catalogue now, not on the first request."""
        self.understand("warm up the text encoder")

    def interpret(self, prompt: str) -> str:
        """What the engine would make of a prompt ("rain (tin) + distant thunder"); raises
        ``UnmatchedPrompt`` with the refusal message when it would refuse."""
        plan = self.understand(prompt)
        if not plan.accepted:
            raise UnmatchedPrompt(refusal(prompt, plan))
        return plan.describe()

    def generate(self, prompt: str, seconds: float, influence: float, seed: int, variations: int) -> SfxResult:
        plan = self.understand(prompt)
        if not plan.accepted:
            raise UnmatchedPrompt(refusal(prompt, plan))
        interpretation = plan.describe()  # the activity logs it with the clip id
        n = int(round(seconds * SFX_RATE))
        out = [render(plan, n, influence, np.random.default_rng([seed, v])) for v in range(variations)]
        return SfxResult(out, interpretation)


def _jittered(p: Params, rng: np.random.Generator, influence: float) -> Params:
    """Low prompt influence lets each variation stray further from the prompt's parameters."""
    spread = 0.35 * (1 - influence)
    return Params(
        intensity=float(np.clip(p.intensity + rng.uniform(-spread, spread), 0, 1)),
        distance=float(np.clip(p.distance + rng.uniform(-spread, spread) * 0.5, 0, 1)),
        rate=float(p.rate * np.exp(rng.uniform(-spread, spread))),
        count=p.count,
        variant=p.variant,
    )


def _event_times(rng: np.random.Generator, seconds: float, length: float, count: int | None) -> list[float]:
    if count is None:
        count = 1 if seconds < 2 * length else int(rng.integers(1, max(2, int(seconds / (length * 1.5))) + 1))
    if count == 1:
        return [float(rng.uniform(0.05, max(0.06, min(0.3 * seconds, seconds - length))))]
    slot = seconds / count
    return [float(i * slot + rng.uniform(0.05, max(0.06, slot * 0.4))) for i in range(count)]


def render(plan: Plan, n: int, influence: float, rng: np.random.Generator) -> np.ndarray:
    """Render every layer, place events, mix and master."""
    seconds = n / SFX_RATE
    has_events = any(SOURCES[layer.source].kind == "event" for layer in plan.layers)
    mix = np.zeros(n, np.float32)
    for layer in plan.layers:
        source = SOURCES[layer.source]
        params = _jittered(layer.params, rng, influence)
        if source.kind == "bed":
            sound = source.make(rng, n, params)
            gain = 0.5 if has_events else 1.0
        else:
            length = int(min(source.event_seconds * (1 + 0.5 * params.distance), seconds) * SFX_RATE)
            sound = np.zeros(n, np.float32)
            # knocks, beeps and barks repeat inside one event (the count sets how many); others repeat as events
            repeats = 1 if source.name in REPEAT_INSIDE else params.count
            for start in _event_times(rng, seconds, length / SFX_RATE, repeats):
                place(sound, source.make(rng, max(length, 1), params), int(start * SFX_RATE))
            gain = 1.0
        mix += gain * distance_treatment(sound, params.distance, rng)
    return master(mix)


def distance_treatment(x: np.ndarray, distance: float, rng: np.random.Generator) -> np.ndarray:
    """Far away: quieter, duller, more room."""
    if distance < 0.3:
        return x
    dull = band(x, None, 12000 * (1 - distance) + 1500)
    return reverb(dull, rng, 1.2, 0.4 * distance) * (1 - 0.5 * distance)


@one_per_process
def sfx_engine() -> SfxEngine:
    """The process-wide sound-effect engine: procedural, or a diffusers pipeline when settings name one."""
    from studio.settings import get_settings

    settings = get_settings()
    if settings.sfx_engine != "diffusers":
        return ProceduralEngine()
    from workers.gpu_sfx.diffusion import DiffusersEngine

    if settings.sfx_model_dir is None:
        raise RuntimeError("STUDIO_SFX_ENGINE=diffusers needs STUDIO_SFX_MODEL_DIR (a saved pipeline)")
    return DiffusersEngine(settings.sfx_model_dir, resolve_device(settings.sfx_device), settings.sfx_steps)
