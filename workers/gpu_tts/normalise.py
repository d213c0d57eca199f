"""English text normalisation for speech: digits, money, dates, units and abbreviations to words.

Kokoro's phonemiser (espeak) reads "$5.99." as "dollar five. ninety nine" and "12/25/1987" as
"twelve slash ...", so the TTS worker rewrites the text into the words a reader would say before
it is cut into chunks (a price's decimal point must not end a sentence). ``normalise_for_speech``
is pure and leaves text with nothing to normalise exactly as it was.

Number words come from ``num2words`` (cardinals, ordinals); everything else here is our own rules,
applied in order: e-mail addresses and URLs, abbreviations and titles, dates, times (with time
zones), phone numbers, money, ranges, percentages and units, decades and years, fractions, Roman
numerals in context, ordinals and plain numbers, acronyms, symbols. A rule that fails is skipped
(logged) and the others still apply. ``accent`` is "us" or "uk": UK voices read 05/12/2024 as 5
December, say "one hundred and five", and spell units "kilometres" (espeak sounds them the same).
Letters to be said one by one are written as capitals apart, "A" as "Eh": espeak reads a lone "a" as
the article and "ay" as "eye" ("10am" -> "ten eh em", "FAQ" -> "F Eh Q"). Not handled yet:
heteronyms (close/close, read/read), version numbers ("2.5.1"), Roman numerals outside the listed
contexts ("Rocky II", "Apollo XIII"), a lone regnal "I" before a word ("Elizabeth I was")."""

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


# --- time zones (only after a clock time: "EST. 1990" and "CET" alone are left to the acronym rule)

_ZONES = {
    "EST": "eastern standard time",
    "EDT": "eastern daylight time",
    "ET": "eastern time",
    "CST": "central standard time",
    "CDT": "central daylight time",
    "CT": "central time",
    "MST": "mountain standard time",
    "MDT": "mountain daylight time",
    "MT": "mountain time",
    "PST": "pacific standard time",
    "PDT": "pacific daylight time",
    "PT": "pacific time",
    "AKST": "Alaska standard time",
    "HST": "Hawaii standard time",
    "BST": "British summer time",
    "CET": "central European time",
    "CEST": "central European summer time",
    "EET": "eastern European time",
    "JST": "Japan standard time",
    "AEST": "Australian eastern standard time",
    "AEDT": "Australian eastern daylight time",
    # said as letters: "ten thirty U T C" (what newsreaders and pilots say; "Coordinated Universal
    # Time" is the written-out name nobody speaks)
    "UTC": "U T C",
    "GMT": "G M T",
    "IST": "I S T",
}
_ZONE_AFTER = (
    r"(?:\s?\(?\b(" + "|".join(sorted(_ZONES, key=len, reverse=True)) + r")\b\)?([+\-−]\d{1,2}(?::?\d{2})?\b)?)?"
)


def _zone(name: str, offset: str | None) -> str:
    """A time zone after a clock time, as a reader says it: "3 p.m. EST" -> "... pee em eastern standard time",
    "10:30 UTC+2" -> "... U T C plus two". Zones said as names are spelled out (US and European listeners know
    "eastern time", not "E T"); UTC, GMT and IST are said as letters. Offsets read as hours and minutes."""
    words = f" {_ZONES[name]}"
    if offset:
        sign = "plus" if offset[0] == "+" else "minus"
        digits = offset[1:].replace(":", "")
        hours, mins = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "")
        words += f" {sign} {cardinal(str(int(hours)))}"
        if mins and int(mins):  # UTC+05:30 -> "plus five thirty"
            words += f" {cardinal(mins)}"
    return words


_AMPM = r"([AaPp])\.?\s?[Mm]\b\.?"


def _time_words(h: int, mins: int, accent: str) -> str:
    if mins == 0 and h > 12:  # a 24-hour clock: 14:00 is "fourteen hundred", not "fourteen o'clock"
        return f"{cardinal(str(h))} hundred"
    if mins == 0:
        return f"{cardinal(str(h))} o'clock"
    return f"{cardinal(str(h))} {'oh ' + _DIGITS[mins] if mins < 10 else cardinal(str(mins))}"


