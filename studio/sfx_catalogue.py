"""What the sound-effect engine can make, as the site shows it before anyone types a prompt.

The engine's own catalogue (``workers.gpu_sfx.sources``) holds the synthesis code and needs numpy
and torch; the site may not import workers (docs/architecture.md, "Layers"). So the sounds are
named here once more, grouped the way people look for them, with example prompts to click.
``tests/api/routers/test_sound_effects.py`` checks that every source is listed here exactly once
and that each example prompt is understood as the sources written beside it, so this list cannot
drift from the engine unnoticed.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sound:
    source: str  # the engine's source name (workers.gpu_sfx.sources.SOURCES)
    label: str  # what the page calls it


@dataclass(frozen=True)
class Example:
    prompt: str
    sources: tuple[str, ...]  # what the engine makes of it, in order


CATEGORIES: dict[str, tuple[Sound, ...]] = {
    "Weather": (Sound("rain", "rain"), Sound("wind", "wind"), Sound("thunder", "thunder")),
    "Water": (Sound("stream", "running water"), Sound("ocean", "ocean waves"), Sound("drip", "dripping water")),
    "Fire": (Sound("fire", "crackling fire"), Sound("fireworks", "fireworks")),
    "Animals": (Sound("birds", "birdsong"), Sound("insects", "crickets and insects"), Sound("bark", "dog barking")),
    "People": (
        Sound("crowd", "crowd chatter"), Sound("footsteps", "footsteps"), Sound("applause", "applause"),
        Sound("knock", "knocking"), Sound("heartbeat", "heartbeat"),
    ),
    "Machines": (
        Sound("engine", "engines and traffic"), Sound("typing", "typing"), Sound("clock", "clock ticking"),
        Sound("beep", "beeps and alarms"), Sound("bell", "bells and chimes"), Sound("siren", "sirens"),
    ),
    "Impacts": (Sound("explosion", "explosions"), Sound("gunshot", "gunshots"), Sound("glass", "breaking glass")),
    "Sci-fi": (Sound("laser", "laser zaps"), Sound("hum", "spaceship hum"), Sound("whoosh", "whooshes")),
}  # fmt: skip

EXAMPLES: tuple[Example, ...] = (
    Example("rain on a tin roof with distant thunder", ("rain", "thunder")),
    Example("a crackling campfire at night with crickets", ("fire", "insects")),
    Example("ocean waves crashing on a beach", ("ocean",)),
    Example("a busy restaurant with people talking", ("crowd",)),
    Example("a big dog barking twice", ("bark",)),
    Example("footsteps walking on gravel", ("footsteps",)),
    Example("the engine room of a spaceship", ("hum",)),
    Example("a sci-fi laser blast", ("laser",)),
    Example("a church bell ringing", ("bell",)),
    Example("glass shattering", ("glass",)),
    Example("a police siren", ("siren",)),
    Example("an audience applauding", ("applause",)),
)
