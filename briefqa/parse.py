"""Parse one transcript file into a ParsedTranscript.

Two formats are understood, told apart by their first line:

* SCIO pages (China State Council Information Office, raw page text): turns start at a label
  line such as ``Yu Jianhua:`` or ``Yicai.com:``; a header carries the title, dates and
  optional ``Speakers:`` / ``Chairperson:`` / ``Date:`` blocks; page furniture is dropped.
* White House briefings (Markdown with a YAML header): upper-case labels such as
  ``MS. PSAKI:`` begin a turn on the same line, reporters' questions begin with ``Q``.

A sidecar ``<name>.meta.toml`` next to a transcript overrides what the text cannot tell
(see README, "Sidecar metadata").

Offsets (``char_start``/``char_end``) index the transcript text as briefqa reads it: decoded as
UTF-8, a leading byte-order mark dropped, line endings normalised to ``\\n``.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from briefqa.models import LabelledTurn, ParsedTranscript, Person

SIDECAR_SUFFIX = ".meta.toml"


class TranscriptError(Exception):
    """A transcript that cannot be parsed; the message says why and what to do."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


def briefing_id(path: Path) -> str:
    """The stable id of a transcript: its file name without the extension."""
    return path.stem


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_transcript_text(path: Path) -> str:
    """Read a transcript as text, refusing files that are not UTF-8 text."""
    data = path.read_bytes()
    if not data.strip():
        raise TranscriptError(path, "the file is empty; remove it or put a transcript in it")
    if b"\x00" in data:
        raise TranscriptError(path, "this is a binary file, not a text transcript; remove it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TranscriptError(
            path,
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); convert it, "
            f"e.g. iconv -f WINDOWS-1252 -t UTF-8",
            line,
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_transcript(path: Path, text: str | None = None) -> ParsedTranscript:
    """Parse one transcript file (format detected from its text), applying its sidecar."""
    path = Path(path)
    if text is None:
        text = read_transcript_text(path)
    parser = _parse_whitehouse if text.startswith("---\n") else _parse_scio
    parsed = parser(path, text)
    if not parsed.turns:
        raise TranscriptError(
            path,
            "no speaker labels found (expected lines such as 'Yu Jianhua:' or 'MS. PSAKI:'); "
            "is this a press-conference transcript?",
        )
    sidecar = sidecar_path(path)
    if sidecar.exists():
        parsed = _apply_sidecar(parsed, sidecar)
    return parsed


# --- lines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
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


def _lines(text: str) -> list[_Line]:
    lines, offset = [], 0
    for number, raw in enumerate(text.split("\n"), start=1):
        lines.append(_Line(number, offset, offset + len(raw), raw))
        offset += len(raw) + 1
    return lines


# --- dates ------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_FULL_DATE = re.compile(_MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})", re.IGNORECASE)
# "on April 12" or "On July 13," with no year after it.
_MONTH_DAY = re.compile(
    r"\bon\s+" + _MONTH + r"\s+(?P<day>\d{1,2})\b(?!,?\s*\d{4})", re.IGNORECASE
)
_WEEKDAY = re.compile(r"\bon\s+(?P<weekday>" + "|".join(calendar.day_name) + r")\b")
_CLOCK_TIME = re.compile(r"\b\d{1,2}(:\d\d)?\s*[ap]\.m\.", re.IGNORECASE)


def _full_date(match: re.Match[str]) -> date | None:
    try:
        return date(int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]))
    except ValueError:
        return None