def _times(text: str, accent: str) -> str:
    def with_ampm(m: re.Match) -> str:
        h, mins = int(m[1]), int(m[2] or 0)
        clock = cardinal(str(h)) if mins == 0 else _time_words(h, mins, accent)
        suffix = "eh em" if m[3].lower() == "a" else "pee em"
        zone = _zone(m[4], m[5]) if m[4] else ""
        dot = _keep_stop(m, text) if m.group(0).endswith(".") else ""
        return f"{clock} {suffix}{zone}{dot}"

    def clock24(m: re.Match) -> str:
        zone = _zone(m[3], m[4]) if m[3] else ""
        return _time_words(int(m[1]), int(m[2]), accent) + zone

    text = re.sub(r"\b(\d{1,2})(?::(\d{2}))?\s?" + _AMPM + _ZONE_AFTER, with_ampm, text)
    text = re.sub(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:)" + _ZONE_AFTER, clock24, text)
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


# --- Roman numerals, only in context -------------------------------------------------------------

_ROMAN = r"(?=[MDCLXVI])(M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))(?![\w-]|['’](?!s\b))"
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
# Names that take a regnal number ("Henry VIII" is "Henry the Eighth"). A list, not any capitalised
# word: "Rocky II", "Apollo XIII" and "Malcolm X" are a film, a mission and a man, not reigns.
_REGNAL = (
    "Alexander Alfonso Anne Benedict Boniface Catherine Charles Clement Constantine Edward Elizabeth "
    "Ferdinand Francis Frederick George Gregory Gustav Henry Innocent Ivan James John Leo Leopold Louis "
    "Ludwig Mary Napoleon Nicholas Otto Paul Pedro Peter Philip Pius Ptolemy Ramesses Richard Robert "
    "Rudolf Sixtus Stephen Urban Victor Wilhelm William"
).split()
# Words that number what follows, read as a cardinal ("Chapter IV" is "Chapter four").
_NUMBERING = ["World War", "Super Bowl", "WrestleMania"] + (
    "Chapter Part Volume Vol Act Scene Book Episode Phase Stage Level Section Article Title Appendix "
    "Round Season Grade Class Type Canto Psalm Schedule Annex Tier Category"
).split()


_ANY_ROMAN = re.compile(r"\s[MDCLXVI]+(?![\w-])")
_REGNAL_RE = re.compile(rf"\b({'|'.join(_REGNAL)})\s+{_ROMAN}")
_NUMBERED_RE = re.compile(rf"\b((?i:{'|'.join(re.escape(c) for c in _NUMBERING)})s?\.?)\s+{_ROMAN}")


