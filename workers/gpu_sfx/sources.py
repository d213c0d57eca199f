"""The sound sources the procedural engine can make, each a small generator.

A *bed* fills the whole duration (rain, wind, engine hum); an *event* is one occurrence (a knock,
a thunderclap) that the mixer places in time, as often as the prompt asks. Every generator takes
a seeded random generator, a length in samples and :class:`Params`, and returns mono float32 at
44.1 kHz of roughly unit peak; the mixer sets levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from workers.gpu_sfx.dsp import SFX_RATE, band, envelope, noise, place, smooth_random, tone


@dataclass
class Params:
    intensity: float = 0.5  # 0 gentle .. 1 heavy
    distance: float = 0.2  # 0 close .. 1 far away
    rate: float = 1.0  # tempo of repeated things (steps, ticks, barks)
    count: int | None = None  # events: how many times; None = the mixer decides
    variant: str = ""  # a keyword that picks a flavour (e.g. "tin" for rain on a tin roof)


Generator = Callable[[np.random.Generator, int, Params], np.ndarray]


@dataclass
class Source:
    name: str
    kind: str  # "bed" or "event"
    make: Generator
    keywords: list[str]
    descriptions: list[str]  # for the sentence-embedding match
    variants: list[str] = field(default_factory=list)
    event_seconds: float = 1.0  # typical length of one event
    label: str = ""  # what the user is told was matched ("dog barking"); the name if empty

    def __post_init__(self) -> None:
        self.label = self.label or self.name


def _norm(x: np.ndarray) -> np.ndarray:
    return (x / (np.max(np.abs(x)) + 1e-9)).astype(np.float32)


# ---- beds ---------------------------------------------------------------------------------------


def rain(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    hiss = band(noise(rng, n, "pink"), 400, 9000) * (0.3 + 0.5 * p.intensity)
    drops = np.zeros(n, np.float32)
    per_second = 60 + 900 * p.intensity
    metallic = p.variant in ("tin", "roof", "metal")
    for start in rng.integers(0, n, int(per_second * n / SFX_RATE)):
        length = int(SFX_RATE * (0.03 if metallic else 0.008))
        f = rng.uniform(2500, 6000) if metallic else rng.uniform(1500, 4000)
        drop = tone(f, length) * envelope(length, 0.0005, 0.01 if metallic else 0.002)
        place(drops, drop, int(start), rng.uniform(0.1, 0.6))
    return _norm(hiss + drops)


def wind(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    gust = smooth_random(rng, n, 0.5 + p.intensity, 0.2, 1.0)
    body = band(noise(rng, n, "brown"), 60, 900) * gust
    howl = np.zeros(n, np.float32)
    if p.variant in ("howling", "howl", "storm") or p.intensity > 0.7:
        centre = smooth_random(rng, n, 0.4, 300, 900)
        howl = band(noise(rng, n), 250, 1000, order=4) * tone(centre, n) * gust * 0.6
    return _norm(body + howl)


def fire(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    roar = band(noise(rng, n, "brown"), 40, 500) * smooth_random(rng, n, 2, 0.5, 1.0) * (0.3 + 0.5 * p.intensity)
    crackle = np.zeros(n, np.float32)
    for start in rng.integers(0, n, int((8 + 40 * p.intensity) * n / SFX_RATE)):
        length = int(SFX_RATE * rng.uniform(0.002, 0.02))
        pop = band(noise(rng, length), 1500, 8000) * envelope(length, 0.0, length / SFX_RATE / 4)
        place(crackle, pop, int(start), rng.uniform(0.3, 1.0))
    return _norm(roar + crackle)


def stream(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    flow = band(noise(rng, n, "pink"), 300, 4000) * smooth_random(rng, n, 4, 0.6, 1.0)
    bubbles = np.zeros(n, np.float32)
    for start in rng.integers(0, n, int((20 + 60 * p.intensity) * n / SFX_RATE)):
        length = int(SFX_RATE * 0.04)
        f0 = rng.uniform(400, 1200)
        bubble = tone(np.linspace(f0, f0 * 1.8, length), length) * envelope(length, 0.002, 0.012)
        place(bubbles, bubble, int(start), rng.uniform(0.1, 0.4))
    return _norm(flow + bubbles)


def ocean(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    t = np.arange(n) / SFX_RATE
    period = rng.uniform(6, 10) / (0.7 + 0.6 * p.intensity)
    swell = (0.5 + 0.5 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6))) ** 3
    surf = band(noise(rng, n, "pink"), 100, 6000) * (0.15 + 0.85 * swell)
    return _norm(surf)


def engine(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    base = {"truck": 30, "motorcycle": 55, "car": 40, "boat": 25}.get(p.variant, 35) * (0.8 + 0.6 * p.intensity)
    rpm = base * smooth_random(rng, n, 0.3, 0.95, 1.05)
    harmonics = sum(tone(rpm * k, n) / k for k in range(1, 9))
    rumble = band(noise(rng, n, "brown"), 20, 300) * 0.3
    return _norm(band(harmonics, None, 2000) + rumble)


def hum(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    """Sci-fi drone / spaceship engine room: detuned low oscillators with slow movement."""
    base = rng.uniform(45, 70)
    wobble = smooth_random(rng, n, 0.2, 0.98, 1.02)
    drone = sum(tone(base * k * wobble * (1 + 0.003 * j), n) / k for k in (1, 2, 3, 5) for j in (-1, 1))
    air = band(noise(rng, n, "brown"), 30, 400) * 0.4
    return _norm(drone + air)


def crowd(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    voices = np.zeros(n, np.float32)
    for _ in range(int(6 + 20 * p.intensity)):
        syllables = (smooth_random(rng, n, 6, 0, 1) > 0.55).astype(np.float32)
        formant = smooth_random(rng, n, 3, 400, 1800)
        voice = band(noise(rng, n), 200, 3000) * syllables * (0.6 + 0.4 * tone(formant / 8, n))
        voices += voice * rng.uniform(0.3, 1)
    return _norm(band(voices, 150, 4000))


def insects(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    t = np.arange(n) / SFX_RATE
    for _ in range(int(3 + 6 * p.intensity)):
        f = rng.uniform(3500, 5500)
        pulse_rate = rng.uniform(12, 30)
        gate = (np.sin(2 * np.pi * pulse_rate * t + rng.uniform(0, 6)) > 0.3).astype(np.float32)
        chirps = (np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * t + rng.uniform(0, 6)) > -0.2).astype(np.float32)
        out += tone(f, n) * gate * chirps * rng.uniform(0.3, 1)
    return _norm(out)


def birds(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    for start in rng.integers(0, n, int((2 + 6 * p.intensity) * n / SFX_RATE)):
        notes = rng.integers(1, 5)
        pos = int(start)
        for _ in range(notes):
            length = int(SFX_RATE * rng.uniform(0.05, 0.15))
            f0, f1 = rng.uniform(2000, 5000), rng.uniform(2000, 6000)
            chirp = tone(np.linspace(f0, f1, length), length) * np.hanning(length).astype(np.float32)
            place(out, chirp, pos, rng.uniform(0.4, 1))
            pos += length + int(SFX_RATE * rng.uniform(0.02, 0.08))
    return _norm(out)


def typing(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    pos = 0
    while pos < n:
        length = int(SFX_RATE * 0.015)
        click = band(noise(rng, length), 1000, 9000) * envelope(length, 0.0003, 0.003)
        place(out, click, pos, rng.uniform(0.5, 1))
        pos += int(SFX_RATE * rng.uniform(0.06, 0.2) / p.rate) + (
            int(SFX_RATE * rng.uniform(0.3, 0.8)) if rng.random() < 0.08 else 0
        )
    return _norm(out)


def clock(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    length = int(SFX_RATE * 0.02)
    for i, start in enumerate(range(0, n, int(SFX_RATE / max(p.rate, 0.25)))):
        f = 3200 if i % 2 else 2600  # tick, tock
        click = (tone(f, length) + 0.5 * band(noise(rng, length), 2000, 8000)) * envelope(length, 0.0002, 0.003)
        place(out, click, start)
    return _norm(out)


def heartbeat(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    period = 60 / (65 * p.rate * (1 + 0.5 * p.intensity))
    length = int(SFX_RATE * 0.15)
    thump = tone(np.linspace(70, 40, length), length) * envelope(length, 0.005, 0.04)
    for start in np.arange(0, n / SFX_RATE, period):
        place(out, thump, int(start * SFX_RATE))
        place(out, thump, int((start + 0.28 * period) * SFX_RATE), 0.7)
    return _norm(out)


def footsteps(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    gravel = p.variant in ("gravel", "snow", "leaves")
    interval = 0.55 / p.rate
    length = int(SFX_RATE * 0.12)
    for start in np.arange(rng.uniform(0, 0.3), n / SFX_RATE, interval):
        heel = tone(np.linspace(120, 60, length), length) * envelope(length, 0.002, 0.02)
        scuff = band(noise(rng, length), 800 if gravel else 300, 6000 if gravel else 2500) * envelope(
            length, 0.01, 0.04
        )
        step = heel * (0.4 if gravel else 1) + scuff * (1 if gravel else 0.4)
        place(out, step, int((start + rng.normal(0, 0.02)) * SFX_RATE), rng.uniform(0.7, 1))
    return _norm(out)


# ---- events -------------------------------------------------------------------------------------


def thunder(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    crack_len = int(SFX_RATE * 0.3)
    crack = band(noise(rng, crack_len), 200, 6000) * envelope(crack_len, 0.002, 0.06)
    rumble = band(noise(rng, n, "brown"), 20, 200) * envelope(n, 0.15, n / SFX_RATE / 3)
    rumble *= smooth_random(rng, n, 5, 0.4, 1.0)
    out = rumble
    if p.distance < 0.6:
        place(out, crack, 0, 0.8)
    return _norm(out)


def knock(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    length = int(SFX_RATE * 0.12)
    for i in range(p.count or 3):
        f = rng.uniform(110, 160)
        hit = (tone(f, length) + 0.6 * tone(f * 2.3, length) + 0.3 * band(noise(rng, length), 500, 3000)) * envelope(
            length, 0.001, 0.025
        )
        place(out, hit, int(i * SFX_RATE * 0.22 / p.rate), rng.uniform(0.8, 1))
    return _norm(out)


def explosion(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    boom = tone(np.linspace(60, 25, n), n) * envelope(n, 0.005, 0.4)
    blast = band(noise(rng, n, "brown"), 20, 3000) * envelope(n, 0.002, 0.6 + p.intensity)
    debris = band(noise(rng, n), 1000, 8000) * envelope(n, 0.05, 0.3) * smooth_random(rng, n, 20, 0, 1) * 0.3
    return _norm(boom + blast + debris)


def gunshot(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    crack = band(noise(rng, n), 300, 10000) * envelope(n, 0.0005, 0.02)
    body = band(noise(rng, n, "brown"), 40, 800) * envelope(n, 0.001, 0.15)
    return _norm(crack + body)


def laser(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    length = min(n, int(SFX_RATE * 0.35))
    f = np.geomspace(rng.uniform(2500, 4000), rng.uniform(200, 400), length)
    zap = (np.sign(tone(f, length)) * 0.3 + tone(f * 1.5, length)) * envelope(length, 0.002, 0.12)
    out = np.zeros(n, np.float32)
    place(out, zap, 0)
    return _norm(out)


def bell(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    f0 = {"church": 220, "doorbell": 660, "bicycle": 2200}.get(p.variant, rng.uniform(400, 900))
    partials = [(1.0, 1.0), (2.0, 0.6), (2.76, 0.5), (5.4, 0.3), (8.93, 0.15)]
    out = sum(a * tone(f0 * r, n) * envelope(n, 0.002, 1.5 / r**0.5) for r, a in partials)
    return _norm(out)


def beep(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    f = {"alarm": 2000, "notification": 1320, "microwave": 1000}.get(p.variant, 1000)
    length = int(SFX_RATE * 0.15)
    for i in range(p.count or 3):
        blip = tone(f, length) * envelope(length, 0.005, 0.5) * np.hanning(length).astype(np.float32) ** 0.2
        place(out, blip, int(i * SFX_RATE * 0.3 / p.rate))
    return _norm(out)


def siren(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    t = np.arange(n) / SFX_RATE
    cycle = 4.0 / p.rate if p.variant != "yelp" else 0.35
    f = 750 + 450 * (0.5 - 0.5 * np.cos(2 * np.pi * t / cycle))
    wave = tone(f, n) + 0.4 * tone(2 * f, n) + 0.2 * tone(3 * f, n)
    return _norm(wave)


def whoosh(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    length = min(n, int(SFX_RATE * rng.uniform(0.5, 0.9)))
    sweep = np.hanning(length).astype(np.float32) ** 2
    swept = np.zeros(length, np.float32)
    base = noise(rng, length)
    for k, (lo, hi) in enumerate([(200, 600), (600, 1800), (1800, 5000)]):
        weight = np.clip(np.linspace(-1, 2, length) - k * 0.5, 0, 1)
        swept += band(base, lo, hi) * weight.astype(np.float32)
    out = np.zeros(n, np.float32)
    place(out, swept * sweep, 0)
    return _norm(out)


def glass(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    crash = band(noise(rng, n), 2000, 12000) * envelope(n, 0.001, 0.08)
    tinkles = np.zeros(n, np.float32)
    for start in rng.integers(int(SFX_RATE * 0.05), max(n - 1, int(SFX_RATE * 0.06)), 25):
        length = int(SFX_RATE * 0.08)
        tinkle = tone(rng.uniform(3000, 9000), length) * envelope(length, 0.0005, 0.02)
        place(tinkles, tinkle, int(start), rng.uniform(0.2, 0.6))
    return _norm(crash + tinkles)


def bark(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    big = p.variant in ("big", "large") or p.intensity > 0.7
    for i in range(p.count or 2):
        length = int(SFX_RATE * 0.18)
        f0 = np.concatenate([np.linspace(1, 1.4, length // 3), np.linspace(1.4, 0.8, length - length // 3)])
        f0 *= 180 if big else 380
        voiced = sum(tone(f0 * k, length) / k for k in range(1, 12))
        rough = band(noise(rng, length), 300, 3000) * 0.5
        burst = band(voiced + rough, 200, 4000) * envelope(length, 0.01, 0.07)
        place(out, burst, int(i * SFX_RATE * 0.35 / p.rate), rng.uniform(0.8, 1))
    return _norm(out)


def drip(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    length = int(SFX_RATE * 0.06)
    for start in np.arange(rng.uniform(0, 0.5), n / SFX_RATE, rng.uniform(0.6, 1.2) / p.rate):
        f0 = rng.uniform(800, 1400)
        drop = tone(np.geomspace(f0, f0 * 2.5, length), length) * envelope(length, 0.001, 0.015)
        place(out, drop, int(start * SFX_RATE), rng.uniform(0.6, 1))
    return _norm(out)


def applause(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    people = int(5 + 40 * p.intensity)
    length = int(SFX_RATE * 0.01)
    for _ in range(people):
        interval = rng.uniform(0.12, 0.25)
        for start in np.arange(rng.uniform(0, interval), n / SFX_RATE, interval):
            clap = band(noise(rng, length), 800, 6000) * envelope(length, 0.0003, 0.003)
            place(out, clap, int((start + rng.normal(0, 0.01)) * SFX_RATE), rng.uniform(0.3, 1))
    fade = np.minimum(1, np.linspace(0, n / SFX_RATE, n) / 0.3) * np.minimum(1, np.linspace(n / SFX_RATE, 0, n) / 1.0)
    return _norm(out * fade.astype(np.float32))


def fireworks(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    out = np.zeros(n, np.float32)
    rise = min(int(SFX_RATE * rng.uniform(0.8, 1.4)), n // 3)
    whistle = tone(np.linspace(800, 2500, rise), rise) * np.linspace(0.2, 0.6, rise).astype(np.float32)
    place(out, whistle, 0)
    burst_len = max(n - rise, 1)
    bang = band(noise(rng, burst_len, "brown"), 30, 2000) * envelope(burst_len, 0.002, 0.3)
    place(out, bang, rise, 1.0)
    crackle = np.zeros(burst_len, np.float32)
    for start in rng.integers(int(SFX_RATE * 0.2), max(burst_len, int(SFX_RATE * 0.21)), 40):
        length = int(SFX_RATE * 0.005)
        place(crackle, band(noise(rng, length), 2000, 9000), int(start), rng.uniform(0.2, 0.5))
    place(out, crackle, rise)
    return _norm(out)


CATALOGUE: list[Source] = [
    Source(
        "rain",
        "bed",
        rain,
        ["rain", "raining", "rainfall", "drizzle", "downpour", "rainstorm", "shower"],
        ["rain falling", "raindrops on a window", "a rainy day"],
        ["tin", "roof", "metal"],
    ),
    Source(
        "wind",
        "bed",
        wind,
        ["wind", "windy", "breeze", "gust", "gale", "blizzard", "storm wind"],
        ["wind blowing", "a howling gale", "a breeze through trees"],
        ["howling", "howl", "storm"],
    ),
    Source(
        "fire",
        "bed",
        fire,
        ["fire", "campfire", "fireplace", "bonfire", "flames", "crackling", "burning"],
        ["a crackling campfire", "logs burning in a fireplace"],
    ),
    Source(
        "stream",
        "bed",
        stream,
        ["stream", "river", "brook", "creek", "babbling", "waterfall", "fountain", "faucet running", "running water"],
        ["a babbling brook", "water flowing in a river", "running water"],
    ),
    Source(
        "ocean",
        "bed",
        ocean,
        ["ocean", "waves", "sea", "surf", "beach", "shore", "tide"],
        ["ocean waves crashing on a beach", "the sea"],
    ),
    Source(
        "engine",
        "bed",
        engine,
        ["engine", "motor", "car", "truck", "traffic", "idling", "motorcycle", "boat", "vehicle"],
        ["a car engine idling", "a truck driving past", "traffic noise"],
        ["car", "truck", "motorcycle", "boat"],
    ),
    Source(
        "hum",
        "bed",
        hum,
        ["spaceship", "spacecraft", "drone", "hum", "humming", "starship", "reactor", "generator", "engine room"],
        ["the engine room of a spaceship", "a low electrical hum", "a sci-fi ambient drone"],
    ),
    Source(
        "crowd",
        "bed",
        crowd,
        ["crowd", "chatter", "people talking", "murmur", "restaurant", "cafe", "party", "market"],
        ["a busy restaurant with people talking", "crowd murmur in a hall"],
    ),
    Source(
        "insects",
        "bed",
        insects,
        ["crickets", "cricket", "insects", "cicadas", "cicada", "bugs"],
        ["crickets chirping at night", "cicadas in summer"],
    ),
    Source(
        "birds",
        "bed",
        birds,
        ["birds", "bird", "birdsong", "birds chirping", "tweeting", "songbirds", "dawn chorus", "seagull", "gulls"],
        ["birds singing in a forest", "songbirds in the morning"],
    ),
    Source(
        "typing",
        "bed",
        typing,
        ["typing", "keyboard", "typewriter", "keystrokes"],
        ["someone typing on a keyboard", "an office keyboard"],
    ),
    Source(
        "clock", "bed", clock, ["clock", "ticking", "tick", "tock", "watch"], ["a clock ticking", "a grandfather clock"]
    ),
    Source(
        "heartbeat",
        "bed",
        heartbeat,
        ["heartbeat", "heart beating", "pulse", "heart"],
        ["a beating heart", "a heartbeat getting faster"],
    ),
    Source(
        "footsteps",
        "bed",
        footsteps,
        ["footsteps", "footstep", "walking", "steps", "running feet", "stomping"],
        ["footsteps walking on a wooden floor", "someone walking on gravel"],
        ["gravel", "snow", "leaves"],
    ),
    Source(
        "thunder",
        "event",
        thunder,
        ["thunder", "thunderclap", "thunderstorm", "lightning", "rumble"],
        ["a thunderclap", "distant thunder rumbling"],
        event_seconds=5.0,
    ),
    Source(
        "knock",
        "event",
        knock,
        ["knock", "knocking", "knocks", "door knock", "rapping"],
        ["knocking on a wooden door", "a fist banging on a door"],
        event_seconds=1.0,
    ),
    Source(
        "explosion",
        "event",
        explosion,
        ["explosion", "explode", "exploding", "blast", "bomb", "detonation", "kaboom"],
        ["a huge explosion", "a bomb going off"],
        event_seconds=4.0,
    ),
    Source(
        "gunshot",
        "event",
        gunshot,
        ["gunshot", "gun", "shot", "gunfire", "pistol", "rifle", "bang"],
        ["a gunshot", "a pistol firing", "the crack of a gunshot"],
        event_seconds=1.0,
    ),
    Source(
        "laser",
        "event",
        laser,
        ["laser", "zap", "blaster", "phaser", "ray gun", "pew", "laser blast"],
        ["a sci-fi laser blast", "a ray gun zap"],
        event_seconds=0.5,
    ),
    Source(
        "bell",
        "event",
        bell,
        ["bell", "bells", "chime", "chimes", "wind chime", "gong", "ding", "doorbell", "church bell"],
        ["a church bell ringing", "a wind chime", "a doorbell ding"],
        ["church", "doorbell", "bicycle"],
        3.0,
    ),
    Source(
        "beep",
        "event",
        beep,
        ["beep", "beeps", "beeping", "alarm", "alarm clock", "notification", "ping", "microwave", "buzzer"],
        ["an electronic beep", "a phone notification", "an alarm clock beeping"],
        ["alarm", "notification", "microwave"],
        1.0,
    ),
    Source(
        "siren",
        "event",
        siren,
        ["siren", "sirens", "police", "ambulance", "fire truck", "emergency"],
        ["a police siren", "an ambulance passing"],
        ["yelp"],
        6.0,
    ),
    Source(
        "whoosh",
        "event",
        whoosh,
        ["whoosh", "swoosh", "swish", "woosh", "swipe", "fly by", "flyby"],
        ["a fast whoosh transition", "something flying past"],
        event_seconds=0.8,
    ),
    Source(
        "glass",
        "event",
        glass,
        ["glass", "shatter", "shattering", "smash", "breaking glass", "window breaking"],
        ["glass shattering", "a window breaking"],
        event_seconds=1.5,
    ),
    Source(
        "bark",
        "event",
        bark,
        ["dog", "bark", "barking", "barks", "puppy", "woof"],
        ["a dog barking", "a big dog woofing"],
        ["big", "large"],
        1.0,
    ),
    Source(
        "drip",
        "bed",
        drip,
        ["drip", "dripping", "drops", "leak", "leaking", "leaky", "leaky faucet", "leaky tap"],
        ["water dripping in a cave", "a leaking tap"],
    ),
    Source(
        "applause",
        "event",
        applause,
        ["applause", "clapping", "claps", "ovation", "audience"],
        ["an audience applauding", "people clapping"],
        event_seconds=5.0,
    ),
    Source(
        "fireworks",
        "event",
        fireworks,
        ["fireworks", "firework", "firecracker", "rocket"],
        ["fireworks exploding in the sky"],
        event_seconds=3.0,
    ),
]
SOURCES = {s.name: s for s in CATALOGUE}
for _name, _label in {
    "fire": "crackling fire", "stream": "running water", "ocean": "ocean waves", "engine": "engine",
    "hum": "sci-fi hum", "crowd": "crowd chatter", "insects": "crickets and insects", "birds": "birdsong",
    "clock": "clock ticking", "knock": "knocking", "laser": "laser zap", "beep": "electronic beep",
    "glass": "breaking glass", "bark": "dog barking", "drip": "dripping water",
}.items():  # fmt: skip
    SOURCES[_name].label = _label
