"""Dates as transcripts write them: in words in English, Spanish or French, as ISO dates, and in
file names. Each finder returns the first date it is sure of, or None."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from briefqa.dates import MONTHS

# Month names in the other languages transcripts come in (lower case, accents removed).
_OTHER_MONTHS = {
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    # French (and German, where it is the same word)
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # Portuguese and Italian, where they differ
    "janeiro": 1, "fevereiro": 2, "marco": 3, "maio": 5, "junho": 6, "julho": 7, "setembro": 9,
    "outubro": 10, "dezembro": 12, "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "settembre": 9, "ottobre": 10, "dicembre": 12,
    # German
    "januar": 1, "februar": 2, "marz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
}  # fmt: skip
ALL_MONTHS = MONTHS | _OTHER_MONTHS
_MONTH = "(?P<month>" + "|".join(sorted(ALL_MONTHS, key=len, reverse=True)) + r")\.?"

_PATTERNS = [
    # March 11, 2021 / Mar. 11 2021
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b"),
    # 11 March 2021 / 12 de marzo de 2021 / le 3 fevrier 2022 / 1er mars 2022
    re.compile(
        r"\b(?P<day>\d{1,2})(?:st|nd|rd|th|er|º|°|\.)?\s+(?:de\s+|of\s+)?"
        + _MONTH
        + r",?\s+(?:de\s+|del\s+)?(?P<year>\d{4})\b"
    ),
    # 2021-03-12
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
]
# File names: 20210312, 2021-03-12, 2021_03_12, 2021.03.12.
_FILE_DATE = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})[-_.]?(?P<mnum>[01]\d)[-_.]?(?P<day>[0-3]\d)(?!\d)")
# A month and day with no year, such as 3_12 or 03-12 at the start of a name.
_FILE_MONTH_DAY = re.compile(r"^(?P<mnum>[01]?\d)[-_](?P<day>[0-3]?\d)(?!\d)")


def _fold(text: str) -> str:
    """Lower case without accents: 'Février' -> 'fevrier'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _make(year: str, month: int, day: str) -> date | None:
    try:
        return date(int(year), month, int(day))
    except ValueError:
        return None


def date_in_text(text: str) -> date | None:
    """The first date written in full in a line of text ('Thursday, March 11, 2021', '12 de marzo de
    2021', 'le 3 février 2022', '2021-03-12'); None when there is none."""
    folded = _fold(text)
    found: list[tuple[int, date]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            month = int(match["mnum"]) if "mnum" in match.groupdict() and match["mnum"] else None
            if month is None:
                month = ALL_MONTHS.get(match["month"].rstrip("."))
            if month and (day := _make(match["year"], month, match["day"])):
                found.append((match.start(), day))
                break
    return min(found)[1] if found else None


# 04/09/2024, 13.03.2021: a numeric date, read only where day and month cannot be mistaken.
_NUMERIC = re.compile(r"(?<![\d/.])(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>(?:19|20)\d\d)(?![\d/.])")


def numeric_date(text: str) -> tuple[date | None, bool]:
    """(the date, whether one was seen) of the first numeric date in a line: 13/03/2021 or 03/13/2021
    are sure; 04/09/2024 (April 9 or 4 September) is seen but not read."""
    m = _NUMERIC.search(text)
    if not m:
        return None, False
    a, b = int(m["a"]), int(m["b"])
    if a > 12 and b <= 12:
        return _make(m["year"], b, str(a)), True
    if b > 12 and a <= 12:
        return _make(m["year"], a, str(b)), True
    return None, True


def date_in_file_name(stem: str) -> date | None:
    """A date in a file name: 20210312-..., 2021-03-12 10.30.00 (...), press_2021_03_12."""
    for match in _FILE_DATE.finditer(stem):
        if day := _make(match["year"], int(match["mnum"]), match["day"]):
            return day
    return None


def month_day_in_file_name(stem: str) -> tuple[int, int] | None:
    """A month and day with no year at the start of a file name ('3_12-briefing'), for a folder's
    default year to complete."""
    match = _FILE_MONTH_DAY.match(stem)
    if match and 1 <= int(match["mnum"]) <= 12 and 1 <= int(match["day"]) <= 31:
        return int(match["mnum"]), int(match["day"])
    return None
