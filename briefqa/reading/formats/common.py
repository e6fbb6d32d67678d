"""What every transcript format shares: the error it raises, lines with offsets, and dates."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from briefqa.dates import MONTH_NAMES, MONTHS


class TranscriptError(Exception):
    """A transcript that cannot be parsed; the message says why and what to do."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Detection:
    """How sure a reader is that a text is its to read (0: not at all, 1: certain), and why."""

    score: float
    why: str


def briefing_id(path: Path) -> str:
    """The stable id of a transcript: its file name without the extension."""
    return path.stem


# --- lines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    start: int  # offset of the first character
    end: int  # offset just past the last character, newline excluded
    raw: str

    @property
    def clean(self) -> str:
        """The line with non-breaking spaces folded and surrounding space removed."""
        return self.raw.replace("\u00a0", " ").strip()

    def content_span(self) -> tuple[int, int]:
        """Offsets of the line without its leading and trailing white space."""
        left = len(self.raw) - len(self.raw.lstrip())
        right = len(self.raw.rstrip())
        return self.start + left, self.start + right


def split_lines(text: str) -> list[Line]:
    lines, offset = [], 0
    for number, raw in enumerate(text.split("\n"), start=1):
        lines.append(Line(number, offset, offset + len(raw), raw))
        offset += len(raw) + 1
    return lines


# --- dates ------------------------------------------------------------------------------

MONTH_PATTERN = r"(?P<month>" + MONTH_NAMES + r")\.?"
FULL_DATE = re.compile(MONTH_PATTERN + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})", re.IGNORECASE)


def full_date(match: re.Match[str]) -> date | None:
    """The date of a FULL_DATE match ('March 20, 2023'); None for an impossible one."""
    try:
        return date(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]))
    except ValueError:
        return None


def month_day_before(month: int, day: int, reference: date) -> date | None:
    """The date with this month and day on or before the reference date."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    return None


def weekday_before(weekday: str, reference: date) -> date:
    """The last such weekday on or before the reference date ('on Friday' in a later report)."""
    target = list(calendar.day_name).index(weekday)
    return reference - timedelta(days=(reference.weekday() - target) % 7)


def as_date(value: object) -> date | None:
    """A YAML or TOML value (a date, a datetime or an ISO string) as a date."""
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