def _roman_value(numeral: str) -> int:
    values = [_ROMAN_VALUES[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _romans(text: str, accent: str) -> str:
    """Roman numerals read as a reader says them, and only where the context says they are numerals:
    after a regnal name, an ordinal with "the" ("Henry VIII" -> "Henry the Eighth"); after a word that
    numbers what follows, a cardinal ("World War II" -> "World War two", "Chapter IV", "Super Bowl
    LVIII"). Everything else stays as written, so the pronoun "I", "MIX", "CIVIL", "DC" in "Washington,
    DC", "LCD", "MD", "Gen X" and "Malcolm X" are never numbers. Guards: the numeral must be well
    formed and upper case ("chapter iv" is rare, "book i" is not a numeral); a lone "I" after a name
    only before punctuation, "of" or "'s" ("Elizabeth I of England", "James I's court"), because in
    "when Elizabeth I was there" nothing tells the reign from the pronoun; a lone "I" after a numbering
    word only when that word is capitalised ("Part I", not "for the most part I think"); a lone L, C,
    D or M after a numbering word is a letter ("Type C", "Appendix D")."""

    def regnal(m: re.Match) -> str:
        numeral = m[2]
        if numeral == "I" and not re.match(r"(?:[,.;:!?)]|\s+of\b|['’]s\b|\s*$)", text[m.end() :]):
            return m[0]
        return f"{m[1]} the {ordinal(_roman_value(numeral), accent).title()}"

    def numbered(m: re.Match) -> str:
        cue, numeral = m[1], m[2]
        if numeral in ("L", "C", "D", "M") or (numeral == "I" and not cue[0].isupper()):
            return m[0]
        return f"{cue} {cardinal(str(_roman_value(numeral)), accent)}"

    if not _ANY_ROMAN.search(text):  # most sentences: no capital numeral after a space
        return text
    text = _REGNAL_RE.sub(regnal, text)
    return _NUMBERED_RE.sub(numbered, text)


# --- e-mail addresses and URLs -------------------------------------------------------------------

# Top-level domains a bare address may end in (with "www." or a scheme any domain is an address).
_TLDS = "com org net edu gov io co uk us ai dev app info biz me tv fm ca au de fr eu nz ie in ly gg xyz"
_WEB_SEP = {".": "dot", "-": "dash", "_": "underscore", "+": "plus", "/": "slash", "~": "tilde", ":": "colon"}


def _web_part(part: str, last: bool = False) -> str:
    """One label of an address: digits one by one ("web3" -> "web three"), letters as they are in lower
    case (espeak reads "github" and "jane" as words and spells a vowel-less "hr" or "bbc" by itself); a
    final two-letter country code or "edu" spelled ("co dot U K": people do not say "uck"), and a single
    letter (a lone "a" would be the article)."""
    if len(part) == 1 and part.isalpha() or last and (re.fullmatch(r"[A-Za-z]{2}", part) or part.lower() == "edu"):
        return _spell(part.upper())
    words = re.findall(r"\d|[^\d]+", part.lower())
    return " ".join(_DIGITS[int(w)] if w.isdigit() else w for w in words)


def _web_words(address: str, host: bool = False) -> str:
    pieces = re.findall(r"[A-Za-z0-9]+|[^A-Za-z0-9]", address)
    words = [
        _web_part(p, host and i == len(pieces) - 1) if p[0].isalnum() else _WEB_SEP.get(p, "")
        for i, p in enumerate(pieces)
    ]
    return " ".join(w for w in words if w)


def _web(text: str, accent: str) -> str:
    """E-mail addresses and URLs, read as people read them aloud: "jane.doe@example.com" -> "jane dot
    doe at example dot com"; "https://www.example.com/docs" -> "example dot com slash docs" (the
    scheme and "www." are dropped, as readers drop them; a query or fragment is dropped too, and a
    trailing slash). Runs first, so that no later rule takes "example.com" for an abbreviation or its
    digits for a number. A bare domain needs a known top-level domain ("Node.js" and "e.g." are not
    addresses); a sentence's full stop after an address is kept."""

    def email(m: re.Match) -> str:
        local, domain = m[1], m[2]
        return f"{_web_words(local)} at {_web_words(domain, host=True)}"

    def url(m: re.Match) -> str:
        host, port, path = m[1], m[2], (m[3] or "").rstrip("/")
        spoken = _web_words(host, host=True) + (" colon " + " ".join(_DIGITS[int(d)] for d in port) if port else "")
        return spoken + (" slash " + _web_words(path.lstrip("/")) if path else "")

    if "@" not in text and not _DOT_LETTER.search(text):  # no address can be here
        return text
    text = _EMAIL_RE.sub(email, text)
    text = _SCHEME_URL_RE.sub(url, text)
    return _BARE_URL_RE.sub(url, text)


_LABEL = r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*"  # unambiguous, so a long "a-a-a-..." cannot backtrack
_PATH = r"(/[\w\-./~%+]*[\w/])?(?:[?#][\w\-./~%+=&?#]*[\w/])?"
_DOT_LETTER = re.compile(r"\.[A-Za-z]")
_EMAIL_RE = re.compile(rf"(?<![\w.+-])([\w.+-]*\w)@({_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}})\b")
_SCHEME_URL_RE = re.compile(rf"\b(?:https?://(?:www\.)?|www\.)({_LABEL}(?:\.{_LABEL})*)(?::(\d{{1,5}}))?{_PATH}")
_BARE_URL_RE = re.compile(
    rf"(?<![\w.@/-])({_LABEL}(?:\.{_LABEL})*\.(?:{_TLDS.replace(' ', '|')}))\b(?![.-]?\w)(){_PATH}"
)


# --- acronyms ------------------------------------------------------------------------------------

# Letter names as espeak reads them when written one by one: a lone "A" is the article to it ("the A
# B C" reads "uh B C"), "ay" is "eye"; "Eh" reads /eɪ/.
_LETTER = {"A": "Eh"}
_VOWELS = set("AEIOUY")
# Two consonants no English word starts with: espeak spells such a word in capitals wherever it stands
# ("FBI", "GPU", "CPU", "DNA"), as it spells one with no vowel at all ("HTML", "NHS", "BBC").
_ONSETS = set("BL BR CH CL CR DR DW FL FR GL GN GR KN KR NC NG PH PL PR PS PT QU SC SH SK SL SM SN SP ST SV SW".split())
_ONSETS |= set("TH TR TS TW WH WR".split())
# Initialisms that look pronounceable, which espeak reads as a word in at least one of six contexts
# (alone, in a shouted sentence, before a comma, beside another word in capitals, mid-sentence, at
# the end): "NYC" -> "nick", "FAQ" -> "fack", "SEO" -> "see-oh", or always, as a word its dictionary
# knows ("ETA", "YMCA" -> "imka"). We spell these. Those it spelled in all six ("CEO", "API", "URL",
# "USB", "UK", "IT") are left to it.
_SPELLED = set(
    (
        "AP AR AWS COO DUI EMT EOD EPA ETA ETF EV FAQ GOP ICU IMF IOU IPO IQ IRA NCAA NGO NYC OBE PTA QA "
        "SEO SOS TSA UAE USC UX VIP YMCA"
    ).split()
)
_SAID_AS = {"NCAA": "N C double Eh"}
# ...and those also an English word when shouted ("I SAT DOWN", "WHO IS IT"): spelled only among
# lower-case words ("SAT scores", "the WHO said").
_SPELLED_IF_NOT_SHOUTED = {"SAT", "SEC", "LED", "UPS", "ER", "PE", "WHO"}
# Acronyms said as words. Most need nothing (espeak reads "NASA", "NATO", "UNESCO", "SCUBA", "COVID",
# "LASER" as words); these it spells in capitals, so they are written in lower case.
_READ_AS_WORD = {w: w.lower() for w in "PIN RAM ROM SIM ZIP LOL LAN WAN TED".split()}


def _spell(letters: str) -> str:
    return " ".join(_LETTER.get(c, c) for c in letters)


def _espeak_spells(word: str) -> bool:
    """Whether espeak spells this capitalised word by itself in any context (checked on ~160 common
    initialisms alone, in a shouted sentence, before a comma and beside another word in capitals)."""
    return not (_VOWELS & set(word)) or (word[0] not in _VOWELS and word[1] not in _VOWELS and word[:2] not in _ONSETS)


def _acronyms(text: str, accent: str) -> str:
    """All-capital initialisms spelled letter by letter where espeak would read them as a word, in a
    form it always spells ("FAQ" -> "F Eh Q", "CEOs" -> "C E O's"), and acronyms said as words written
    so that it says them ("PIN" -> "pin"). A curated list plus a rule: those espeak already spells in
    every context (no vowel, or an onset no English word has: "FBI", "HTML", "NHS", "GPU") are left as
    written, as it spells them with the stress of speech ("eff-bee-EYE") where "F B I" gives each letter
    its own stress; those it reads as words when they stand alone or beside another word in capitals
    are listed (_SPELLED); words in capitals that are neither (a shouted "STOP", "MIX") are left alone.
    Plurals and possessives: "CEOs", "CEO's" and "CEOs'" -> "C E O's" (a bare "s" would be read "ess")."""

    def shouted(m: re.Match) -> bool:
        before = re.search(r"([A-Za-z']+)\W*$", text[max(0, m.start() - 40) : m.start()])
        after = re.match(r"\W*([A-Za-z']+)", text[m.end() :])
        return any(w and len(w[1]) > 1 and w[1].isupper() for w in (before, after))

    def one(m: re.Match) -> str:
        word, tail = m[1], m[2] or ""
        if word in _READ_AS_WORD and not tail:
            return _READ_AS_WORD[word]
        if _espeak_spells(word):  # FBI, HTML, NHS, GPU: espeak spells them everywhere, and better
            return m[0]
        if word == "WHO" and not re.search(r"\b[Tt]he\s+$", text[max(0, m.start() - 8) : m.start()]):
            return m[0]
        if word in _SPELLED or (word in _SPELLED_IF_NOT_SHOUTED and not shouted(m)):
            return _SAID_AS.get(word, _spell(word)) + ("'s" if tail else "")
        return m[0]

    return re.sub(r"(?<![\w'’.-])([A-Z]{2,5})(s['’]|['’]s|s)?(?![\w'’-]|\.\w)", one, text)


def _symbols(text: str, accent: str = "us") -> str:
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
    steps = (_web, _abbreviations, _dates, _times, _phones, _money, _units, _years, _fractions, _romans, _numbers)
    for step in (*steps, _acronyms):
        try:
            text = step(text, accent)
        except Exception:  # a rule's blind spot must never fail a request: skip that rule, keep the rest
            log.exception("normalising step %s failed; its part is spoken as written", step.__name__)
    return _symbols(text)
