"""The TTS text normaliser: exact spoken forms for everyday sentences, per category, and its wiring."""

from collections import defaultdict

import pytest

from tests.workers.gpu_tts.normalise_cases import CASES
from workers.gpu_tts.activities import validate
from workers.gpu_tts.chunking import split_into_chunks
from workers.gpu_tts.normalise import normalise_for_speech
from workflows.types import GenerateRequest


@pytest.mark.parametrize("category, text, expected, accent", CASES, ids=[f"{c}:{t[:40]}" for c, t, _, _ in CASES])
def test_each_sentence_reads_as_written_out(category: str, text: str, expected: str, accent: str) -> None:
    assert normalise_for_speech(text, accent) == expected


def test_the_set_covers_every_category() -> None:
    """Each case above must be exact, so every category is read right in all its cases (issue 17 asks >=95%)."""
    counts: dict[str, int] = defaultdict(int)
    for category, *_ in CASES:
        counts[category] += 1
    assert len(CASES) >= 100
    wanted = "cardinal ordinal decimal fraction percent currency year decade date time phone unit range title symbol"
    wanted += " roman web acronym timezone"
    assert set(wanted.split()) | {"plain"} == set(counts)
    assert all(n >= 6 for n in counts.values())
    assert all(counts[c] >= 10 for c in ("roman", "web", "acronym", "timezone"))


def test_plain_prose_passes_through_unchanged() -> None:
    prose = [t for c, t, _, _ in CASES if c == "plain"]
    prose += [
        "The quick brown fox, it seems, was not so quick after all.",
        "Why? Because I said so.",
        "Gen Z and Rev Up are brands.",
    ]
    for text in prose:
        assert normalise_for_speech(text) == text
        assert normalise_for_speech(text, "uk") == text


def test_a_price_is_not_cut_at_its_decimal_point() -> None:
    """espeak read "$5.99." as "dollar five. ninety nine": a sentence break inside the price."""
    from kokoro_onnx.tokenizer import Tokenizer

    phonemise = Tokenizer().phonemize
    text = "It costs $5.99. That is cheap."
    assert "dˈɑːlɚ fˈaɪv. nˈaɪnti" in phonemise("It costs $5.99.", "en-us")  # the bug, as it was
    chunks = split_into_chunks(normalise_for_speech(text))
    assert chunks == ["It costs five dollars and ninety-nine cents. That is cheap."]
    phonemes = phonemise(chunks[0], "en-us")
    assert phonemes.count(".") == 2 and phonemes.endswith(".") and "fˈaɪv dˈɑːlɚz" in phonemes


def _req(text: str, **overrides) -> GenerateRequest:  # noqa: ANN003
    fields = dict(clip_id="c", user_id="u", kind="tts", text=text, voice="af_heart", settings={})
    return GenerateRequest(**(fields | overrides))


@pytest.mark.parametrize("settings", [{}, {"stream": True}])
def test_the_worker_normalises_before_chunking_streamed_or_not(settings: dict) -> None:
    chunks, _ = validate(_req("It costs $5.99. Call 555-0142 on 12/25/1987.", settings=settings))
    assert " ".join(chunks) == (
        "It costs five dollars and ninety-nine cents. "
        "Call five five five, zero one four two on December twenty-fifth, nineteen eighty-seven."
    )
    assert not any(c.rstrip(".").endswith(("$5", "five dollars and")) for c in chunks)


def test_british_voices_read_dates_the_uk_way() -> None:
    chunks, _ = validate(_req("Due 05/12/2024.", voice="bf_emma"))
    assert chunks == ["Due the fifth of December twenty twenty-four."]
    chunks, _ = validate(_req("Due 05/12/2024."))
    assert chunks == ["Due May twelfth, twenty twenty-four."]


def test_plain_prose_reaches_the_engine_unchanged() -> None:
    text = "Please close the door. I read it yesterday, and then I slept."
    chunks, _ = validate(_req(text))
    assert " ".join(chunks) == text


def test_long_digit_runs_are_read_digit_by_digit_and_never_fail() -> None:
    assert normalise_for_speech("Order 12345678901234567 shipped.") == (
        "Order one two three four five six seven eight nine zero one two three four five six seven shipped."
    )
    assert normalise_for_speech("9" * 5000).split() == ["nine"] * 5000  # past Python's int-parsing limit
