"""Pronunciation rules checked on the way in (``studio.pronunciation``): shapes, limits, and
phonemes Kokoro can say, ARPAbet and IPA both turned into Kokoro's symbols."""

import pytest

from studio import pronunciation as p
from studio.pronunciation import RuleProblem


def test_arpabet_becomes_kokoro_phonemes() -> None:
    assert p.arpabet_to_kokoro("T AH0 M EY1 T OW0") == "təmˈAtO"
    assert p.arpabet_to_kokoro("k ao1 r") == "kˈɔɹ"  # any case
    assert p.arpabet_to_kokoro("B ER1 D") == "bˈɜɹd" and p.arpabet_to_kokoro("B AH1 T ER0") == "bˈʌtəɹ"
    with pytest.raises(RuleProblem, match="“QX1” is not a CMU ARPAbet phoneme"):
        p.arpabet_to_kokoro("K QX1")


def test_ipa_is_tidied_into_misakis_symbols() -> None:
    assert p.ipa_to_kokoro("/ˈkoʊkəˌroʊ/") == "kˈOkəɹˌO"  # r as ɹ, oʊ as O, stress before the vowel
    assert p.ipa_to_kokoro("[təˈmeɪ.toʊ]") == "təmˈAtO"
    assert p.ipa_to_kokoro("'gɪt") == "ɡˈɪt"  # ASCII g and apostrophe stress
    assert p.ipa_to_kokoro("kˈOkəɹO") == "kˈOkəɹO"  # Kokoro's own symbols pass as they are


def test_rules_are_checked_with_clear_messages() -> None:
    ok = p.check_rules([
        {"type": "alias", "string_to_replace": " Nginx ", "alias": "engine x"},
        {"type": "phoneme", "string_to_replace": "tomato", "phoneme": "T AH0 M EY1 T OW0", "alphabet": "cmu-arpabet"},
    ])  # fmt: skip
    assert ok[0] == {"type": "alias", "string_to_replace": "Nginx", "alias": "engine x",
                     "case_sensitive": True, "word_boundaries": True}  # fmt: skip
    assert p.clip_rules(ok)[1]["phoneme"] == "təmˈAtO"
    cases = [
        ([], "at least one rule"),
        ("x", "must be a list"),
        ([{"type": "ssml"}], "Rule 1: “type” must be alias or phoneme"),
        ([{"type": "alias", "string_to_replace": "", "alias": "b"}], "“string_to_replace” must be some text"),
        ([{"type": "alias", "string_to_replace": "a" * 101, "alias": "b"}], "101 characters; the limit is 100"),
        ([{"type": "alias", "string_to_replace": "[a]", "alias": "b"}], "cannot contain ["),
        ([{"type": "alias", "string_to_replace": "a", "alias": "b", "case_sensitive": "yes"}], "true or false"),
        ([{"type": "alias", "string_to_replace": "a", "alias": "b\x00"}], "cannot contain control characters"),
        ([{"type": "phoneme", "string_to_replace": "a", "phoneme": "x", "alphabet": "sampa"}], "ipa or cmu-arpabet"),
        ([{"type": "phoneme", "string_to_replace": "hi", "phoneme": "h3!"}], "Rule 1 (hi): The phonemes “h3!” use ! 3"),
        ([{"type": "alias", "string_to_replace": str(n), "alias": "b"} for n in range(501)], "at most 500"),
    ]
    for rules, message in cases:
        with pytest.raises(RuleProblem) as caught:
            p.check_rules(rules)
        assert message in str(caught.value), (rules, str(caught.value))


def test_added_rules_replace_those_for_the_same_string() -> None:
    old = p.check_rules([{"type": "alias", "string_to_replace": "a", "alias": "b"},
                         {"type": "alias", "string_to_replace": "c", "alias": "d"}])  # fmt: skip
    new = p.check_rules([{"type": "alias", "string_to_replace": "a", "alias": "z"}])
    assert [(r["string_to_replace"], r["alias"]) for r in p.merged(old, new)] == [("c", "d"), ("a", "z")]
    assert p.is_id(p.new_id()) and not p.is_id("short")
