"""White House briefing transcripts: Markdown with a YAML header (``date``, ``title``).

Upper-case labels begin a turn on the same line (``MS. PSAKI:  Hi, everyone.``); reporters'
questions begin with ``Q`` and name no outlet; ``MODERATOR`` is the chair. Lines are
hard-wrapped; clock times and ``END`` lines are not part of any turn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from briefqa.choices import Role
from briefqa.reading.formats.common import Detection, TranscriptError, as_date, briefing_id, split_lines
from briefqa.reading.people import mentions, resolve_label, title_case
from briefqa.records import LabelledTurn, ParsedTranscript, Person

NAME = "whitehouse"
# 2: labels indented with non-breaking spaces start turns; 3: a label of any length starts a turn,
# and a YAML header with anchors or aliases, or over MAX_HEADER_BYTES, is refused.
# 4: officials named as the title names them ('Ms. Jean-Pierre' is Karine Jean-Pierre, Press Secretary).
VERSION = 4

# "MS. PSAKI:  Hi, everyone." -- an upper-case label, then the turn's first words.
# Matched from a line's first non-space character: some pages indent labels with (non-breaking)
# spaces, and an indented "MS. PSAKI:" starts a turn like any other.
# A label is known by its shape (upper-case words, then a colon and the turn's words), never by
# its length: "ADMINISTRATOR OF THE UNITED STATES AGENCY FOR INTERNATIONAL DEVELOPMENT POWER:" too.
_LABEL = re.compile(r"(?P<label>[A-Z][A-Z.'’\- ]*[A-Z.]):\s+(?=\S)")
_QUESTION = re.compile(r"Q(?:\s+|:\s+)(?=\S)")
_NOISE = re.compile(r"^(\d{1,2}:\d\d\s*[AP]\.?M\.?(\s+[A-Z]{2,4})?|END)$")
REPORTER = "Reporter"
CHAIR_LABELS = {"MODERATOR"}


# Labels a White House page never uses: a file with them is another source's (the general reader's).
_OTHER_SOURCES = re.compile(r"^\s*(?:\*\*|(?:QUESTION|JOURNALIST|REPORTER|PREGUNTA|A|Speaker \d+):)", re.MULTILINE)


def detect(text: str) -> Detection:
    """A YAML header, then upper-case labels inline ('MS. PSAKI:  Hi') or 'Q' questions: the archive's
    Markdown files."""
    if not text.startswith("---\n"):
        return Detection(0.0, "no YAML header")
    if _OTHER_SOURCES.search(text):
        return Detection(0.0, "labels a White House page never uses (QUESTION:, **Name**, A:)")
    if not re.search(r"^[\s\u00a0]*(?:[A-Z][A-Z.'’\- ]*[A-Z.]:\s+\S|Q\s+\S)", text, re.MULTILINE):
        return Detection(0.0, "no upper-case inline labels")
    return Detection(0.9, "a YAML header, then upper-case inline labels ('MS. PSAKI:  ...') and 'Q' questions")


def recognises(text: str) -> bool:
    return detect(text).score > 0


def display_name(label: str) -> str:
    """'MS. JEAN-PIERRE' -> 'Ms. Jean-Pierre': every upper-case word in title case, hyphens kept (the
    archive's labels, as they have always been shown; the general reader keeps initials as written)."""
    return " ".join(title_case(word) if word.isupper() else word for word in label.split())


# A header holds a date, a title and a link: the archive's largest is under 1 KB. Its YAML is
# read by a safe loader that refuses anchors and aliases, and is bounded in size and in depth.
MAX_HEADER_BYTES = 64_000
MAX_HEADER_DEPTH = 20  # the archive's headers nest nothing; the loader recurses once a level


class _HeaderRefused(Exception):
    def __init__(self, line: int, reason: str):
        self.line, self.reason = line, reason  # line: 0-based, within the header


class _HeaderLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases (a header never needs them, and a kilobyte of
    nested aliases, "billion laughs", expands to gigabytes) and deep nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _HeaderRefused(
                event.start_mark.line, "uses anchors or aliases (&name, *name); write each value out in full"
            )
        if self._depth >= MAX_HEADER_DEPTH:
            raise _HeaderRefused(
                event.start_mark.line,
                f"nests lists or mappings more than {MAX_HEADER_DEPTH} deep; "
                "a header holds keys such as date and title",
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def front_matter(path: Path, text: str) -> tuple[dict[str, Any], int]:
    end = text.find("\n---", 4)
    if end == -1:
        raise TranscriptError(path, "the YAML header opened by '---' is never closed", 1)
    header = text[4:end]
    size = len(header.encode("utf-8"))
    if size > MAX_HEADER_BYTES:
        raise TranscriptError(
            path,
            f"the YAML header is {size / 1000:.0f} KB, far more than a date and a title "
            f"(at most {MAX_HEADER_BYTES // 1000} KB); check that a '---' line closes it after its few keys",
            1,
        )
    try:
        meta = yaml.load(header, Loader=_HeaderLoader) or {}  # noqa: S506 - a SafeLoader that refuses aliases
    except _HeaderRefused as err:
        raise TranscriptError(path, f"the YAML header {err.reason}", err.line + 2) from None
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", 0) + 2
        raise TranscriptError(path, f"the YAML header is not valid YAML ({err.__class__.__name__})", line) from None
    except ValueError as err:  # a date such as 2024-13-45; an integer of over 4,300 digits
        raise TranscriptError(
            path, f"the YAML header holds a value that cannot be read ({err}); correct it, or quote it", 2
        ) from None
    if not isinstance(meta, dict):
        raise TranscriptError(path, "the YAML header must be a mapping of keys to values", 2)
    for key in ("title", "date", "published_time"):
        if isinstance(meta.get(key), list | dict):  # a title or a date is one value, never a list
            line = next((n for n, row in enumerate(header.split("\n"), start=2) if row.startswith(f"{key}:")), 2)
            raise TranscriptError(
                path, f"the YAML header's {key} is a list or a mapping; write it as one value, e.g. {key}: ...", line
            )
    return meta, end + len("\n---")


def parse(path: Path, text: str, metadata: dict[str, str] | None = None) -> ParsedTranscript:
    meta, body_start = front_matter(path, text)
    turns: list[LabelledTurn] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current
        if current and current["end"] > current["start"]:
            turns.append(
                LabelledTurn(
                    speaker=current["speaker"],
                    text=text[current["start"] : current["end"]],
                    char_start=current["start"],
                    char_end=current["end"],
                    line=current["line"],
                    role_hint=current["role"],
                )
            )
        current = None

    for line in split_lines(text):
        if line.start < body_start:
            continue
        clean = line.clean
        if _NOISE.match(clean):
            close()
            continue
        indent = len(line.raw) - len(line.raw.lstrip())
        question = _QUESTION.match(line.raw, indent)
        label = None if question else _LABEL.match(line.raw, indent)
        prefix = question or label
        if prefix:
            close()
            role: Role
            if label is None:
                speaker, role = REPORTER, "reporter"
            else:
                speaker = display_name(label["label"])
                role = "chair" if label["label"] in CHAIR_LABELS else "official"
            current = {
                "speaker": speaker,
                "role": role,
                "line": line.number,
                "start": line.start + prefix.end(),
                "end": line.content_span()[1],
            }
            continue
        if current is not None and clean:
            current["end"] = line.content_span()[1]
    close()

    held = as_date(meta.get("date"))
    title = " ".join(str(meta.get("title") or briefing_id(path)).replace("\u00a0", " ").split())
    # 'Press Briefing by Press Secretary Karine Jean-Pierre': the title names whom 'Ms. Jean-Pierre' is.
    named = mentions(title)
    officials: dict[str, Person] = {}
    for turn in turns:
        if turn.role_hint == "official" and turn.speaker not in officials:
            person = resolve_label(turn.speaker, named)
            officials[turn.speaker] = (
                Person(name=person.name, title=person.title, label=turn.speaker)
                if person
                else Person(name=turn.speaker)
            )
    return ParsedTranscript(
        id=briefing_id(path),
        title=title,
        held_on=held,
        published_on=as_date(meta.get("published_time")) or held,
        source=str(path),
        officials=list(officials.values()),
        chair=None,
        turns=turns,
        reporter_labels_are_outlets=False,
        source_url=url
        if isinstance(url := meta.get("source_url"), str) and url.startswith(("http://", "https://"))
        else None,
        reader=f"{NAME} {VERSION}",
        date_from="front matter (date)" if held else None,
        text=text,
    )
