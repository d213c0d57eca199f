"""Pronunciation: heteronyms read by their context, and inline phoneme markup."""

import pytest
from temporalio.exceptions import ApplicationError

from studio.models import ClipKind
from tests.speech import transcribe
from workers.gpu_tts import heteronyms, markup
from workers.gpu_tts.activities import validate
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workflows.types import GenerateRequest

# (sentence, the heteronym, the spelling espeak reads the right way, accent). The first of each
# pair is a sentence espeak alone gets wrong; the second one it gets right, which must stay right.
CASES = [
    ("Please close the door.", "close", "cloze", "en-us"),
    ("We live close to the park.", "close", "close", "en-us"),
    ("Close the window before you go.", "close", "cloze", "en-gb"),
    ("That was a close call.", "close", "close", "en-us"),
    ("I read it yesterday.", "read", "red", "en-us"),
    ("I read books every day.", "read", "reed", "en-us"),
    ("They read the letter last night.", "read", "red", "en-gb"),
    ("She will read it tomorrow.", "read", "reed", "en-us"),
    ("He read the whole book.", "read", "red", "en-us"),
    ("The old house had a lead pipe.", "lead", "led", "en-us"),
    ("She will lead the team.", "lead", "lead", "en-us"),
    ("Wind the clock before bed.", "wind", "wined", "en-us"),
    ("The wind is strong today.", "wind", "wind", "en-us"),
    ("It is time to wind down.", "wind", "wined", "en-gb"),
    ("The actors came out to take a bow.", "bow", "bough", "en-us"),
    ("She tied a bow in her hair.", "bow", "boh", "en-us"),
    ("There was a minute detail in the painting.", "minute", "my-newt", "en-us"),
    ("Wait a minute, please.", "minute", "minute", "en-us"),
    ("Record the song tonight.", "record", "rekord", "en-us"),
    ("They set a new record.", "record", "record", "en-us"),
    ("He wound the clock every morning.", "wound", "wownd", "en-us"),
    ("The wound healed slowly.", "wound", "wound", "en-us"),
    ("Where do they live now?", "live", "liv", "en-us"),
    ("We watched the concert live.", "live", "lyve", "en-us"),
]


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


def said(engine: KokoroEngine, sentence: str, lang: str, plain: bool) -> str:
    return engine._espeak(sentence, lang) if plain else engine.phonemes(sentence, lang)


def test_heteronyms_are_read_by_their_context(engine: KokoroEngine, record_property) -> None:  # noqa: ANN001
    before = after = 0
    for sentence, _heteronym, spelling, lang in CASES:
        right = engine._espeak(spelling, lang)
        before += right in said(engine, sentence, lang, plain=True)
        ok = right in said(engine, sentence, lang, plain=False)
        assert ok, (sentence, right, said(engine, sentence, lang, plain=False))
        after += ok
    record_property("heteronyms_right", f"{before}/{len(CASES)} -> {after}/{len(CASES)}")
    assert before <= len(CASES) - 10  # espeak alone gets at least the ten "first of a pair" wrong


def test_text_without_heteronyms_is_one_plain_segment() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    assert heteronyms.resolve(text) == [markup.Segment(text)]


def test_markup_parses_displays_and_keeps_its_phonemes_from_the_normaliser() -> None:
    text = "Pay $5 to [Kokoro](/kˈOkəɹO/) on 12/25."
    assert markup.display(text) == "Pay $5 to Kokoro on 12/25."
    segs = markup.segments(text)
    assert [s.phonemes for s in segs] == [None, "kˈOkəɹO", None] and segs[1].text == "Kokoro"
    spoken = markup.spoken_text(text, "us", {})
    assert "five dollars" in spoken and "[Kokoro](/kˈOkəɹO/)" in spoken and "slash" not in spoken
    assert markup.problem(spoken, "kˈOəɹ") is None
    assert "Kokoro cannot say" in markup.problem("[x](/k1!/)", "kˈOəɹ")


def test_a_bad_pronunciation_is_a_clear_refusal() -> None:
    req = GenerateRequest("c1", "u1", ClipKind.TTS, "Say [hello](/h3ll0/) now.", "af_heart", {})
    with pytest.raises(ApplicationError) as caught:
        validate(req)
    assert caught.value.non_retryable and "“hello” uses 0 3, which Kokoro cannot say" in str(caught.value)


def test_markup_changes_what_is_said_and_times_the_shown_word(engine: KokoroEngine) -> None:
    text = "The [cat](/dˈɑːɡ/) barked at the mailman."
    assert "dˈɑːɡ" in engine.phonemes(text, "en-us") and "kˈæt" not in engine.phonemes(text, "en-us")
    audio, timed = engine.synthesize_timed(text, "af_heart")
    assert [w.word for w in timed.words] == ["The", "cat", "barked", "at", "the", "mailman"]
    assert timed.text == "The cat barked at the mailman."
    heard = transcribe(audio, engine.sample_rate)
    assert "dog" in heard and "cat" not in heard, heard
