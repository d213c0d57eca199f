"""Pronunciation dictionaries: a user's rules for how words are said, checked once on the way in.

A rule is ElevenLabs' shape: ``{"type": "alias", "string_to_replace", "alias"}`` (say the words as
another text would be said) or ``{"type": "phoneme", "string_to_replace", "phoneme", "alphabet"}``
with ``alphabet`` "ipa" or "cmu-arpabet"; both may say ``case_sensitive`` and ``word_boundaries``
(default true: whole words, exact case, as ElevenLabs' PLS lexicons). A phoneme rule is turned
into Kokoro's own phonemes here (ARPAbet through a small table, IPA tidied: ``g`` is ``ɡ``,
syllable dots dropped) and checked against Kokoro's vocabulary, so a request carries rules the TTS
worker can apply without a database (``clip_rules``: the ``PRONUNCIATION_RULES`` setting).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

# Request setting: the rules a speech request applies, in order (``clip_rules``' output).
PRONUNCIATION_RULES = "pronunciation_rules"

ID_LENGTH = 20
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
MAX_RULES = 500  # per dictionary
MAX_STRING_CHARS = 100  # string_to_replace: a marked-up span's text is at most 100 characters
MAX_ALIAS_CHARS = 200
MAX_PHONEME_CHARS = 200
MAX_LOCATORS = 3
ALPHABETS = ("ipa", "cmu-arpabet")

# Kokoro v1.0's phonemes (its vocabulary less punctuation; tests check it against the model's config).
KOKORO_PHONEMES = frozenset(
    "AIOQSTWYabcdefhijklmnopqrstuvwxyzæçðøŋœɐɑɒɔɕɖəɚɛɜɟɡɣɤɥɨɪɯɰɲɳɴɸɹɻɽɾʁʂʃʈʊʋʌʎʒʔʝʣʤʥʦʧʨʰʲˈˌː̃βθχᵊᵝᵻꭧ"
)

# CMU ARPAbet to Kokoro's (misaki's) US phonemes; the diphthongs are misaki's one-letter shorthands.
ARPABET = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "W", "AY": "I", "EH": "ɛ", "ER": "ɜɹ", "EY": "A",
    "IH": "ɪ", "IY": "i", "OW": "O", "OY": "Y", "UH": "ʊ", "UW": "u",
    "B": "b", "CH": "ʧ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "ʤ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "ŋ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}  # fmt: skip
UNSTRESSED = {"AH": "ə", "ER": "əɹ"}  # AH0, ER0: the reduced vowels
STRESS = {"0": "", "1": "ˈ", "2": "ˌ"}  # misaki puts the mark right before the vowel
IPA_SPELLINGS = {"g": "ɡ", "'": "ˈ", ",": "ˌ", "ɝ": "ɜɹ", "r": "ɹ", ":": "ː"}
IPA_DROPPED = set(".\u0361\u035c‿|‖-")  # syllable breaks, tie bars, linking and foot marks
# IPA diphthongs and affricates as Kokoro was trained on them (misaki's single symbols)
IPA_SEQUENCES = {"eɪ": "A", "aɪ": "I", "aʊ": "W", "ɔɪ": "Y", "oʊ": "O", "əʊ": "Q", "tʃ": "ʧ", "dʒ": "ʤ"}
VOWELS = set("AIOQWYaeiouæɐɑɒɔəɚɛɜɪʊʌɨᵊᵻ")
STRESS_MARKS = "ˈˌ"
FORBIDDEN_IN_STRING = set("[]\n\r")  # would break the markup span a phoneme rule becomes


class RuleProblem(ValueError):
    """A rule or request the user must change; the message says what and how."""


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))


def is_id(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in _ID_ALPHABET for c in value)


def arpabet_to_kokoro(phonemes: str) -> str:
    """``"K AH0 K AO1 R OW0"`` → ``"kəkˈɔɹO"``; RuleProblem for a symbol not in ARPAbet."""
    out = []
    for token in phonemes.replace(",", " ").split():
        symbol, stress = (token[:-1], token[-1]) if token[-1] in STRESS else (token, "")
        symbol = symbol.upper()
        if symbol not in ARPABET:
            raise RuleProblem(
                f"“{token}” is not a CMU ARPAbet phoneme; write e.g. “T AH0 M EY1 T OW2” (vowels may carry 0, 1 or 2)."
            )
        if stress == "0" and symbol in UNSTRESSED:
            out.append(UNSTRESSED[symbol])
        else:
            out.append(STRESS.get(stress, "") + ARPABET[symbol])
    return "".join(out)


def ipa_to_kokoro(phonemes: str) -> str:
    """IPA as people write it, as Kokoro reads it: surrounding slashes or brackets and spaces
    dropped, ASCII g and apostrophe stress read as ɡ and ˈ, syllable dots and tie bars dropped,
    diphthongs as misaki's single symbols (oʊ is O), and a stress mark moved from the start of its
    syllable to just before the vowel, where misaki puts it (ˈkoʊ is kˈO)."""
    text = phonemes.strip().strip("/[]").strip()
    text = "".join(IPA_SPELLINGS.get(ch, ch) for ch in text if ch not in IPA_DROPPED and not ch.isspace())
    for sequence, symbol in IPA_SEQUENCES.items():
        text = text.replace(sequence, symbol)
    out: list[str] = []
    pending = ""
    for ch in text:
        if ch in STRESS_MARKS:
            pending = ch
        elif ch in VOWELS and pending:
            out += [pending, ch]
            pending = ""
        else:
            out.append(ch)
    return "".join(out) + pending


def kokoro_phonemes(phoneme: str, alphabet: str) -> str:
    """A phoneme rule's phonemes in Kokoro's symbols; RuleProblem if Kokoro cannot say them."""
    said = arpabet_to_kokoro(phoneme) if alphabet == "cmu-arpabet" else ipa_to_kokoro(phoneme)
    if not said:
        raise RuleProblem("A phoneme rule needs its phonemes.")
    bad = sorted({ch for ch in said if ch not in KOKORO_PHONEMES})
    if bad:
        raise RuleProblem(
            f"The phonemes “{phoneme}” use {' '.join(bad)}, which Kokoro cannot say: write IPA letters and "
            "stress marks (e.g. kˈOkəɹO or ˈkoʊkəˌɹoʊ), or CMU ARPAbet with alphabet cmu-arpabet."
        )
    return said


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def plain_text(value: str, what: str) -> str:
    """``value`` unless it holds a control character (a NUL cannot even be stored): RuleProblem."""
    if CONTROL.search(value):
        raise RuleProblem(f"{what} cannot contain control characters or line breaks.")
    return value


def _text(rule: dict, field: str, limit: int, n: int) -> str:
    value = rule.get(field)
    if not isinstance(value, str) or not value.strip():
        raise RuleProblem(f"Rule {n}: “{field}” must be some text.")
    if len(value) > limit:
        raise RuleProblem(f"Rule {n}: “{field}” is {len(value)} characters; the limit is {limit}.")
    return plain_text(value, f"Rule {n}: “{field}”")


def check_rule(rule: Any, n: int = 1) -> dict[str, Any]:
    """One rule as stored (ElevenLabs' fields, with the flags made explicit); RuleProblem if wrong."""
    if not isinstance(rule, dict):
        raise RuleProblem(f"Rule {n} must be an object with “type” alias or phoneme.")
    kind = rule.get("type")
    if kind not in ("alias", "phoneme"):
        raise RuleProblem(f"Rule {n}: “type” must be alias or phoneme.")
    string = _text(rule, "string_to_replace", MAX_STRING_CHARS, n).strip()
    if FORBIDDEN_IN_STRING & set(string):
        raise RuleProblem(f"Rule {n}: the words to replace cannot contain [, ] or a line break.")
    flags = {}
    for flag in ("case_sensitive", "word_boundaries"):
        value = rule.get(flag)
        if value is not None and not isinstance(value, bool):
            raise RuleProblem(f"Rule {n}: “{flag}” must be true or false.")
        flags[flag] = True if value is None else value
    if kind == "alias":
        alias = _text(rule, "alias", MAX_ALIAS_CHARS, n).strip()
        return {"type": "alias", "string_to_replace": string, "alias": alias} | flags
    phoneme = _text(rule, "phoneme", MAX_PHONEME_CHARS, n).strip()
    alphabet = rule.get("alphabet", "ipa")
    if alphabet not in ALPHABETS:
        raise RuleProblem(f"Rule {n}: “alphabet” must be ipa or cmu-arpabet.")
    try:
        kokoro_phonemes(phoneme, alphabet)
    except RuleProblem as exc:
        raise RuleProblem(f"Rule {n} ({string}): {exc}") from None
    return {"type": "phoneme", "string_to_replace": string, "phoneme": phoneme, "alphabet": alphabet} | flags


def check_rules(rules: Any, allow_empty: bool = False) -> list[dict[str, Any]]:
    """A list of rules as stored; RuleProblem for the first wrong one (numbered from 1)."""
    if not isinstance(rules, list):
        raise RuleProblem("“rules” must be a list of rules.")
    if not rules and not allow_empty:
        raise RuleProblem("A pronunciation dictionary needs at least one rule.")
    if len(rules) > MAX_RULES:
        raise RuleProblem(f"{len(rules)} rules; a dictionary holds at most {MAX_RULES}.")
    return [check_rule(rule, n) for n, rule in enumerate(rules, 1)]


def merged(rules: list[dict], added: list[dict]) -> list[dict]:
    """``rules`` with ``added`` (ElevenLabs' add-rules: a rule for the same string replaces the old one)."""
    replaced = {r["string_to_replace"] for r in added}
    out = [r for r in rules if r["string_to_replace"] not in replaced] + added
    if len(out) > MAX_RULES:
        raise RuleProblem(f"{len(out)} rules; a dictionary holds at most {MAX_RULES}.")
    return out


def clip_rules(rules: list[dict]) -> list[dict[str, Any]]:
    """Stored rules as a speech request carries them: a phoneme rule's phonemes in Kokoro's symbols."""
    out = []
    for rule in rules:
        entry = {k: rule[k] for k in ("type", "string_to_replace", "case_sensitive", "word_boundaries")}
        if rule["type"] == "alias":
            entry["alias"] = rule["alias"]
        else:
            entry["phoneme"] = kokoro_phonemes(rule["phoneme"], rule["alphabet"])
        out.append(entry)
    return out


def clip_rules_problem(value: Any) -> str | None:
    """A message unless ``value`` is a request's rules as ``clip_rules`` makes them."""
    if not isinstance(value, list) or len(value) > MAX_RULES * MAX_LOCATORS:
        return "pronunciation_rules must be a list of rules."
    for rule in value:
        if not isinstance(rule, dict) or rule.get("type") not in ("alias", "phoneme"):
            return "Each pronunciation rule needs a type, alias or phoneme."
        said = rule.get("alias" if rule["type"] == "alias" else "phoneme")
        string = rule.get("string_to_replace")
        if not isinstance(string, str) or not string or FORBIDDEN_IN_STRING & set(string) or not isinstance(said, str):
            return "A pronunciation rule is malformed."
        if rule["type"] == "phoneme" and (not said or set(said) - KOKORO_PHONEMES):
            return f"The pronunciation of “{string}” uses symbols Kokoro cannot say."
    return None
