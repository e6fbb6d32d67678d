"""What a question says besides its words, read once (``read_cues``): the time it is about, whether
it asks what was asked (and which outlet it names), whether it asks for a figure.

Which of these are read is ``SearchOptions.question`` (``QuestionRules``, a switch each). Hybrid
search turns them into soft preferences (``briefqa.searching.rankings``), never into filters the
user did not ask for: "in spring 2022" favours briefings held then, but a far better answer from
another time still comes first.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import NamedTuple

from briefqa.dates import MONTH_NAMES, MONTHS
from briefqa.options import QuestionRules

SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11), "winter": (12, 2)}
# Parts of a year, as months: "early 2022" is January to April.
PARTS = {"early": (1, 4), "beginning": (1, 3), "start": (1, 3), "mid": (5, 8), "middle": (5, 8), "late": (9, 12)}
PARTS |= {"end": (10, 12)}
# Halves and quarters of a year, as its first and last months: trade figures come by them.
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "1": 0, "2": 1, "3": 2, "4": 3}

_YEAR = r"((?:19|20)\d\d)"
_MONTH_YEAR = re.compile(rf"\b(early|mid|late)?[- ]?({MONTH_NAMES})\.?,? (?:of )?{_YEAR}\b")
_SEASON_YEAR = re.compile(rf"\b({'|'.join(SEASONS)})(?: of)? {_YEAR}\b")
_HALF_YEAR = re.compile(rf"\b(?:(first|second) (?:half|six months)(?: of)?|h([12])) {_YEAR}\b")
_QUARTER_YEAR = re.compile(rf"\b(?:(first|second|third|fourth)[- ]quarter(?: of)?|q([1-4])) {_YEAR}\b")
_PART_YEAR = re.compile(rf"\b(early|beginning of|start of|mid|middle of|late|end of)[- ](?:in )?{_YEAR}\b")
# A bare year only after "in"/"during": "the customs tax take for 2022" is a figure's year, usually
# reported in the next year's briefings, not a time to search.
_IN_YEAR = re.compile(rf"\b(?:in|during|throughout) {_YEAR}\b")
# Not "reporter(s)": "who briefed reporters on ..." asks for an answer.
# Nor the bare noun "question": "who fielded the question on ..." asks who answered.
_ASKS = re.compile(r"\b(ask|asks|asked|asking|outlet|journalist|raised|brought up|newspaper|broadcaster)\b")


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def date_window(question: str, year_reaches_next_q1: bool = True) -> tuple[date, date] | None:
    """The days a question is anchored to ("in October 2022", "the first half of 2021", "Q1 2024",
    "late 2021", "spring 2023", "in 2022"), first and last inclusive; None when it names no time.
    The most specific phrase wins. A whole year reaches into the next year's first quarter, unless
    ``year_reaches_next_q1`` is off."""
    text = question.casefold()
    if found := _MONTH_YEAR.search(text):
        part, month, year = found.group(1), MONTHS[found.group(2)], int(found.group(3))
        first, last = date(year, month, 1), _month_end(year, month)
        if part == "early":
            last = date(year, month, 10)
        elif part == "mid":
            first, last = date(year, month, 10), date(year, month, 20)
        elif part == "late":
            first = date(year, month, 20)
        return first, last
    for pattern, months in ((_HALF_YEAR, 6), (_QUARTER_YEAR, 3)):
        if found := pattern.search(text):
            ordinal, year = ORDINALS[found.group(1) or found.group(2)], int(found.group(3))
            return date(year, ordinal * months + 1, 1), _month_end(year, (ordinal + 1) * months)
    if found := _SEASON_YEAR.search(text):
        (start, end), year = SEASONS[found.group(1)], int(found.group(2))
        if start > end:  # winter 2022: December 2021 to February 2022
            return date(year - 1, start, 1), _month_end(year, end)
        return date(year, start, 1), _month_end(year, end)
    if found := _PART_YEAR.search(text):
        (start, end), year = PARTS[found.group(1).split()[0]], int(found.group(2))
        return date(year, start, 1), _month_end(year, end)
    if found := _IN_YEAR.search(text):
        year = int(found.group(1))
        # and its first quarter after: a year's totals are given then ("How much ... in 2022?")
        return date(year, 1, 1), date(year + 1, 3, 31) if year_reaches_next_q1 else date(year, 12, 31)
    return None


# A question for a number: "how" and a measure, or a noun of measure (volume, share, rate, ...).
# Not any digit: most digits in questions are years ("in 2022"), a time read on its own.
_FIGURE = re.compile(
    r"\bhow (?:many|much|long|far|fast|large|big|high|low|heavy|often|old)\b"
    r"|\b(?:volume|value|amount|number|total|rate|share|proportion|percentage|percent|per cent|figure|cost|"
    r"price|budget|size|growth)s?\b"
)


def asks_for_a_figure(question: str) -> bool:
    """Whether a question asks for a number ("how many ...", "what share ..."): words find figures
    better than meaning does, and an answer must hold one."""
    return _FIGURE.search(question.casefold()) is not None


def asks_what_was_asked(question: str) -> bool:
    """Whether a question is about the reporters' side ("what did CCTV ask ..."): then reporters'
    turns are answers, not noise."""
    return _ASKS.search(question.casefold()) is not None


class QuestionCues(NamedTuple):
    """What a question says besides its words, read once; a rule switched off reads as nothing."""

    window: tuple[date, date] | None  # the days it names (date_window)
    asks_what_was_asked: bool
    text: str  # casefolded, to find the names it holds
    asks_for_a_figure: bool = False
    reads_names: bool = True  # QuestionRules.names_an_outlet

    def names(self, speaker: str) -> bool:
        """Whether the question names this speaker ("What did Yicai.com ask ..."), as whole words."""
        if not self.reads_names:
            return False
        return re.search(rf"(?<!\w){re.escape(speaker.casefold())}(?!\w)", self.text) is not None


def read_cues(question: str, rules: QuestionRules | None = None) -> QuestionCues:
    """Everything search reads of a question besides its words, as ``rules`` allow (default: all)."""
    rules = rules or QuestionRules()
    return QuestionCues(
        window=date_window(question, rules.year_reaches_next_q1) if rules.dates else None,
        asks_what_was_asked=rules.asks_what_was_asked and asks_what_was_asked(question),
        text=question.casefold(),
        asks_for_a_figure=rules.asks_for_a_figure and asks_for_a_figure(question),
        reads_names=rules.names_an_outlet,
    )
