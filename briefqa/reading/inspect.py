"""How one transcript file was read: the container and encoding, the reader and why it was chosen,
the labels found with their roles and counts, the date and where it came from, what was set aside,
and where every character went. What ``briefqa inspect`` shows, for a user to trust or to fix."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from briefqa.choices import Role
from briefqa.reading.files import parse_transcript, read_transcript
from briefqa.reading.formats import TranscriptError, detect
from briefqa.reading.turns import resolve
from briefqa.records import UNATTRIBUTED, Briefing, ParsedTranscript


class LabelReading(BaseModel):
    """One speaker as the file labels them, and what the reader made of the label."""

    speaker: str = Field(description="The label as shown in results ('Mr. Price', 'PM', 'Reporter').")
    name: str | None = Field(description="The person's full name, when the transcript makes it certain.")
    title: str | None = Field(description="Their position, when the transcript gives it.")
    role: Role
    turns: int = Field(description="How many turns carry the label.")
    first_line: int = Field(description="Line of the file where the label is first seen.")


class SetAsideReading(BaseModel):
    """Text in no speaker's turn, grouped by why it was set aside."""

    kind: str = Field(description="label, metadata, furniture, or 'not read' for text no rule claimed.")
    why: str
    count: int
    characters: int
    examples: list[str] = Field(description="Up to three of them, each with its line number.")


class Accounting(BaseModel):
    """Where the text's characters went: these add up to ``total``."""

    total: int
    in_turns: int
    unattributed: int = Field(description="Of in_turns: opening remarks no speaker could be credited with.")
    labels: int
    metadata: int
    furniture: int
    not_read: int = Field(description="Text outside turns that no rule set aside (should be none).")
    whitespace: int = Field(description="Blank lines and spaces between everything else.")


class Inspection(BaseModel):
    """How a file was read, or why it could not be."""

    path: str
    container: str | None = None
    encoding: str | None = None
    reader: str | None = Field(default=None, description="The reader and its version, e.g. 'general 1'.")
    reader_why: str | None = Field(default=None, description="What the reader recognised in the text.")
    title: str | None = None
    held_on: date | None = None
    date_from: str | None = Field(default=None, description="Where the date was read, if anywhere.")
    language: str | None = None
    source_url: str | None = None
    labels: list[LabelReading] = Field(default_factory=list)
    reporters: list[str] = Field(default_factory=list, description="Reporters and outlets the questions name.")
    set_aside: list[SetAsideReading] = Field(default_factory=list)
    accounting: Accounting | None = None
    notes: list[str] = Field(default_factory=list, description="Warnings: what to check.")
    error: str | None = Field(default=None, description="Why the file cannot be read, and what to do.")


def inspect_file(path: Path | str) -> Inspection:
    """Read one transcript and report how it was read (never raises for a bad transcript)."""
    path = Path(path)
    result = Inspection(path=str(path))
    try:
        read = read_transcript(path)
        result.container, result.encoding = read.container, read.encoding
        result.notes += read.notes
        try:
            _, detection = detect(path, read.text)
            result.reader_why = f"{detection.why} (sure: {detection.score:.1f})"
        except TranscriptError:  # speech-to-text without speakers is still read, as one turn
            result.reader_why = "no speaker labels"
        parsed = parse_transcript(path, read)
    except TranscriptError as err:
        result.error = err.reason + (f" (line {err.line})" if err.line else "")
        return result
    except OSError as err:
        result.error = f"cannot be read: {err.strerror}"
        return result
    (briefing,) = resolve([parsed])
    result.reader = parsed.reader
    result.title, result.held_on, result.date_from = briefing.title, briefing.held_on, parsed.date_from
    result.language, result.source_url = briefing.language, briefing.source_url
    result.labels = _labels(parsed, briefing)
    # Reporters who named themselves (a label such as 'Speaker 2' names no one).
    named = [t for t in briefing.turns if t.role == "reporter" and t.outlet]
    result.reporters = sorted({t.speaker + (f" ({t.outlet})" if t.outlet else "") for t in named})
    result.set_aside, result.accounting = _accounting(parsed, briefing)
    result.notes += parsed.notes
    if result.held_on is None:
        result.notes.append("no date found: give one in a sidecar NAME.meta.toml (held_on = 2024-01-31)")
    if result.accounting.not_read:
        result.notes.append(f"{result.accounting.not_read} characters are in no turn and were set aside by no rule")
    return result


def _labels(parsed: ParsedTranscript, briefing: Briefing) -> list[LabelReading]:
    everyone = [*briefing.officials, *([briefing.chair] if briefing.chair else [])]
    people = {p.name: p for p in everyone}
    by_label = {p.label: p for p in everyone if p.label}
    counts: Counter[tuple[str, str]] = Counter((t.speaker, t.role) for t in briefing.turns)
    first: dict[str, int] = {}
    for labelled in parsed.turns:
        first.setdefault(labelled.speaker, labelled.line)
    rows = []
    for (speaker, role), n in counts.most_common():
        person = by_label.get(speaker) or people.get(speaker)
        rows.append(
            LabelReading(
                speaker=speaker,
                name=person.name if person and person.name != speaker else None,
                title=person.title if person else None,
                role=role,  # type: ignore[arg-type]
                turns=n,
                first_line=first.get(speaker, 0),
            )
        )
    return rows


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _accounting(parsed: ParsedTranscript, briefing: Briefing) -> tuple[list[SetAsideReading], Accounting]:
    text = briefing.text
    covered = bytearray(len(text))  # 0: nothing yet, 1: a turn, 2: set aside
    in_turns = unattributed = 0
    for turn in briefing.turns:
        covered[turn.char_start : turn.char_end] = b"\x01" * (turn.char_end - turn.char_start)
        in_turns += turn.char_end - turn.char_start
        if turn.speaker == UNATTRIBUTED:
            unattributed += turn.char_end - turn.char_start
    groups: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    totals: Counter[str] = Counter()
    for aside in parsed.set_aside:
        span = covered[aside.char_start : aside.char_end]
        fresh = span.count(0)
        covered[aside.char_start : aside.char_end] = bytes(2 if b == 0 else b for b in span)
        totals[aside.kind] += fresh
        groups[(aside.kind, aside.why)].append((aside.char_start, aside.char_end, aside.line))
    # Whatever no turn holds and no rule set aside: white space, or text the reader did not read.
    not_read: list[tuple[int, int, int]] = []
    whitespace = not_read_chars = 0
    start = None
    for i, flag in enumerate([*covered, 1]):
        free = i < len(text) and flag == 0
        if free and start is None:
            start = i
        elif not free and start is not None:
            chunk = text[start:i]
            whitespace += sum(1 for c in chunk if c.isspace())
            if chunk.strip():
                not_read_chars += sum(1 for c in chunk if not c.isspace())
                not_read.append((start, i, _line_of(text, start)))
            start = None
    if not_read:
        groups[("not read", "in no turn, set aside by no rule")] = not_read
    readings = []
    for (kind, why), spans in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        examples = [f"{line}: {' '.join(text[a:b].split())[:70]}" for a, b, line in spans[:3]]
        readings.append(
            SetAsideReading(
                kind=kind, why=why, count=len(spans), characters=sum(b - a for a, b, _ in spans), examples=examples
            )  # fmt: skip
        )
    accounting = Accounting(
        total=len(text),
        in_turns=in_turns,
        unattributed=unattributed,
        labels=totals["label"],
        metadata=totals["metadata"],
        furniture=totals["furniture"],
        not_read=not_read_chars,
        whitespace=whitespace,
    )
    return readings, accounting
