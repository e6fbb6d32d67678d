"""What every container shares: the result type, newline normalisation and dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# White space an HTML or caption renderer may collapse or trim: ASCII only, so that a
# non-breaking space (U+00A0) in a transcript is kept as it is.
ASCII_SPACE = " \t\n\r\f"


@dataclass(frozen=True)
class ContainerText:
    """The text a transcript reader parses, taken out of the file's container.

    ``text`` is what citation offsets index: the same bytes always give the same text.
    """

    text: str
    container: str  # "text" | "markdown" | "html" | "pdf" | "webvtt" | "srt" | "stt-json"
    encoding: str  # a codec name that decodes the bytes ("utf-8", "utf-16", "windows-1252"); pdf: "pdf text layer"
    metadata: dict[str, str] = field(default_factory=dict)  # "title", "date" (yyyy-mm-dd), "url"
    notes: list[str] = field(default_factory=list)  # human-readable warnings


def normalise_newlines(text: str) -> str:
    """A leading byte-order mark dropped, line endings as ``\\n`` (as ``read_transcript_text`` does)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?![\d])")


def iso_date(value: object) -> str | None:
    """``yyyy-mm-dd`` from a value that starts with one (``2023-03-20T10:00:00Z`` too); None otherwise."""
    if not isinstance(value, str):
        return None
    match = _ISO_DATE.match(value)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def one_line(text: str) -> str:
    """Runs of ASCII white space as one space, trimmed: a segment or cue as a piece of one line."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).strip(" ")
