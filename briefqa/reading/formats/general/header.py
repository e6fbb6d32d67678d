"""What comes before the first label: the title, datelines, a speakers list, a summary, or opening
remarks; and the transcript's date, wherever it is written."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from briefqa.reading.datelines import date_in_file_name, date_in_text, numeric_date
from briefqa.reading.formats.common import Line, as_date, briefing_id
from briefqa.reading.formats.general.furniture import furniture_why
from briefqa.reading.formats.general.labels import SPEAKER_BLOCKS
from briefqa.reading.formats.general.layout import Layout
from briefqa.reading.people import (
    HONORIFICS,
    Mention,
    fold,
    mentions,
    split_name_and_title,
)
from briefqa.records import Aside


def first_str(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return " ".join(str(value).split())
    return None


def title_of(meta: dict[str, Any], metadata: dict[str, str], title_line: str | None, path: Path) -> str:
    title = first_str(meta, "title", "headline", "name") or metadata.get("title") or title_line or briefing_id(path)
    return " ".join(title.replace("\u00a0", " ").split()).lstrip("# ")


def read_header(
    header: list[Line], repeated: set[str], layout: Layout | None, asides: list[Aside]
) -> tuple[str | None, list[str], list[tuple[int, int, int]], list[Mention]]:
    """Title line, metadata lines, opening-remark spans (start, end, line) and people of a header."""
    title: str | None = None
    meta_lines: list[str] = []
    people: list[Mention] = []
    opening_from = opening_start(header, repeated, layout)
    block = False
    for i, line in enumerate(header):
        clean = line.clean.strip("#*_ ").strip()
        if not clean:
            block = False
            continue
        dated = date_in_text(clean) is not None and len(clean) < 120  # a dateline, even one repeated
        why = None if dated else furniture_why(clean, re.sub(r"\d+", "#", line.clean) in repeated, layout)
        if why:
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why))
            continue
        key = fold(clean.split(":")[0]).strip() if ":" in clean else ""
        if opening_from is not None and i >= opening_from:
            break
        if key in SPEAKER_BLOCKS or block:
            block = key in SPEAKER_BLOCKS or block
            entry = clean.split(":", 1)[1] if key in SPEAKER_BLOCKS else clean
            for part in re.split(r";|\band\b|\by\b|\bet\b", entry):
                person = part.strip(" ,.")
                if person:
                    found = mentions(person)
                    if not found and "," in person:
                        name, title_text = split_name_and_title(person)
                        found = [Mention(" ".join(w for w in name.split() if fold(w) not in HONORIFICS), title_text)]
                    people += found
            why = "speakers list"
        else:
            people += mentions(clean)
            why = "header"
            if title is None and len(clean.split()) >= 3 and not dated and not key:
                title, why = clean, "title"
            elif TITLE_WORDS.search(clean) and not dated and (title is None or not TITLE_WORDS.search(title)):
                # 'Press conference with ...' over a letterhead's 'MINISTRY OF FOREIGN AFFAIRS'
                for k, aside in enumerate(asides):
                    if aside.why == "title":
                        asides[k] = aside.model_copy(update={"why": "header"})
                title, why = clean, "title"

        meta_lines.append(clean)
        asides.append(Aside(kind="metadata", char_start=line.start, char_end=line.end, line=line.number, why=why))
    spans = []
    if opening_from is not None:
        # Opening remarks run to the end of the header, split at furniture.
        start = end = line_no = -1
        for line in header[opening_from:]:
            clean = line.clean
            if not clean:
                continue
            why = furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout)
            if why:
                asides.append(
                    Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why)
                )
                if start >= 0:
                    spans.append((start, end, line_no))
                start = -1
                continue
            s, e = line.content_span()
            if start < 0:
                start, line_no = s, line.number
            end = e
        if start >= 0:
            spans.append((start, end, line_no))
    # A sentence or two about the event, not from it ('Governor Grant held a press conference on the
    # storm.'): the header's summary, unless it speaks in the first person.
    if spans and sum(e - s for s, e, _ in spans) <= 300:
        opening = " ".join(ln.clean for ln in header[opening_from or 0 :])
        sentences = len(re.findall(r"[a-z]{2,}[.?!](?:\s|$)", opening))  # 'Dr.' ends none
        if not FIRST_PERSON.search(opening) and sentences <= 2:
            for s, e, n in spans:
                asides.append(Aside(kind="metadata", char_start=s, char_end=e, line=n, why="summary"))
            spans = []
    return title, meta_lines, spans, people


FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I've|we|we're|we've|our|us|my|me|nosotros|nuestro|nuestra|je|nous|notre|yo|mi)\b", re.IGNORECASE
)


TITLE_WORDS = re.compile(
    r"press (?:conference|briefing|gaggle|availability|statement)|briefing|remarks|interview|doorstop|transcript of|"
    r"conferencia|rueda de prensa|versión estenográfica|conférence de presse|point de presse|hearing|town hall",
    re.IGNORECASE,
)


def prose(clean: str) -> bool:
    """A line of speech, not of a header: sentences, not a title or a dateline."""
    if clean.isupper() or re.match(r"^[\w'’() ]{1,30}:\s", clean):  # 'Subject(s): cost of living; ...'
        return False
    return len(clean) >= 150 or (len(clean.split()) >= 3 and clean.endswith((".", "?", "!", '"', "”", "…")))


def opening_start(header: list[Line], repeated: set[str], layout: Layout | None) -> int | None:
    """Where opening remarks begin: the prose just before the first label, back to two lines running
    that are not prose (a title, a dateline, a cover page's centred lines)."""
    start: int | None = None
    not_prose = 0
    for i in range(len(header) - 1, -1, -1):
        clean = header[i].clean
        if not clean or furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout):
            continue
        if prose(clean):
            start, not_prose = i, 0
        else:
            not_prose += 1
            # One line that is not prose may stand just before the first label ('Thank you.'); after
            # prose, one ends the opening: it is the title or a dateline above it.
            if not_prose >= 2 or start is not None:
                break
    return start


