"""Sound-effect engines behind one interface: prompt + duration + influence + seed -> variations.

``ProceduralEngine`` (the default) understands the prompt (``prompt.parse`` with MiniLM for
clauses no keyword names), renders each source with its own generator, places events in time,
layers everything and masters the mix: loudness to a target, a peak limiter (no clipping),
fades. Same prompt, settings and seed => the same audio, sample for sample.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from workers.devices import resolve_device
from workers.gpu_sfx.dsp import RATE, band, place, reverb, rms_db
from workers.gpu_sfx.prompt import Plan, parse
from workers.gpu_sfx.sources import CATALOGUE, SOURCES, Params

log = logging.getLogger(__name__)

TARGET_RMS_DB = -20.0  # loudness of the finished mix
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS
REPEAT_INSIDE = frozenset({"knock", "beep", "bark"})  # one event holds all the knocks/beeps/barks


class UnmatchedPrompt(ValueError):
    """Nothing in the prompt is a sound this engine can make."""


@dataclass
class SfxResult:
    variations: list[np.ndarray]  # float32 mono at ``RATE``
    plan: Plan
    sample_rate: int = RATE


class SfxEngine(Protocol):
    name: str

    def understand(self, prompt: str) -> Plan: ...

    def generate(self, prompt: str, seconds: float, influence: float, seed: int, variations: int) -> SfxResult: ...


class ProceduralEngine:
    name = "procedural"

    def __init__(self) -> None:
        self._descriptions: list[tuple[str, str]] = [(s.name, d) for s in CATALOGUE for d in [*s.descriptions, s.name]]
        self._description_vectors = None
        self._lock = threading.Lock()

    def _embed(self, clauses: list[str]) -> list[tuple[str, float]]:
        """Best catalogue source for each clause by sentence-embedding cosine similarity."""
        from workers.gpu_sfx.text_encoder import get_encoder

        with self._lock:
            if self._description_vectors is None:
                self._description_vectors = get_encoder().encode([d for _, d in self._descriptions])
        sims = get_encoder().encode(clauses) @ self._description_vectors.T
        best = sims.max(dim=1)
        return [(self._descriptions[int(i)][0], float(v)) for v, i in zip(best.values, best.indices, strict=True)]

    def understand(self, prompt: str) -> Plan:
        return parse(prompt, self._embed)

    def generate(self, prompt: str, seconds: float, influence: float, seed: int, variations: int) -> SfxResult:
        plan = self.understand(prompt)
        if not plan.layers:
            examples = ", ".join(s.descriptions[0] for s in CATALOGUE[::5])
            raise UnmatchedPrompt(
                f"No sound in this engine matches {prompt.strip()!r}. It makes weather, water, fire, animals, "
                f"machines, crowds, impacts and sci-fi effects; try e.g. {examples}."
            )
        n = int(round(seconds * RATE))
        out = [render(plan, n, influence, np.random.default_rng([seed, v])) for v in range(variations)]
        return SfxResult(out, plan)


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
    seconds = n / RATE
    has_events = any(SOURCES[layer.source].kind == "event" for layer in plan.layers)
    mix = np.zeros(n, np.float32)
    for layer in plan.layers:
        source = SOURCES[layer.source]
        params = _jittered(layer.params, rng, influence)
        if source.kind == "bed":
            sound = source.make(rng, n, params)
            gain = 0.5 if has_events else 1.0
        else:
            length = int(min(source.event_seconds * (1 + 0.5 * params.distance), seconds) * RATE)
            sound = np.zeros(n, np.float32)
            # knocks, beeps and barks repeat inside one event (the count sets how many); others repeat as events
            repeats = 1 if source.name in REPEAT_INSIDE else params.count
            for start in _event_times(rng, seconds, length / RATE, repeats):
                place(sound, source.make(rng, max(length, 1), params), int(start * RATE))
            gain = 1.0
        mix += gain * distance_treatment(sound, params.distance, rng)
    return master(mix)


def distance_treatment(x: np.ndarray, distance: float, rng: np.random.Generator) -> np.ndarray:
    """Far away: quieter, duller, more room."""
    if distance < 0.3:
        return x
    dull = band(x, None, 12000 * (1 - distance) + 1500)
    return reverb(dull, rng, 1.2, 0.4 * distance) * (1 - 0.5 * distance)


def master(x: np.ndarray) -> np.ndarray:
    """Loudness to TARGET_RMS_DB, a smooth peak limiter to -1 dBFS, short fades."""
    x = x - np.mean(x)
    for _ in range(3):  # limiting lowers the level; peaky sources need a few rounds to reach it
        level = rms_db(x)
        if level < -90 or abs(level - TARGET_RMS_DB) < 0.5:
            break
        x = limit(x * 10 ** ((TARGET_RMS_DB - level) / 20))
    x = limit(x)
    fade_in, fade_out = min(len(x) // 10, int(0.01 * RATE)), min(len(x) // 5, int(0.15 * RATE))
    if fade_in:
        x[:fade_in] *= np.linspace(0, 1, fade_in)
    if fade_out:
        x[-fade_out:] *= np.linspace(1, 0, fade_out)
    return x.astype(np.float32)


def limit(x: np.ndarray, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Gain reduction wherever a 5 ms neighbourhood peaks above the ceiling, smoothed, so peaky
    sources (gunshots, knocks) can be loud without clipping."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    window = int(0.005 * RATE)
    peak = maximum_filter1d(np.abs(x), size=2 * window + 1)
    gain = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    gain = np.minimum(gain, uniform_filter1d(gain, size=window))  # smooth without letting peaks through
    y = x * gain
    over = np.max(np.abs(y))
    return y * (ceiling / over) if over > ceiling else y


_engine: SfxEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> SfxEngine:
    """The process-wide engine: procedural, or a diffusers pipeline when settings name one."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from studio.settings import get_settings

            settings = get_settings()
            if settings.sfx_engine == "diffusers":
                from workers.gpu_sfx.diffusion import DiffusersEngine

                if settings.sfx_model_dir is None:
                    raise RuntimeError("STUDIO_SFX_ENGINE=diffusers needs STUDIO_SFX_MODEL_DIR (a saved pipeline)")
                device = resolve_device(settings.sfx_device)
                _engine = DiffusersEngine(settings.sfx_model_dir, device, settings.sfx_steps)
            else:
                _engine = ProceduralEngine()
        return _engine
