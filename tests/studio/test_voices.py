"""Voice ids and recipes: what a request may carry to speak in a user's own voice, and the checks
the site, the API and the worker share."""

import pytest

from studio import kinds
from studio.voices import (
    CUSTOM_ID_LENGTH,
    RECIPE_SETTING,
    VOICES,
    VoiceRecipe,
    blend_lang,
    blend_problem,
    is_custom_voice_id,
    new_custom_voice_id,
    normalised_blend,
)


def test_custom_ids_look_like_elevenlabs_ids_and_never_like_stock_ids() -> None:
    ids = {new_custom_voice_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == CUSTOM_ID_LENGTH and i.isalnum() and is_custom_voice_id(i) for i in ids)
    assert not any(is_custom_voice_id(v) for v in VOICES)
    assert not is_custom_voice_id("x" * 19) and not is_custom_voice_id("a/" * 10)


def test_a_recipe_survives_the_trip_through_a_requests_settings() -> None:
    blend = VoiceRecipe("en-gb", blend={"bf_emma": 0.4, "af_heart": 0.6})
    fitted = VoiceRecipe("en-us", pack_key="voices/abc.npy")
    for recipe in (blend, fitted):
        assert VoiceRecipe.from_settings({RECIPE_SETTING: recipe.as_settings()}) == recipe


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "af_heart",
        {"lang": "fr-fr", "pack_key": "k"},  # a language Kokoro's English voices do not speak
        {"lang": "en-us"},  # neither a blend nor a pack
        {"lang": "en-us", "blend": {"af_heart": 1.0}, "pack_key": "k"},  # both
        {"lang": "en-us", "blend": {"nobody": 1.0}},
        {"lang": "en-us", "blend": {"af_heart": -1.0}},
        {"lang": "en-us", "pack_key": ""},
    ],
)
def test_a_malformed_recipe_is_no_recipe(raw: object) -> None:
    assert VoiceRecipe.from_settings({RECIPE_SETTING: raw}) is None


def test_blends_are_one_to_five_stock_voices_with_positive_weights() -> None:
    assert blend_problem({"af_heart": 60, "bf_emma": 40}) is None
    assert "at least one" in blend_problem({})
    assert "at most 5" in blend_problem({v: 1 for v in list(VOICES)[:6]})
    assert "Unknown stock voice" in blend_problem({"af_nobody": 1})
    assert "positive weight" in blend_problem({"af_heart": 0})
    assert "positive weight" in blend_problem({"af_heart": float("nan")})


def test_a_blend_is_normalised_heaviest_first_and_speaks_with_its_accent() -> None:
    weights = normalised_blend({"af_heart": 40, "bf_emma": 60})
    assert list(weights) == ["bf_emma", "af_heart"]
    assert weights == pytest.approx({"bf_emma": 0.6, "af_heart": 0.4})
    assert blend_lang(weights) == "en-gb"


def test_speech_accepts_a_users_voice_only_with_the_recipe_the_site_resolved() -> None:
    own = new_custom_voice_id()
    recipe = {RECIPE_SETTING: VoiceRecipe("en-us", pack_key="voices/x.npy").as_settings()}
    assert kinds.problem("tts", "Hello.", "af_heart", {}) is None
    assert kinds.problem("tts", "Hello.", own, {}) == "Choose one of the listed voices."
    assert kinds.problem("tts", "Hello.", own, recipe) is None
    assert kinds.problem("voice-conversion", "", own, recipe | {"pitch": 0}) is None
    assert kinds.problem("tts", "Hello.", "af_nobody", recipe) == "Choose one of the listed voices."


def test_a_voice_design_names_its_voice_and_carries_a_recording_or_a_blend() -> None:
    own = new_custom_voice_id()
    fit = {"method": "fit", "source_key": "uploads/x.wav"}
    blend = {"method": "blend", RECIPE_SETTING: VoiceRecipe("en-us", blend={"af_heart": 1.0}).as_settings()}
    assert kinds.problem("voice-design", "Grandma", own, fit) is None
    assert kinds.problem("voice-design", "Grandma", own, blend) is None
    assert kinds.problem("voice-design", " ", own, fit) == "Give the voice a name."
    assert "limit is 100" in kinds.problem("voice-design", "x" * 101, own, fit)
    assert kinds.problem("voice-design", "Grandma", "af_heart", fit) == "A new voice needs a new voice id."
    assert kinds.problem("voice-design", "Grandma", own, {"method": "fit"}) == "Upload a recording of the voice."
    assert kinds.problem("voice-design", "Grandma", own, {"method": "blend"}) == "Choose stock voices to blend."


def test_a_fit_costs_its_configured_generations_and_a_blend_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.settings import get_settings

    monkeypatch.setenv("STUDIO_VOICE_FIT_GENERATIONS", "7")
    monkeypatch.setenv("STUDIO_PRICE_PER_GENERATION", "10")
    get_settings.cache_clear()
    try:
        design = kinds.KINDS[kinds.ClipKind.VOICE_DESIGN]
        assert design.price({"method": "fit"}) == 70
        assert design.price({"method": "blend"}) == 0
    finally:
        get_settings.cache_clear()
