"""Month names, the one table that reading (dates in transcripts) and searching (dates in
questions) both read.

English names, not ``calendar``'s: those follow whatever locale the program has set, and
transcripts and questions are in English whatever it is.
"""

from __future__ import annotations

_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october"]
_NAMES += ["november", "december"]
# Lower-case name or abbreviation ("jan", "sept") -> month number.
MONTHS = {name: number for number, name in enumerate(_NAMES, start=1)}
MONTHS |= {name[:3]: number for name, number in MONTHS.items() if name != "may"} | {"sept": 9}
# Every key of MONTHS as a regular-expression alternation, longest first ("sept" before "sep").
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
