"""The sound-effect engine: prompt understanding on the labelled prompts, rendering, mastering,
reproducibility and honest refusals.

Thresholds: on the labelled set (tuned on) the engine scores 66/66 top-1 and all-sources and
refuses 3/3; on the held-out set (never tuned on) 23/28 top-1, 22/28 all-sources, 2/2 refusals
(docs/benchmarks.md). Asserted below those with a small margin. Open-set figures (sounds the
catalogue lacks must be refused): ``python -m bench.sfx_refusals``.
"""

import numpy as np
import pytest
from temporalio.exceptions import ApplicationError

from tests import sfx_open_set
from tests.margins import expect
from tests.sfx_prompts import HELD_OUT, LABELLED
from workers.gpu_sfx.activities import sfx_settings
from workers.gpu_sfx.dsp import SFX_RATE
from workers.gpu_sfx.engine import ProceduralEngine, UnmatchedPrompt
from workers.gpu_sfx.foreign import FOREIGN_SOUNDS
from workers.gpu_sfx.prompt import clauses, keyword_source, parse
from workers.gpu_sfx.result import PEAK_CEILING
from workflows.types import GenerateRequest


@pytest.fixture(scope="module")
def engine() -> ProceduralEngine:
    return ProceduralEngine()


def _scores(engine: ProceduralEngine, prompts: list) -> tuple[float, float, float]:
    top1 = exact = refused = n = n_refuse = 0
    for prompt, expected in prompts:
        got = engine.understand(prompt).sources
        if expected is None:
            n_refuse += 1
            refused += not got
            continue
        n += 1
        top1 += bool(got) and got[0] == expected[0]
        exact += set(got) == set(expected)
    return top1 / n, exact / n, refused / n_refuse


def test_labelled_prompts_pick_the_right_sources(engine: ProceduralEngine) -> None:
    assert len(LABELLED) >= 60
    top1, exact, refused = _scores(engine, LABELLED)
    assert top1 >= 0.95 and exact >= 0.9 and refused == 1.0


def test_held_out_prompts_mostly_pick_the_right_sources(engine: ProceduralEngine) -> None:
    top1, exact, refused = _scores(engine, HELD_OUT)
    assert top1 >= 0.75 and exact >= 0.7 and refused >= 0.5


@pytest.mark.parametrize("prompt", ["creaky door", "helicopter", "punch", "a car door slamming", "a nail gun"])
def test_sounds_outside_the_catalogue_are_refused_not_substituted(engine: ProceduralEngine, prompt: str) -> None:
    """Issue 11: "creaky door" became a knock, "punch" a gunshot; keywords inside a foreign sound
    ("car", "gun") must not win either."""
    with pytest.raises(UnmatchedPrompt, match="No sound in this engine matches") as err:
        engine.generate(prompt, 1.0, 0.5, 1, 1)
    assert "closest sounds it can make are" in str(err.value) or "try e.g." in str(err.value)


def test_open_set_prompts_refuse_the_foreign_and_accept_paraphrases(engine: ProceduralEngine) -> None:
    """tests/sfx_open_set.py: DEV (calibrated on) 49/52 accepted with the right source, 40/40
    refused; HELD_OUT (never tuned on) 24/27 and 22/22. Asserted with one prompt of margin."""
    for prompts, min_accepted, min_refused in [(sfx_open_set.DEV, 48, 40), (sfx_open_set.HELD_OUT, 23, 21)]:
        accepted = refused = 0
        for prompt, expected in prompts:
            plan = engine.understand(prompt)
            if expected is None:
                refused += not plan.accepted
            else:
                accepted += plan.accepted and plan.sources[0] == expected[0]
        assert accepted >= min_accepted and refused >= min_refused, (accepted, refused)


def test_a_refusal_names_what_it_heard_and_the_closest_sounds(engine: ProceduralEngine) -> None:
    with pytest.raises(UnmatchedPrompt) as err:
        engine.interpret("creaky door")
    message = str(err.value)
    assert "'creaky door' sounds like a creaking door" in message and "knocking" in message
    # one foreign layer refuses the whole prompt rather than rendering the rest without it
    plan = engine.understand("heavy rain with a cat meowing")
    assert not plan.accepted and plan.sources == ["rain"] and plan.rejected[0].clause == "a cat meowing"


def test_the_interpretation_says_what_was_matched(engine: ProceduralEngine) -> None:
    assert engine.interpret("rain on a tin roof with distant thunder") == "rain (tin) + distant thunder"
    assert engine.interpret("a big dog barking twice") == "heavy dog barking (big) ×2"
    result = engine.generate("gentle drizzle on a window", 0.5, 0.5, 1, 1)
    assert result.interpretation == "gentle rain"
    # context the engine cannot place is left out, not refused: a creek over rocks is a stream
    assert engine.interpret("a mountain creek trickling over rocks") == "running water"


def test_the_foreign_list_leaves_the_catalogue_alone() -> None:
    """A foreign sound must not be one of the catalogue's own keywords."""
    from workers.gpu_sfx.sources import CATALOGUE

    keywords = {kw for s in CATALOGUE for kw in s.keywords}
    assert not [f for f in FOREIGN_SOUNDS if f.removeprefix("a ").removeprefix("an ") in keywords]