def _month_day_before(month: int, day: int, reference: date) -> date | None:
    """The date with this month and day on or before the reference date."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    return None


def _weekday_before(weekday: str, reference: date) -> date:
    """The last such weekday on or before the reference date ('on Friday' in a later report)."""
    target = list(calendar.day_name).index(weekday)
    return reference - timedelta(days=(reference.weekday() - target) % 7)


# --- SCIO pages ---------------------------------------------------------------------------

# Page furniture that is never part of a turn.
_NOISE = [
    re.compile(p)
    for p in (
        r"^_ueditor_page_break_tag_$",
        r"^[<>\d\s.]*\d[<>\d\s.]*$|^<$|^>$",  # pagination rows: "<  1  2  3 ... >"
        r"[\u3000-\u9fff\uff00-\uffef]",  # Chinese-script links and breadcrumbs ("中文", "ㄑ")
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
# A label is a short line ending in a colon: a name or an outlet ("Yicai.com:",
# "Guangdong Radio and Television (GRT):"), never a sentence that ends in a colon.
_LABEL = re.compile(r"^(?P<label>[A-Z][\w.&'’()\-/ ]{0,58}[\w.)’])\s*:$")
_LABEL_LOWER_WORDS = {"of", "and", "the", "for", "de", "da", "van", "von", "on", "at", "in"}


def _is_noise(clean: str) -> bool:
    return any(pattern.search(clean) for pattern in _NOISE)


def _label(clean: str) -> str | None:
    match = _LABEL.match(clean)
    if not match:
        return None
    label = match["label"].strip()
    words = label.split()
    if len(words) > 8 or label.lower() in _BLOCK_HEADERS:
        return None
    if any(w[0].islower() and w not in _LABEL_LOWER_WORDS for w in words):
        return None
    return label


def _person(entry: str) -> Person:
    name, _, title = entry.partition(",")
    return Person(name=_HONORIFIC.sub("", name.strip()), title=title.strip() or None)


def _parse_scio(path: Path, text: str) -> ParsedTranscript:
    lines = _lines(text)
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
        dates = [d for d in map(_full_date, _FULL_DATE.finditer(clean)) if d]
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
                month_day = (_MONTHS[m["month"].lower()], int(m["day"]))
            if (m := _WEEKDAY.search(clean)) and weekday is None:
                weekday = m["weekday"]
        if not title and not _is_noise(clean) and "Press Room" not in clean and len(clean.split()) >= 3:
            title = clean

    reference = published or held
    if held is None and month_day and reference:
        held = _month_day_before(*month_day, reference)
    if held is None and weekday and published:
        held = _weekday_before(weekday, published)

    return ParsedTranscript(
        id=briefing_id(path),
        title=title or briefing_id(path),
        held_on=held,
        published_on=published,
        source=str(path),
        officials=list(officials.values()),
        chair=chair,
        turns=_scio_turns(text, body),
        text=text,
    )


def _scio_turns(text: str, body: list[_Line]) -> list[LabelledTurn]:
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
                LabelledTurn(
                    speaker=speaker,
                    text=text[start:end],
                    char_start=start,
                    char_end=end,
                    line=label_line,
                )
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


# --- White House briefings ------------------------------------------------------------------

# "MS. PSAKI:  Hi, everyone." -- an upper-case label, then the turn's first words.
_WH_LABEL = re.compile(r"^(?P<label>[A-Z][A-Z.'’\- ]{0,60}[A-Z.]):\s+(?=\S)")
_WH_QUESTION = re.compile(r"^Q(?:\s+|:\s+)(?=\S)")
_WH_NOISE = re.compile(r"^(\d{1,2}:\d\d\s*[AP]\.?M\.?(\s+[A-Z]{2,4})?|END)$")
WH_REPORTER = "Reporter"


def _display_name(label: str) -> str:
    """'MS. JEAN-PIERRE' -> 'Ms. Jean-Pierre'."""
    return " ".join(word.capitalize() if word.isupper() else word for word in label.split())


def _front_matter(path: Path, text: str) -> tuple[dict, int]:
    end = text.find("\n---", 4)
    if end == -1:
        raise TranscriptError(path, "the YAML header opened by '---' is never closed", 1)
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", 0) + 2
        raise TranscriptError(path, f"the YAML header is not valid YAML ({err.__class__.__name__})", line) from None
    if not isinstance(meta, dict):
        raise TranscriptError(path, "the YAML header must be a mapping of keys to values", 2)
    return meta, end + len("\n---")


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _parse_whitehouse(path: Path, text: str) -> ParsedTranscript:
    meta, body_start = _front_matter(path, text)
    lines = [ln for ln in _lines(text) if ln.start >= body_start]
    turns: list[LabelledTurn] = []
    current: dict | None = None

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

    for line in lines:
        clean = line.clean
        if _WH_NOISE.match(clean):
            close()
            continue
        question = _WH_QUESTION.match(line.raw)
        label = None if question else _WH_LABEL.match(line.raw)
        if question or label:
            close()
            prefix = question or label
            start = line.start + prefix.end()
            if question:
                speaker, role = WH_REPORTER, "reporter"
            else:
                speaker = _display_name(label["label"])
                role = "chair" if label["label"] == "MODERATOR" else "official"
            current = {"speaker": speaker, "role": role, "line": line.number,
                       "start": start, "end": line.content_span()[1]}
            continue
        if current is not None and clean:
            current["end"] = line.content_span()[1]
    close()

    officials: dict[str, Person] = {}
    for turn in turns:
        if turn.role_hint == "official":
            officials.setdefault(turn.speaker, Person(name=turn.speaker))
    held = _as_date(meta.get("date"))
    return ParsedTranscript(
        id=briefing_id(path),
        title=" ".join(str(meta.get("title") or briefing_id(path)).replace("\u00a0", " ").split()),
        held_on=held,
        published_on=_as_date(meta.get("published_time")) or held,
        source=str(path),
        officials=list(officials.values()),
        chair=None,
        turns=turns,
        text=text,
    )


# --- sidecar metadata -------------------------------------------------------------------------

_SIDECAR_KEYS = {"title", "held_on", "published_on", "chair", "officials"}


def _apply_sidecar(parsed: ParsedTranscript, sidecar: Path) -> ParsedTranscript:
    """Override what the transcript's text cannot tell with ``<name>.meta.toml``."""
    try:
        meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TranscriptError(sidecar, f"not valid TOML: {err}") from None
    unknown = set(meta) - _SIDECAR_KEYS
    if unknown:
        raise TranscriptError(
            sidecar, f"unknown keys {sorted(unknown)}; allowed: {sorted(_SIDECAR_KEYS)}"
        )
    update: dict = {}
    for key in ("held_on", "published_on"):
        if key in meta:
            if not isinstance(meta[key], date):
                raise TranscriptError(sidecar, f"{key} must be a date such as 2022-01-14 (no quotes)")
            update[key] = meta[key]
    if "title" in meta:
        update["title"] = str(meta["title"])
    try:
        if "chair" in meta:
            chair = meta["chair"]
            update["chair"] = Person(name=chair) if isinstance(chair, str) else Person(**chair)
        if "officials" in meta:
            update["officials"] = [
                Person(name=o) if isinstance(o, str) else Person(**o) for o in meta["officials"]
            ]
    except (TypeError, ValueError) as err:
        raise TranscriptError(
            sidecar, f"chair/officials must be names or tables with name and title ({err})"
        ) from None
    return parsed.model_copy(update=update)
