"""Pronunciation dictionaries in the TTS front end: rules (as ``studio.pronunciation.clip_rules``
makes them) applied before normalisation, whole words with their case, spans left alone; and a rule
really changes the phonemes and what a listener hears (pocketsphinx)."""

import json

import pytest

from studio.kinds import tts_problem
from studio.models import ClipKind
from studio.pronunciation import KOKORO_PHONEMES, PRONUNCIATION_RULES, check_rules, clip_rules
from tests.speech import transcribe
from workers.gpu_tts.activities import validate
from workers.gpu_tts.engine import KokoroEngine, tts_engine, vocabulary
from workers.gpu_tts.markup import SENTENCE_MARKS, spoken_text
from workflows.types import GenerateRequest

NGINX = {"type": "alias", "string_to_replace": "Nginx", "alias": "engine x"}
KOKORO = {"type": "phoneme", "string_to_replace": "Kokoro", "phoneme": "ˈkoʊkəˌɹoʊ", "alphabet": "ipa"}


def rules(*raw: dict) -> dict:
    return {PRONUNCIATION_RULES: clip_rules(check_rules(list(raw)))}


def test_studios_phoneme_set_is_kokoros_vocabulary_less_punctuation() -> None:
    letters = {ch for ch in vocabulary() if not (ch in SENTENCE_MARKS or ch in ' !"(),—“”…→↓↗↘')}
    assert letters == set(KOKORO_PHONEMES)


def test_alias_rules_replace_whole_words_with_their_case() -> None:
    said = spoken_text("Nginx serves nginx; NginxPlus and Nginx's logs.", "en-us", rules(NGINX))
    assert said == "engine x serves nginx; NginxPlus and engine x's logs."
    loose = dict(NGINX, case_sensitive=False, word_boundaries=False)
    assert spoken_text("nginx and NginxPlus", "en-us", rules(loose)) == "engine x and engine xPlus"


def test_phoneme_rules_become_spans_and_are_normalised_around() -> None:
    said = spoken_text("Kokoro costs $5, Kokoro!", "en-us", rules(KOKORO))
    assert said == "[Kokoro](/kˈOkəɹˌO/) costs five dollars, [Kokoro](/kˈOkəɹˌO/)!"
    # text inside a span (inline markup) is never touched; later rules skip earlier rules' spans
    assert (
        spoken_text("[Kokoro](/kˈɔ/) and Kokoro", "en-us", rules(KOKORO)) == "[Kokoro](/kˈɔ/) and [Kokoro](/kˈOkəɹˌO/)"
    )
    again = {"type": "alias", "string_to_replace": "Kokoro", "alias": "Koko"}
    assert spoken_text("Kokoro", "en-us", rules(KOKORO, again)) == "[Kokoro](/kˈOkəɹˌO/)"
    # before normalisation: an alias is read as any text (and the rules apply with the normaliser off too)
    answer = {"type": "alias", "string_to_replace": "answer", "alias": "42"}
    assert spoken_text("The answer is here.", "en-us", rules(answer)) == "The forty-two is here."
    assert spoken_text("Nginx", "en-us", rules(NGINX) | {"text_normalization": "off"}) == "engine x"


def test_rules_travel_checked_through_the_activity() -> None:
    req = GenerateRequest("c1", "u1", ClipKind.TTS, "Ask Nginx about Kokoro.", "af_heart", rules(NGINX, KOKORO))
    chunks, _ = validate(req)
    assert "".join(chunks) == "Ask engine x about [Kokoro](/kˈOkəɹˌO/)."
    bad = {PRONUNCIATION_RULES: [{"type": "phoneme", "string_to_replace": "x", "phoneme": "h3"}]}
    assert "Kokoro cannot say" in tts_problem("x", "af_heart", 1.0, bad)
    assert tts_problem("x", "af_heart", 1.0, {PRONUNCIATION_RULES: "nope"}) is not None


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


TEXT = "The cat barked at the mailman."


def test_a_phoneme_rule_changes_the_phonemes_and_the_audio(engine: KokoroEngine) -> None:
    plain = engine.phonemes(spoken_text(TEXT, "en-us", {}), "en-us")
    for rule in (
        {"type": "phoneme", "string_to_replace": "cat", "phoneme": "dˈɑːɡ", "alphabet": "ipa"},
        {"type": "phoneme", "string_to_replace": "cat", "phoneme": "D AA1 G", "alphabet": "cmu-arpabet"},
    ):
        spoken = spoken_text(TEXT, "en-us", rules(rule))
        phonemes = engine.phonemes(spoken, "en-us")
        assert "kˈæt" in plain and "kˈæt" not in phonemes and "dˈɑ" in phonemes, (rule, phonemes)
        audio, timed = engine.synthesize_timed(spoken, "af_heart")
        assert [w.word for w in timed.words][:2] == ["The", "cat"]  # captions still name the word
        heard = transcribe(audio, engine.sample_rate)
        assert "dog" in heard and "cat" not in heard, (rule, heard)


def test_an_alias_rule_changes_the_audio(engine: KokoroEngine) -> None:
    spoken = spoken_text(TEXT, "en-us", rules({"type": "alias", "string_to_replace": "cat", "alias": "dog"}))
    assert spoken == "The dog barked at the mailman."
    audio, _ = engine.synthesize_timed(spoken, "af_heart")
    heard = transcribe(audio, engine.sample_rate)
    assert "dog" in heard and "cat" not in heard, heard
    assert "cat" in transcribe(engine.synthesize_timed(TEXT, "af_heart")[0], engine.sample_rate)


def test_timestamps_and_captions_name_the_typed_words(engine: KokoroEngine) -> None:
    from workers.gpu_tts.timing import timestamp_files

    typed = "Ask Nginx about Kokoro."
    _, said = engine.synthesize_timed(spoken_text(typed, "en-us", rules(NGINX, KOKORO)), "af_heart")
    assert said.text == "Ask engine x about Kokoro."  # the normalised alignment: what was said
    document = json.loads(timestamp_files(typed, said)[".json"])
    assert [w["word"] for w in document["words"]] == ["Ask", "Nginx", "about", "Kokoro."]
    starts = document["alignment"]["character_start_times_seconds"]
    assert "".join(document["alignment"]["characters"]) == typed and starts == sorted(starts)
