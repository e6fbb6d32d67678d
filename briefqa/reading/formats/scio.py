"""China State Council Information Office (SCIO) pages, as raw page text.

Turns start at a label line such as ``Yu Jianhua:`` or ``Yicai.com:`` (a reporter's label names
their outlet); a header carries the title, dates and optional ``Speakers:`` / ``Chairperson:`` /
``Date:`` blocks; page furniture (page-break tags, pagination, share widgets, translator credits,
photo captions, the footer and comment form) is dropped and never part of a turn.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from pathlib import Path

from briefqa.dates import MONTHS
from briefqa.reading.formats.common import (
    FULL_DATE,
    MONTH_PATTERN,
    Detection,
    Line,
    briefing_id,
    full_date,
    month_day_before,
    split_lines,
    weekday_before,
)
from briefqa.records import LabelledTurn, ParsedTranscript, Person

NAME = "scio"
# Bump when a change alters what a transcript parses to (see formats/__init__.py).
# 2: a label is known by its shape alone, at any length (a 72-character outlet was read as text).
VERSION = 2

# Page furniture that is never part of a turn.
_NOISE = [
    re.compile(p)
    for p in (
        r"^_ueditor_page_break_tag_$",
        r"^[<>\d\s.]*\d[<>\d\s.]*$|^<$|^>$",  # pagination rows: "<  1  2  3 ... >"
        # Site links in Chinese script ("中文", "分享缩略图") and "ㄑ" breadcrumbs. Only short lines of
        # nothing else: a paragraph that quotes a Chinese name or term is the transcript's own.
        r"^[\u3000-\u9fff\uff00-\uffef\s]{1,8}$",
        r"ㄑ",
        r"^Read in Chinese$",
        r"^MORE FROM\b",
        r"^Translated and edited by\b",
        r"^/\d+\s",  # photo captions: "/5    Group photo"
        r"^Adjust font size:?$",
        r"Comment\(s\)|^Print E-mail|Bookmark and Share|^ChinaNews App Download",
        r"^Enter the words you see|^Racist, abusive|^(•\s*)?(User Name Required|Your Comment)$",
        r"^No comments\.$|^Send your stories|^Go to Forum|^Add your comments",
    )
]
# Everything from here to the end of the page is the site's footer and comment form.
_FOOTER_START = re.compile(r"^Follow China\.org\.cn|^Go to Forum|^Add your comments")
_BLOCK_HEADERS = {
    "speakers": "officials",
    "speaker": "officials",
    "chairperson": "chair",
    "chairpersons": "chair",
    "chair": "chair",
    "date": "date",
}
_HONORIFIC = re.compile(r"^(Mr|Ms|Mrs|Miss|Dr|Madam|Prof)\.?\s+")
# A label is a line of its own ending in a colon: a name or an outlet ("Yicai.com:",
# "Guangdong Radio and Television (GRT):"). It is known by its shape, not its length (outlets run
# to ten words and more): it starts with a capital, holds no comma, question mark or other
# punctuation of a sentence (a full stop only as in "Yicai.com" or "Mr."), and no word but a few
# small ones ("of", "and") starts with a lower-case letter (see _label), so that a sentence ending
# in a colon ("Our work is mainly as follows:") is never one. Chinese-script labels ("王文涛：",
# with a full-width colon) count too.
_LABEL = re.compile(r"^(?P<label>[A-Z\u4e00-\u9fff][\w.&'’()\-/ ·]*[\w.)’])\s*[:：]$")
_LABEL_LOWER_WORDS = {"of", "and", "the", "for", "de", "da", "van", "von", "on", "at", "in"}
# "on April 12" or "On July 13," with no year after it.
_MONTH_DAY = re.compile(r"\bon\s+" + MONTH_PATTERN + r"\s+(?P<day>\d{1,2})\b(?!,?\s*\d{4})", re.IGNORECASE)
_WEEKDAY = re.compile(r"\bon\s+(?P<weekday>" + "|".join(calendar.day_name) + r")\b")
_CLOCK_TIME = re.compile(r"\b\d{1,2}(:\d\d)?\s*[ap]\.m\.", re.IGNORECASE)


_MARKERS = re.compile(r"SCIO|china\.org\.cn|State Council Information Office|^Speakers:$|^Chairperson:$", re.MULTILINE)


def detect(text: str) -> Detection:
    """A page of china.org.cn or SCIO (its name, or a 'Speakers:' block) with labels on lines of their own."""
    if not _MARKERS.search(text):
        return Detection(0.0, "no SCIO page markers")
    labels = sum(1 for line in text.split("\n") if _label(line.replace("\u00a0", " ").strip()))
    if not labels:
        return Detection(0.0, "no label lines")
    return Detection(0.9, f"SCIO page markers and {labels} labels on lines of their own ('Yu Jianhua:')")


def recognises(text: str) -> bool:
    return detect(text).score > 0


def _is_noise(clean: str) -> bool:
    return any(pattern.search(clean) for pattern in _NOISE)


def _label(clean: str) -> str | None:
    if not clean.endswith((":", "：")):  # most lines: no need for the pattern
        return None
    match = _LABEL.match(clean)
    if not match:
        return None
    label = match["label"].strip()
    words = label.split()
    if label.lower() in _BLOCK_HEADERS:
        return None
    if any(w[0].islower() and w not in _LABEL_LOWER_WORDS for w in words):
        return None
    return label


def _person(entry: str) -> Person:
    name, _, title = entry.partition(",")
    return Person(name=_HONORIFIC.sub("", name.strip()), title=title.strip() or None)


def parse(path: Path, text: str, metadata: dict[str, str] | None = None) -> ParsedTranscript:
    lines = split_lines(text)
    first_label = next((i for i, ln in enumerate(lines) if _label(ln.clean)), len(lines))
    header, body = lines[:first_label], lines[first_label:]

    title = ""
    officials: dict[str, Person] = {}
    chair: Person | None = None
    held: date | None = None
    published: date | None = None
    month_day: tuple[int, int] | None = None
    weekday: str | None = None
    block: str | None = None

    for line in header:
        clean = line.clean
        if not clean:
            continue
        key = clean.rstrip(":").strip().lower()
        if key in _BLOCK_HEADERS:
            block = _BLOCK_HEADERS[key]
            continue
        dates = [d for d in map(full_date, FULL_DATE.finditer(clean)) if d]
        if block == "date" and dates:
            held, block = dates[0], None
            continue
        if block in ("officials", "chair") and not _is_noise(clean) and "," in clean:
            person = _person(clean)
            if block == "chair":
                chair = chair or person
            else:
                officials.setdefault(person.name, person)
            continue
        block = None
        if dates and _CLOCK_TIME.search(clean):  # a dateline: "Beijing | 10 a.m. March 20, 2023"
            held = held or dates[0]
            continue
        if dates and published is None:
            published = dates[0]
        if "press conference" in clean or "briefing" in clean.lower():
            if (m := _MONTH_DAY.search(clean)) and month_day is None:
                month_day = (MONTHS[m["month"].lower()], int(m["day"]))
            if (m := _WEEKDAY.search(clean)) and weekday is None:
                weekday = m["weekday"]
        if not title and not _is_noise(clean) and "Press Room" not in clean and len(clean.split()) >= 3:
            title = clean

    reference = published or held
    if held is None and month_day and reference:
        held = month_day_before(*month_day, reference)
    if held is None and weekday and published:
        held = weekday_before(weekday, published)

    return ParsedTranscript(
        id=briefing_id(path),
        title=title or briefing_id(path),
        held_on=held,
        published_on=published,
        source=str(path),
        officials=list(officials.values()),
        chair=chair,
        turns=_turns(text, body),
        reader=f"{NAME} {VERSION}",
        text=text,
    )


def _turns(text: str, body: list[Line]) -> list[LabelledTurn]:
    """Group body lines into turns. A noise line ends a turn; text after it with no new
    label continues the same speaker as a new turn, so that a turn's span never covers noise."""
    turns: list[LabelledTurn] = []
    speaker: str | None = None
    label_line = 0
    span: list[int] | None = None  # [start, end] of the turn being read

    def close() -> None:
        nonlocal span
        if speaker is not None and span is not None:
            start, end = span
            turns.append(
                LabelledTurn(speaker=speaker, text=text[start:end], char_start=start, char_end=end, line=label_line)
            )
        span = None

    for line in body:
        clean = line.clean
        if _FOOTER_START.search(clean):
            break
        if (label := _label(clean)) is not None:
            close()
            speaker, label_line = label, line.number
            continue
        if not clean:
            continue
        if _is_noise(clean):
            close()
            continue
        start, end = line.content_span()
        if span is None:
            span = [start, end]
        else:
            span[1] = end
    close()
    return turns
