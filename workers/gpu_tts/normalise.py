"""English text normalisation for speech: digits, money, dates, units and abbreviations to words.

Kokoro's phonemiser (espeak) reads "$5.99." as "dollar five. ninety nine" and "12/25/1987" as
"twelve slash ...", so the TTS worker rewrites the text into the words a reader would say before
it is cut into chunks (a price's decimal point must not end a sentence). ``normalise_for_speech``
is pure and leaves text with nothing to normalise exactly as it was.

Number words come from ``num2words`` (cardinals, ordinals); everything else here is our own rules,
applied in order: abbreviations and titles, dates, times, phone numbers, money, ranges,
percentages and units, decades and years, ordinals, fractions, plain numbers, symbols.
``accent`` is "us" or "uk": UK voices read 05/12/2024 as 5 December, say "one hundred and five",
and spell units "kilometres" (espeak sounds them the same). Not handled yet: heteronyms, Roman
numerals, e-mail addresses and URLs, acronyms, time zones.
"""

import logging
import re

from num2words import num2words

log = logging.getLogger(__name__)

_DIGITS = "zero one two three four five six seven eight nine".split()
_MONTHS = ("January February March April May June July August September October November December").split()
_MONTH_ABBR = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH_RE = "|".join(_MONTHS)
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"  # 1,234,567.89 or 1234.5
_SCALES = r"thousand|million|billion|trillion"


def _clean(words: str, accent: str) -> str:
    words = words.replace(",", "")
    return words.replace(" and ", " ") if accent == "us" else words


MAX_WORDED_DIGITS = 15  # longer digit runs (ids, codes) are read digit by digit, as people do


def cardinal(number: str, accent: str = "us") -> str:
    """ "1,234" -> "one thousand two hundred thirty-four"; "2.5" -> "two point five"; "007" -> digits."""
    number = number.replace(",", "")
    negative = number.startswith("-")
    number = number.lstrip("-")
    whole, _, frac = number.partition(".")
    if (len(whole) > 1 and whole.startswith("0")) or len(whole) > MAX_WORDED_DIGITS:
        words = " ".join(_DIGITS[int(d)] for d in whole)
    else:
        words = _clean(num2words(int(whole or "0")), accent)
    if frac:
        words += " point " + " ".join(_DIGITS[int(d)] for d in frac)
    return ("minus " if negative else "") + words


def ordinal(n: int, accent: str = "us") -> str:
    if n >= 10**MAX_WORDED_DIGITS:  # nobody says "the quadrillionth"; read the digits
        return cardinal(str(n), accent)
    return _clean(num2words(n, to="ordinal"), accent)


def year(y: int, accent: str = "us") -> str:
    """1987 -> nineteen eighty-seven, 1900 -> nineteen hundred, 2005 -> two thousand five, 2024 -> twenty
    twenty-four."""
    if 2000 <= y <= 2009 or y < 1000 or y % 1000 == 0:
        return cardinal(str(y), accent)
    hi, lo = divmod(y, 100)
    if lo == 0:
        return f"{cardinal(str(hi))} hundred"
    return f"{cardinal(str(hi))} {'oh ' + _DIGITS[lo] if lo < 10 else cardinal(str(lo))}"


