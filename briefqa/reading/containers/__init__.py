"""Containers: from any transcript file's bytes to the text a transcript reader parses.

``read_container(path, data)`` picks the container by the file's suffix (and, for a ``.txt``
or an unknown suffix, by what the bytes begin with: ``%PDF-``, ``<!DOCTYPE html``, ``<html``)
and returns a ``ContainerText``: the text, which container and encoding it came from, what the
container states about the transcript (title, date, URL) and notes on anything unusual.

The same bytes always give the same text: citation offsets index it, and the index re-reads
files to check the digests of the passages it sliced. For a UTF-8 ``.txt`` or ``.md`` the text
equals what ``briefqa.reading.files.read_transcript_text`` returns: decoded, a leading byte-order
mark dropped, line endings ``\\n``, nothing else changed.

One module per container: ``decoding`` (bytes to text), ``markup`` (HTML), ``pdf``,
``captions`` (WebVTT, SRT), ``speech_json`` (speech-to-text JSON).
"""

from __future__ import annotations

from pathlib import Path

from .captions import read_captions
from .common import ContainerText
from .decoding import decode_text
from .markup import looks_like_html, read_html
from .pdf import read_pdf
from .speech_json import read_speech_json

CONTAINER_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".vtt", ".srt", ".json"}
)


def _read_text(path: Path, data: bytes, container: str) -> ContainerText:
    decoded = decode_text(path, data)
    return ContainerText(decoded.text, container, decoded.encoding, {}, decoded.notes)


def read_container(path: Path, data: bytes) -> ContainerText:
    """The text of a transcript file's bytes; ``TranscriptError`` saying what is wrong and what to do."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return read_pdf(path, data)
    if suffix in {".html", ".htm"}:
        return read_html(path, data)
    if suffix == ".vtt":
        return read_captions(path, data, "webvtt")
    if suffix == ".srt":
        return read_captions(path, data, "srt")
    if suffix == ".json":
        return read_speech_json(path, data)
    if suffix in {".md", ".markdown"}:
        return _read_text(path, data, "markdown")
    # .txt, or a suffix no container claims: text, unless the bytes say otherwise
    if data.startswith(b"%PDF-"):
        result = read_pdf(path, data)
        result.notes.insert(0, f"a PDF, although named {suffix or 'without a suffix'}")
        return result
    if looks_like_html(data):
        result = read_html(path, data)
        result.notes.insert(0, f"an HTML page, although named {suffix or 'without a suffix'}")
        return result
    return _read_text(path, data, "text")


__all__ = ["CONTAINER_SUFFIXES", "ContainerText", "read_container"]
