"""Any transcript: a reader that learns a file's speaker labels from the file itself.

It looks at the start of every line (and, in a file without line breaks, after every sentence) for
the shapes labels take in the wild: ``NAME: text``, a label on a line of its own, ``Mr. Smith.
text``, ``**Name**: text``, ``<NAME>…</NAME>.``, ``Name (02:18):``, ``Q``/``A``. A shape becomes a
label when it recurs, or is a known one (``Q``, ``JOURNALIST``, ``Speaker 2``); a word that once
ends a line with a colon does not. Roles come from the labels (``QUESTION`` asks) and from the
conversation (who asks, who answers, who only hands over the floor). Text before the first label is
the header (title, date, speakers list) or opening remarks; page headers and footers, separators,
stage notes and time stamps are set aside as furniture. Every character ends up in a turn or in
``ParsedTranscript.set_aside`` with its reason.

A ``Layout`` (from a user's TOML file) can name the label pattern, the reporters' and chair's
labels, the date pattern and furniture lines for a source this reader gets wrong.

One module a step: ``labels`` (the shapes and which are labels), ``furniture`` (what is set aside),
``header`` (before the first label, and the date), ``speakers`` (names and roles); this module reads
a file with them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from briefqa.reading.datelines import date_in_file_name
from briefqa.reading.formats.common import Detection, TranscriptError, as_date, briefing_id, split_lines
from briefqa.reading.formats.general.furniture import footer_lines, furniture_why, heading_lines, repeated_lines
from briefqa.reading.formats.general.header import date_of, first_str, read_header, title_of
from briefqa.reading.formats.general.labels import (
    LINE_NUMBER,
    TRAILING_MARK,
    Candidate,
    accepted_labels,
    find_candidates,
    numbered_margin,
)
from briefqa.reading.formats.general.layout import Layout
from briefqa.reading.formats.general.speakers import (
    UNATTRIBUTED,
    assign_roles,
    name_generic_speakers,
    name_reporters,
    opening_speaker,
    role_of,
    speakers_of,
)
from briefqa.reading.formats.whitehouse import front_matter
from briefqa.reading.language import detect_language
from briefqa.reading.people import mentions
from briefqa.records import UNNAMED_SPEAKERS, Aside, LabelledTurn, ParsedTranscript, Person

NAME = "general"
VERSION = 1

__all__ = [
    "NAME",
    "NO_LABELS_HERE",
    "UNATTRIBUTED",
    "VERSION",
    "Layout",
    "detect",
    "parse",
    "parse_unlabelled",
    "recognises",
]


NO_LABELS_HERE = (
    "no speaker labels found (looked for lines such as 'JANE ROE: ...', 'Q: ...', 'Mr. Smith. ...' or a name on "
    "a line of its own); if this is a transcript, describe its labels in a briefqa.toml (see docs/formats.md)"
)


def parse_unlabelled(path: Path, text: str, metadata: dict[str, str] | None = None) -> ParsedTranscript:
    """A speech-to-text transcript with no speakers: one turn, unattributed, and a note saying so."""
    metadata = metadata or {}
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if end <= start:
        raise TranscriptError(path, "no text in it; remove it or put a transcript in it")
    turn = LabelledTurn(speaker=UNATTRIBUTED, text=text[start:end], char_start=start, char_end=end, line=1,
                        role_hint="official")  # fmt: skip
    held, date_from = as_date(metadata.get("date")), "the file's own metadata"
    if held is None:
        held, date_from = date_in_file_name(path.stem), "file name"
    return ParsedTranscript(
        id=briefing_id(path), title=metadata.get("title") or briefing_id(path), held_on=held, published_on=held,
        source=str(path), source_url=metadata.get("url"), officials=[], chair=None, turns=[turn],
        reporter_labels_are_outlets=False, language=detect_language(text[:20000]), reader=f"{NAME} {VERSION}",
        date_from=date_from if held else None, text=text,
        notes=["no speaker labels: the whole transcript is one unattributed turn (a speech-to-text without speakers)"],
    )  # fmt: skip


def detect(text: str) -> Detection:
    """How sure this reader is that it can read the text, and why."""
    lines = split_lines(text)
    accepted = accepted_labels(find_candidates(lines, numbered_margin(lines), None), None)
    if not accepted:
        return Detection(0.0, "no speaker labels found")
    shapes = Counter(c.shape for c in accepted)
    labels = Counter(c.label for c in accepted)
    score = min(0.5, 0.1 + 0.05 * len(accepted))
    return Detection(
        score,
        f"{len(accepted)} labels in the shapes {dict(shapes.most_common())}, {len(labels)} different",
    )


def recognises(text: str) -> bool:
    return detect(text).score > 0


def parse(
    path: Path, text: str, metadata: dict[str, str] | None = None, layout: Layout | None = None
) -> ParsedTranscript:
    metadata = metadata or {}
    asides: list[Aside] = []
    meta: dict[str, Any] = {}
    body_start = 0
    if text.startswith("---\n"):
        meta, body_start = front_matter(path, text)
        asides.append(Aside(kind="metadata", char_start=0, char_end=body_start, line=1, why="front matter"))
    lines = [ln for ln in split_lines(text) if ln.start >= body_start]
    numbered = numbered_margin(lines)
    candidates = accepted_labels(find_candidates(lines, numbered, layout), layout)
    if not candidates:
        raise TranscriptError(path, NO_LABELS_HERE)
    repeated = repeated_lines(lines)

    by_line: dict[int, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_line[c.line].append(c)
    first_line = min(by_line)

    # The header: title, dates, speakers, furniture; and any opening remarks.
    header_lines = lines[:first_line]
    title_line, header_meta, opening_spans, header_people = read_header(header_lines, repeated, layout, asides)
    title = title_of(meta, metadata, title_line, path)

    # The turns.
    raw_turns: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current
        if current and current["end"] > current["start"]:
            if m := TRAILING_MARK.search(text, current["start"], current["end"]):
                asides.append(
                    Aside(
                        kind="furniture",
                        char_start=m.start(1),
                        char_end=current["end"],
                        line=current["line"],
                        why="end mark",
                    )
                )
                current["end"] = m.start()
            raw_turns.append(current)
        current = None

    def open_turn(label: str, line_no: int, start: int) -> None:
        nonlocal current
        current = {"label": label, "line": line_no, "start": start, "end": start}

    headings = heading_lines(lines, by_line)
    footer = footer_lines(lines, max(by_line), layout)
    ended = False  # after an end mark ('###', 'END', '- END -'), until another label
    for i in range(first_line, len(lines)):
        line = lines[i]
        if i in footer or (ended and i not in by_line and line.clean):
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number,
                                why="page footer" if i in footer else "after the end mark"))  # fmt: skip
            if current is not None:
                close()
            continue
        if i in headings:
            asides.append(Aside(kind="metadata", char_start=line.start, char_end=line.end, line=line.number,
                                why="heading"))  # fmt: skip
            if current is not None:
                label = current["label"]
                close()
                current = {"label": label, "line": line.number, "start": -1, "end": -1}
            continue
        starts = sorted(by_line.get(i, []), key=lambda c: c.start)
        if starts:
            ended = False
            # Text before the first label on this line (in a line without breaks) ends the turn so far,
            # or, before any turn, is the header.
            segments = []
            before_end = starts[0].start
            if text[line.start : before_end].strip():
                segment_end = line.start + len(text[line.start : before_end].rstrip())
                if current is not None:
                    current["end"] = max(current["end"], segment_end)
                else:
                    asides.append(Aside(kind="metadata", char_start=line.start, char_end=segment_end,
                                        line=line.number, why="header"))  # fmt: skip
            for k, c in enumerate(starts):
                close()
                asides.append(
                    Aside(
                        kind="label",
                        char_start=c.start,
                        char_end=c.text_start,
                        line=line.number,
                        why=f"label ({c.shape})",
                    )
                )
                end = starts[k + 1].start if k + 1 < len(starts) else line.end
                segment = text[c.text_start : end]
                open_turn(c.label, line.number, c.text_start + (len(segment) - len(segment.lstrip())))
                assert current is not None
                current["end"] = c.text_start + len(segment.rstrip())
                segments.append(c)
            continue
        clean = LINE_NUMBER.sub("", line.clean).strip() if numbered else line.clean
        if not clean:
            if line.clean:  # a margin's line number on a line of nothing else
                asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number,
                                    why="line number"))  # fmt: skip
            continue
        why = furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout)
        if why:
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why))
            ended = ended or why == "end mark"
            if current is not None:
                label = current["label"]
                close()
                current = {"label": label, "line": line.number, "start": -1, "end": -1, "continued": True}
            continue
        start, end = line.content_span()
        if current is None:
            continue
        if current["start"] < 0 or current["end"] <= current["start"]:
            current["start"] = start
        current["end"] = end
    close()

    # People named in the title, the header and the opening, for labels to resolve to.
    people = [*mentions(title), *header_people]
    if opening_spans:
        people += mentions(text[opening_spans[0][0] : opening_spans[0][0] + 3000])
    for t in raw_turns[:40]:
        people += mentions(text[t["start"] : min(t["end"], t["start"] + 600)])

    speakers = speakers_of({t["label"] for t in raw_turns}, people, layout)
    turns = [
        LabelledTurn(
            speaker=speakers[t["label"]].shown,
            outlet=speakers[t["label"]].affiliation if speakers[t["label"]].reporter else None,
            text=text[t["start"] : t["end"]],
            char_start=t["start"],
            char_end=t["end"],
            line=t["line"],
        )
        for t in raw_turns
        if t["start"] >= 0
    ]
    label_of = {speakers[lb].shown: speakers[lb] for lb in speakers}
    assign_roles(turns, label_of, layout)
    name_reporters(turns)
    name_generic_speakers(turns, label_of)

    # Opening remarks, before any label: credited to the one speaker the text or title makes clear.
    opening_turns = []
    for start, end, line_no in opening_spans:
        who = opening_speaker(text[start:end], title, people, turns, label_of)
        opening_turns.append(
            LabelledTurn(
                speaker=who or UNATTRIBUTED,
                text=text[start:end],
                char_start=start,
                char_end=end,
                line=line_no,
                role_hint=role_of(who, turns) if who else "official",
            )
        )
    turns = opening_turns + turns

    officials: dict[str, Person] = {}
    chair: Person | None = None
    for turn in turns:
        info = label_of.get(turn.speaker)
        person = info.person if info else Person(name=turn.speaker)
        if turn.role_hint == "official" and turn.speaker not in UNNAMED_SPEAKERS:
            officials.setdefault(turn.speaker, person)
        elif turn.role_hint == "chair" and chair is None:
            chair = person

    top = [ln.clean for ln in lines[:80]]
    notes: list[str] = []
    opening_text = text[body_start : body_start + 400]
    held, date_from = date_of(meta, metadata, title, header_meta, path, layout, opening_text, top, notes)
    url = first_str(meta, "source_url", "url", "link", "canonical", "source") or metadata.get("url")
    language = detect_language(" ".join(t.text for t in turns[:60])[:20000])
    if not any(t.role_hint == "reporter" for t in turns):
        notes.append("no questions found: every turn is taken for an official's")
    return ParsedTranscript(
        id=briefing_id(path),
        title=title,
        held_on=held,
        published_on=as_date(meta.get("published") or meta.get("published_time")) or held,
        source=str(path),
        source_url=url if url and re.match(r"https?://", url) else None,
        language=language,
        reader=f"{NAME} {VERSION}" if layout is None else f"layout {layout.name}",
        date_from=date_from,
        officials=list(officials.values()),
        chair=chair,
        turns=turns,
        reporter_labels_are_outlets=False,
        set_aside=sorted(asides, key=lambda a: a.char_start),
        notes=notes,
        text=text,
    )
