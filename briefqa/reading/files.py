"""Read one transcript file and parse it with its format (``briefqa.reading.formats``).

A sidecar ``<name>.meta.toml`` next to a transcript overrides what the text cannot tell
(see README, "Sidecar metadata").

Offsets (``char_start``/``char_end``) index the transcript text as briefqa reads it: the text its
container gives (``briefqa.reading.containers``: decoded, a leading byte-order mark dropped, line
endings ``\\n``; an HTML page's, PDF's or subtitle file's text as extracted).
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from briefqa.reading.containers import ContainerText, read_container
from briefqa.reading.datelines import month_day_in_file_name
from briefqa.reading.folders import FOLDER_SETTINGS, FolderSettings, folder_settings
from briefqa.reading.formats import NO_LABELS, TranscriptError, detect, general
from briefqa.records import ParsedTranscript, Person

SIDECAR_SUFFIX = ".meta.toml"
SPEECH_CONTAINERS = {"stt-json", "webvtt", "srt"}
# The largest of the 889 White House transcripts is 0.1 MB. A file a hundred times that is no
# transcript, and splitting one enormous turn into passages would take minutes.
MAX_TRANSCRIPT_BYTES = 10_000_000


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_transcript(path: Path) -> ContainerText:
    """Read a transcript file (text, Markdown, HTML, PDF, subtitles, speech-to-text JSON) as the
    text its reader parses, with the container and encoding it came in."""
    if path.is_dir():
        raise TranscriptError(
            path, "a directory, not a transcript file; name the directory itself to read what is in it"
        )
    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            path,
            f"{size / 1e6:.0f} MB is far more than a press-conference transcript (the largest seen is 0.1 MB); "
            "check that this is a transcript, or split it into one file per briefing",
        )
    data = path.read_bytes()
    if not data.strip():
        raise TranscriptError(path, "the file is empty; remove it or put a transcript in it")
    return read_container(path, data)


def read_transcript_text(path: Path) -> str:
    """The text of a transcript as its reader parses it: offsets into it are citations' offsets."""
    return read_transcript(path).text


def parse_transcript(path: Path, read: ContainerText | str | None = None) -> ParsedTranscript:
    """Parse one transcript file (format detected from its text), applying its sidecar. ``read``:
    the file as already read, or its text; None to read it."""
    path = Path(path)
    if read is None:
        read = read_transcript(path)
    elif isinstance(read, str):
        read = ContainerText(read, "text", "utf-8", {}, [])
    text = read.text
    settings = folder_settings(path)
    if settings and settings.layout:  # the user's description of the layout is the most specific reader
        parsed = general.parse(path, text, read.metadata, layout=settings.layout.layout())
    else:
        try:
            fmt, _ = detect(path, text)
        except TranscriptError:
            if read.container not in SPEECH_CONTAINERS:
                raise
            # Speech-to-text without speakers: the whole text is one turn, nobody's.
            parsed = general.parse_unlabelled(path, text, read.metadata)
        else:
            parsed = fmt.parse(path, text, read.metadata)
    if not parsed.turns:
        raise TranscriptError(path, NO_LABELS)
    if read.notes:
        parsed = parsed.model_copy(update={"notes": [*read.notes, *parsed.notes]})
    if settings:
        parsed = _apply_folder_settings(parsed, settings, path)
    sidecar = sidecar_path(path)
    if sidecar.exists():
        parsed = _apply_sidecar(parsed, sidecar)
    return parsed


def _apply_folder_settings(parsed: ParsedTranscript, settings: FolderSettings, path: Path) -> ParsedTranscript:
    update: dict[str, Any] = {}
    if settings.collection:
        update["collection"] = settings.collection
    if settings.language:
        update["language"] = settings.language
    if settings.source_url and not parsed.source_url:
        update["source_url"] = settings.source_url
    if settings.chair and not parsed.chair:
        update["chair"] = settings.chair
    if settings.officials:
        known = {p.name for p in parsed.officials}
        update["officials"] = [*parsed.officials, *(p for p in settings.officials if p.name not in known)]
    if parsed.held_on is None and settings.year and (month_day := month_day_in_file_name(path.stem)):
        try:
            update["held_on"] = date(settings.year, *month_day)
            update["date_from"] = f"file name, the year from {FOLDER_SETTINGS}"
        except ValueError:
            pass
    return parsed.model_copy(update=update)


_SIDECAR_KEYS = {"title", "held_on", "published_on", "chair", "officials"}


def _apply_sidecar(parsed: ParsedTranscript, sidecar: Path) -> ParsedTranscript:
    """Override what the transcript's text cannot tell with ``<name>.meta.toml``."""
    try:
        meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TranscriptError(sidecar, f"not valid TOML: {err}") from None
    unknown = set(meta) - _SIDECAR_KEYS
    if unknown:
        raise TranscriptError(sidecar, f"unknown keys {sorted(unknown)}; allowed: {sorted(_SIDECAR_KEYS)}")
    update: dict[str, Any] = {}
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
            update["officials"] = [Person(name=o) if isinstance(o, str) else Person(**o) for o in meta["officials"]]
    except (TypeError, ValueError) as err:
        raise TranscriptError(sidecar, f"chair/officials must be names or tables with name and title ({err})") from None
    return parsed.model_copy(update=update)