def _plural_word(words: str) -> str:
    """Pluralise the last word of a number's words: "twenty" -> "twenties", "six" -> "sixes"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith(("x", "s")):
        return words + "es"
    return words + "s"


def _keep_stop(m: re.Match, text: str) -> str:
    """The period of an abbreviation that also ends the sentence."""
    rest = text[m.end() :]
    return "." if not rest.strip() or re.match(r"\s+[\"'(]?[A-Z]", rest) else ""


# --- abbreviations and titles --------------------------------------------------------------------

_TITLES = {
    "Dr": "Doctor",
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Prof": "Professor",
    "Capt": "Captain",
    "Gen": "General",
    "Sgt": "Sergeant",
    "Lt": "Lieutenant",
    "Rev": "Reverend",
    "Gov": "Governor",
    "Sen": "Senator",
    "Rep": "Representative",
    "Mt": "Mount",
    "Ft": "Fort",
}
# Mr/Mrs/Ms/Dr are also written without a period (British style); the rest only with one ("Gen Z").
_TITLE_RE = re.compile(r"\b(?:(Mr|Mrs|Ms|Dr)\.?|(" + "|".join(_TITLES) + r")\.)(?=\s+(?:[A-Z]|and |& ))")
_AFTER_NAME = {"Jr": "Junior", "Sr": "Senior", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard"}
_AFTER_RE = re.compile(r"(?<=[A-Za-z])(,?\s+)(" + "|".join(_AFTER_NAME) + r")\.")
# Elm St., 42nd St. (but St. before a capitalised name is Saint: "visit St. Louis")
_ST_STREET = re.compile(r"\b([A-Z][a-z]+|\d+(?:st|nd|rd|th))(\s+)St\b(?!\.?\s+[A-Z][a-z])\.?")
_ST_SAINT = re.compile(r"\bSt\.?(?=\s+[A-Z])")  # St. Louis


def _abbreviations(text: str, accent: str) -> str:
    def street(m: re.Match) -> str:
        dot = _keep_stop(m, text) if m.group(0).endswith(".") else ""
        return f"{m[1]}{m[2]}Street{dot}"

    text = _ST_STREET.sub(street, text)
    text = _ST_SAINT.sub("Saint", text)
    text = _TITLE_RE.sub(lambda m: _TITLES[m[1] or m[2]], text)
    text = _AFTER_RE.sub(lambda m: m[1] + _AFTER_NAME[m[2]] + _keep_stop(m, text), text)
    text = re.sub(r"\bNo\.\s?(?=\d)", "number ", text)
    text = re.sub(r"\bvs\.(?=.)", "versus", text).replace("vs.", "versus.")
    for abbr, words in (("etc", "et cetera"), ("approx", "approximately")):
        text = re.sub(rf"\b{abbr}\.", lambda m, w=words, t=text: w + _keep_stop(m, t), text)
    text = re.sub(r"\be\.g\.,?", "for example,", text)
    text = re.sub(r"\bi\.e\.,?", "that is,", text)
    return text


# --- dates and times -----------------------------------------------------------------------------


def _month_day(month: int, day: int, accent: str) -> str:
    if accent == "uk":
        return f"the {ordinal(day)} of {_MONTHS[month - 1]}"
    return f"{_MONTHS[month - 1]} {ordinal(day)}"


def _numeric_date(m: re.Match, accent: str) -> str:
    a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
    month, day = (b, a) if accent == "uk" or a > 12 else (a, b)
    if b > 12 and accent == "uk":
        month, day = a, b
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    yy = int(y) if len(y) == 4 else 2000 + int(y) if int(y) < 50 else 1900 + int(y)
    sep = " " if accent == "uk" else ", "
    return f"{_month_day(month, day, accent)}{sep}{year(yy, accent)}"


def _dates(text: str, accent: str) -> str:
    # Dec. 25 -> December 25
    text = re.sub(
        r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?(?=\s+\d)",
        lambda m: _MONTH_ABBR[m.group(1) if m.group(1) != "Sep" else "Sept"[:3]],
        text,
    )
    # ISO 2024-12-25
    text = re.sub(
        r"\b(\d{4})-(\d{2})-(\d{2})\b",
        lambda m: _numeric_date(re.match(r"(\d+)/(\d+)/(\d+)", f"{m[2]}/{m[3]}/{m[1]}"), "us"),
        text,
    )
    text = re.sub(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b", lambda m: _numeric_date(m, accent), text)
    # 12/25 (US) or 25/12 (UK): a day past the 12th cannot be a fraction's usual denominator
    md = r"(?<![\w/.])(1[0-2]|0?[1-9])/(1[3-9]|2\d|3[01])(?![\w/])"
    dm = r"(?<![\w/.])(?!24/7\b)(1[3-9]|2\d|3[01])/(1[0-2]|0?[1-9])(?![\w/])"
    text = re.sub(md, lambda m: _month_day(int(m[1]), int(m[2]), accent), text)
    text = re.sub(dm, lambda m: _month_day(int(m[2]), int(m[1]), accent), text)
    # December 25, 2024 / December 25th / December 2024
    text = re.sub(
        rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(,?\s+(\d{{4}})\b)?",
        lambda m: f"{m[1]} {ordinal(int(m[2]), accent)}" + (f", {year(int(m[4]), accent)}" if m[4] else ""),
        text,
    )
    # 25 December 2024 / 25th of December
    text = re.sub(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(,?\s+(\d{{4}})\b)?",
        lambda m: f"the {ordinal(int(m[1]), accent)} of {m[2]}" + (f" {year(int(m[4]), accent)}" if m[4] else ""),
        text,
    )
    text = re.sub(rf"\b({_MONTH_RE})\s+(\d{{4}})\b", lambda m: f"{m[1]} {year(int(m[2]), accent)}", text)
    return text


_AMPM = r"([AaPp])\.?\s?[Mm]\b\.?"


def _time_words(h: int, mins: int, accent: str) -> str:
    if mins == 0:
        return f"{cardinal(str(h))} o'clock"
    return f"{cardinal(str(h))} {'oh ' + _DIGITS[mins] if mins < 10 else cardinal(str(mins))}"


def _times(text: str, accent: str) -> str:
    def with_ampm(m: re.Match) -> str:
        h, mins = int(m[1]), int(m[2] or 0)
        clock = cardinal(str(h)) if mins == 0 else _time_words(h, mins, accent)
        suffix = "ay em" if m[3].lower() == "a" else "pee em"
        dot = _keep_stop(m, text) if m.group(0).endswith(".") else ""
        return f"{clock} {suffix}{dot}"

    text = re.sub(r"\b(\d{1,2})(?::(\d{2}))?\s?" + _AMPM, with_ampm, text)
    text = re.sub(
        r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:)",
        lambda m: _time_words(int(m[1]), int(m[2]), accent),
        text,
    )
    return text


def _phones(text: str, accent: str) -> str:
    def read(m: re.Match) -> str:
        groups = re.findall(r"\d+", m.group(0))
        return ", ".join(" ".join(_DIGITS[int(d)] for d in g) for g in groups)

    text = re.sub(r"\b(911|999)\b", lambda m: " ".join(_DIGITS[int(d)] for d in m[1]), text)
    text = re.sub(r"(?<![\w-])(?:1-)?(?:\(\d{3}\)\s?|\d{3}-)\d{3}-\d{4}\b", read, text)
    return re.sub(r"(?<![\w.,-])\d{3}-\d{4}\b(?!-)", read, text)


# --- money ---------------------------------------------------------------------------------------

_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}


def _money(text: str, accent: str) -> str:
    def amount(sym: str, num: str, scale: str | None) -> str:
        one, many, sub1, subs = _CURRENCY[sym]
        num = num.replace(",", "")
        if scale:
            return f"{cardinal(num, accent)} {scale} {many}"
        whole, _, cents = num.partition(".")
        if cents and len(cents) != 2:
            return f"{cardinal(num, accent)} {many}"
        w, c = int(whole or 0), int(cents or 0)
        parts = []
        if w or not c:
            parts.append(f"{cardinal(str(w), accent)} {one if w == 1 else many}")
        if c:
            if sym == "£" and w:
                return f"{parts[0]} {cardinal(str(c), accent)}"
            parts.append(f"{cardinal(str(c), accent)} {sub1 if c == 1 else subs}")
        return " and ".join(parts)

    def rng(m: re.Match) -> str:
        one, many, *_ = _CURRENCY[m[1]]
        scale = f" {m[4]}" if m[4] else ""
        return f"{cardinal(m[2], accent)} to {cardinal(m[3], accent)}{scale} {many}"

    text = re.sub(rf"([$£€])({_NUM})\s?[-–]\s?[$£€]?({_NUM})(?:\s?({_SCALES}))?\b", rng, text)
    scale_abbr = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion"}
    text = re.sub(
        rf"([$£€])({_NUM})(?:\s?({_SCALES})\b|(k|m|bn|b)\b)?",
        lambda m: amount(m[1], m[2], m[3] or scale_abbr.get(m[4] or "")),
        text,
    )
    text = re.sub(r"\b(\d+)¢", lambda m: f"{cardinal(m[1], accent)} cent{'' if m[1] == '1' else 's'}", text)
    return re.sub(r"\b(\d{1,2})p\b", lambda m: f"{cardinal(m[1], accent)} {'penny' if m[1] == '1' else 'pence'}", text)


# --- ranges, percentages, units ------------------------------------------------------------------

_UNITS = {  # symbol: (singular, plural)
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "yd": ("yard", "yards"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "L": ("liter", "liters"),
    "l": ("liter", "liters"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "kB": ("kilobyte", "kilobytes"),
    "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
}
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_RANGE = re.compile(rf"(?<![\w.,/:-])(-?{_NUM})\s?(?:[-–]|to)\s?({_NUM})(?![\w/:]|[-–]\d|\.\d)")


def _uk(words: str) -> str:
    return words.replace("meter", "metre").replace("liter", "litre")


def _units(text: str, accent: str) -> str:
    def unit(m: re.Match) -> str:
        one, many = _UNITS[m[3]]
        value = m[2].replace(",", "")
        name = one if value in ("1", "-1") and not m[1] else many
        name = _uk(name) if accent == "uk" else name
        lead = f"{cardinal(m[1], accent)} to " if m[1] else ""
        return f"{lead}{cardinal(value, accent)} {name}"

    rng = rf"(?:(-?{_NUM})\s?(?:[-–]|to)\s?)?"
    text = re.sub(rf"(?<![\w.,])(?<!\w-){rng}(-?{_NUM})\s?({_UNIT_RE})(?![\w/°])", unit, text)
    pct = r"\s?(?:%|percent\b|per cent\b)"
    text = re.sub(
        rf"(?<![\w.,])(-?{_NUM})(?:{pct})?\s?(?:[-–]|to)\s?(-?{_NUM}){pct}",
        lambda m: f"{cardinal(m[1], accent)} to {cardinal(m[2], accent)} percent",
        text,
    )
    return re.sub(rf"(?<![\w.,])(-?{_NUM})\s?%", lambda m: f"{cardinal(m[1], accent)} percent", text)


# --- years, decades, ordinals, fractions, numbers ------------------------------------------------

_YEAR_CUE = (
    r"(?:in|In|since|Since|from|From|by|By|until|till|to|and|of|or|during|During|before|Before|after|"
    r"After|year|born|circa|c\.|around|between|Between|early|late|mid|summer|winter|spring|autumn|fall)"
)


def _years(text: str, accent: str) -> str:
    def decade(m: re.Match) -> str:
        if m[1]:  # 1980s
            y = int(m[1])
            if y % 100 == 0:
                return f"{year(y, accent)}s" if y % 1000 else f"{cardinal(str(y), accent)}s"
            hi = cardinal(str(y // 100))
            return f"{hi} {_plural_word(cardinal(str(y % 100)))}"
        return _plural_word(cardinal(m[2]))  # '90s, 90s

    text = re.sub(r"\b(1[1-9]\d0|20\d0)'?s\b|(?:(?<=\s)|^)['’]?([1-9]0)'?s\b", decade, text)
    y = r"(1[1-9]\d\d|20\d\d)"
    text = re.sub(rf"\b{y}\s?[-–]\s?{y}\b", lambda m: f"{year(int(m[1]), accent)} to {year(int(m[2]), accent)}", text)
    cue = re.compile(rf"\b({_YEAR_CUE})\s{y}\b(?![.,]\d)")
    text = cue.sub(lambda m: f"{m[1]} {year(int(m[2]), accent)}", text)
    text = re.sub(
        r"(?:(?<=^)|(?<=[.!?]\s))(1[1-9]\d\d|20\d\d)(?=,)", lambda m: year(int(m[1]), accent), text
    )  # "1987, ..." at a sentence start
    return re.sub(r"\b(1[1-9]\d\d|20\d\d)\s?(BC|AD|BCE|CE)\b", lambda m: f"{year(int(m[1]), accent)} {m[2]}", text)


_FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def _fraction(num: int, den: int, accent: str) -> str:
    one, many = _FRACTIONS.get(den, (ordinal(den, accent), _plural_word(ordinal(den, accent))))
    return f"{cardinal(str(num), accent)} {one if num == 1 else many}"


def _fractions(text: str, accent: str) -> str:
    def mixed(m: re.Match) -> str:
        num, den = int(m[2]), int(m[3])
        part = "a half" if (num, den) == (1, 2) else _fraction(num, den, accent)
        return f"{cardinal(m[1], accent)} and {part}"

    text = re.sub(r"(?<![\w/.])(\d+)\s(\d)/(\d{1,2})(?![\w/])", mixed, text)
    text = re.sub(r"(?<=\d)½", " and a half", text).replace("½", "half")
    text = re.sub(
        r"(?<![\w/.])(\d{1,2})/(\d{1,2})(?![\w/])",
        lambda m: (
            _fraction(int(m[1]), int(m[2]), accent)
            if int(m[1]) < int(m[2])
            else f"{cardinal(m[1], accent)} {cardinal(m[2], accent)}"
        ),  # 24/7, 50/50
        text,
    )
    return text


def _numbers(text: str, accent: str) -> str:
    text = re.sub(
        r"\b(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b",
        lambda m: ordinal(int(m[1].replace(",", "")), accent),
        text,
    )
    text = _RANGE.sub(lambda m: f"{m[1]} to {m[2]}", text)
    text = re.sub(r"#(\d+)", r"number \1", text)
    text = re.sub(r"(?<![\w:])(\d{1,3}):(\d)(?![\w:])", r"\1 to \2", text)  # a score or ratio, 3:2
    text = re.sub(rf"(?<![\w.])({_NUM})x\b", lambda m: f"{cardinal(m[1], accent)} times", text)
    text = re.sub(rf"(?:(?<=\s)|^|(?<=[(\[\"']))-(?={_NUM})", "minus ", text)
    return re.sub(rf"(?<![\w.])({_NUM})(?!\w|\.\d)", lambda m: cardinal(m[1], accent), text)


def _symbols(text: str) -> str:
    text = re.sub(r"\s*&\s*", " and ", text)
    text = re.sub(r"(?<=\w)\s*\+(?=\s|$|[.,!?])", " plus", text)  # 50+ / "2 + 2"
    text = re.sub(r"\s\+\s", " plus ", text)
    text = re.sub(r"\s=\s", " equals ", text)
    text = re.sub(r"(?<=\w)\s?×\s?(?=\w)", " times ", text)
    text = re.sub(r"~\s?(?=\w)", "about ", text)
    text = re.sub(r"\band/or\b", "and or", text)
    text = re.sub(r"(?<=[a-z])/(?=[a-z])", " or ", text)  # yes/no
    return text


def normalise_for_speech(text: str, accent: str = "us") -> str:
    """The words a reader says for ``text``: numbers, money, dates, times, units and abbreviations spelled out."""
    accent = "uk" if accent.lower() in ("uk", "gb", "en-gb", "british") else "us"
    original = text
    try:
        for step in (_abbreviations, _dates, _times, _phones, _money, _units, _years, _fractions, _numbers):
            text = step(text, accent)
        return _symbols(text)
    except (ValueError, OverflowError, IndexError, KeyError):  # a rule's blind spot must never fail a request
        log.exception("normalising failed; speaking the text as written")
        return original