def date_of(
    meta: dict[str, Any],
    metadata: dict[str, str],
    title: str,
    header: list[str],
    path: Path,
    layout: Layout | None,
    opening: str,
    top: list[str],
    notes: list[str],
) -> tuple[date | None, str | None]:
    keys = ["date", "held_on", "event_date", "date_held", "datetime", "published", "published_time", "created"]
    keys += [k for k in meta if isinstance(k, str) and ("date" in k.lower() or "time" in k.lower()) and k not in keys]
    for key in keys:  # 'event_datetime: 2024-05-22T14:00' too
        if key in meta and (found := as_date(meta[key])):
            return found, f"front matter ({key})"
    if layout and layout.date_pattern:
        for line in [title, *header]:
            if m := layout.date_pattern.search(line):
                try:
                    return date(int(m["year"]), int(m["month"]), int(m["day"])), "layout's date pattern"
                except (ValueError, IndexError):
                    continue
    if (found := as_date(metadata.get("date"))) is not None:
        return found, "the file's own metadata"
    if found := date_in_text(title):
        return found, "title"
    for line in header:
        if found := date_in_text(line):
            return found, "dateline"
    for line in header:
        found, seen = numeric_date(line)
        if found:
            return found, "dateline (numeric, day and month certain)"
        if seen:
            notes.append(f"the date in '{line[:60]}' could be read either way (day/month or month/day): "
                         "give held_on in a sidecar NAME.meta.toml")  # fmt: skip
            break
    if found := date_in_text(opening[:400]):
        return found, "the first lines"
    for line in top:
        if len(line) < 60 and (found := date_in_text(line)):
            return found, "dateline"
    if found := date_in_file_name(path.stem):
        return found, "file name"
    return None, None