def test_clauses_become_layers_and_modifiers_set_parameters() -> None:
    assert clauses("Rain on a tin roof with distant thunder") == ["rain on a tin roof", "distant thunder"]
    plan = parse("rain on a tin roof with distant thunder, and a dog barking twice")
    assert plan.sources == ["rain", "thunder", "bark"]
    rain, thunder, dog = plan.layers
    assert rain.params.variant == "tin" and thunder.params.distance > 0.5 and dog.params.count == 2
    assert keyword_source("a fire truck siren") == "siren"  # the longer phrase wins
    assert keyword_source("alarm clock beeping") == "beep"  # one source per clause: the first named
    assert parse("heavy rain").layers[0].params.intensity > parse("gentle rain").layers[0].params.intensity


def test_meaning_is_used_when_no_keyword_names_the_sound(engine: ProceduralEngine) -> None:
    plan = engine.understand("something flying past quickly")
    assert plan.sources == ["whoosh"] and plan.layers[0].how == "embedding"


def test_a_prompt_it_cannot_make_is_refused_not_faked(engine: ProceduralEngine) -> None:
    with pytest.raises(UnmatchedPrompt, match="No sound in this engine matches"):
        engine.generate("a violin sonata", 5.0, 0.5, 1, 1)


@pytest.mark.parametrize(
    "prompt", ["rain on a tin roof with distant thunder", "a single gunshot", "a dog barking twice"]
)
@pytest.mark.parametrize("seconds", [0.5, 4.0, 22.0])
def test_renders_exact_length_without_clipping(engine: ProceduralEngine, prompt: str, seconds: float) -> None:
    (audio,) = engine.generate(prompt, seconds, 0.5, 7, 1).variations
    assert audio.dtype == np.float32 and len(audio) == int(round(seconds * SFX_RATE))
    assert np.isfinite(audio).all()
    assert np.max(np.abs(audio)) <= PEAK_CEILING + 1e-6
    assert np.sqrt(np.mean(audio**2)) > 0.005  # not silence


def test_beds_reach_the_loudness_target(engine: ProceduralEngine, record_property) -> None:  # noqa: ANN001
    (audio,) = engine.generate("heavy rain", 10.0, 0.5, 3, 1).variations
    error = abs(20 * np.log10(np.sqrt(np.mean(audio**2))) - (-20.0))
    expect(record_property, "sfx heavy rain |level - (-20 dBFS)| dB", error, below=1.0)


def test_same_seed_same_audio_and_variations_differ(engine: ProceduralEngine) -> None:
    a = engine.generate("crackling campfire with crickets", 3.0, 0.3, 11, 3).variations
    b = engine.generate("crackling campfire with crickets", 3.0, 0.3, 11, 3).variations
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.allclose(a[0], a[1])
    other_seed = engine.generate("crackling campfire with crickets", 3.0, 0.3, 12, 1).variations[0]
    assert not np.allclose(a[0], other_seed)


def test_events_are_placed_and_distance_dulls(engine: ProceduralEngine) -> None:
    def envelope(audio: np.ndarray) -> np.ndarray:
        return np.sqrt(np.mean(audio[: len(audio) // 2205 * 2205].reshape(-1, 2205) ** 2, axis=1))

    (knocks,) = engine.generate("knocking on a door three times", 3.0, 1.0, 5, 1).variations
    loud = envelope(knocks) > 0.3 * envelope(knocks).max()
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1])
    assert 2 <= len(onsets) + int(loud[0]) <= 4  # three knocks (adjacent ones may merge in 50 ms frames)

    def brightness(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio))
        freqs = np.fft.rfftfreq(len(audio), 1 / SFX_RATE)
        return float((spectrum * freqs).sum() / spectrum.sum())

    near = engine.generate("close thunder", 6.0, 1.0, 9, 1).variations[0]
    far = engine.generate("distant thunder", 6.0, 1.0, 9, 1).variations[0]
    assert brightness(far) < brightness(near)


def sfx_request(prompt: str, settings: dict) -> GenerateRequest:
    return GenerateRequest("c", "u", "sound-effect", prompt, "", settings)


def test_request_checks_are_non_retryable() -> None:
    request = sfx_request("rain", {"duration_seconds": 3, "variations": 2, "seed": 4})
    assert sfx_settings(request) == (3.0, 0.3, 4, 2)
    for settings, message in [
        ({"duration_seconds": 30}, "Duration must be"),
        ({"prompt_influence": -1}, "influence"),
        ({"variations": 9}, "Variations must be"),
    ]:
        with pytest.raises(ApplicationError) as err:
            sfx_settings(sfx_request("rain", settings))
        assert err.value.non_retryable and message in err.value.message
    with pytest.raises(ApplicationError, match="Describe the sound"):
        sfx_settings(sfx_request("   ", {}))


def test_variation_keys() -> None:
    objects = sfx_request("rain", {"variations": 3}).clip_objects
    assert objects.audio(".wav", 1) == "sfx/c.wav"
    assert objects.audio(".mp3", 3) == "sfx/c-3.mp3"
