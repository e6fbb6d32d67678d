"""Read one transcript file and parse it with its format (``briefqa.reading.formats``).

A sidecar ``<name>.meta.toml`` next to a transcript overrides what the text cannot tell
(see README, "Sidecar metadata").

Offsets (``char_start``/``char_end``) index the transcript text as briefqa reads it: decoded as
UTF-8, a leading byte-order mark dropped, line endings normalised to ``\\n``.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from briefqa.reading.formats import NO_LABELS, TranscriptError, detect
from briefqa.records import ParsedTranscript, Person

SIDECAR_SUFFIX = ".meta.toml"
# The largest of the 889 White House transcripts is 0.1 MB. A file a hundred times that is no
# transcript, and splitting one enormous turn into passages would take minutes.
MAX_TRANSCRIPT_BYTES = 10_000_000


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_transcript_text(path: Path) -> str:
    """Read a transcript as text, refusing files that are not UTF-8 text."""
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
    if b"\x00" in data:
        raise TranscriptError(path, "this is a binary file, not a text transcript; remove it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TranscriptError(
            path,
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8",
            line,
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_transcript(path: Path, text: str | None = None) -> ParsedTranscript:
    """Parse one transcript file (format detected from its text), applying its sidecar."""
    path = Path(path)
    if text is None:
        text = read_transcript_text(path)
    parsed = detect(path, text).parse(path, text)
    if not parsed.turns:
        raise TranscriptError(path, NO_LABELS)
    sidecar = sidecar_path(path)
    if sidecar.exists():
        parsed = _apply_sidecar(parsed, sidecar)
    return parsed


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
