"""Bytes to text for the text-based containers (text, Markdown, HTML, captions, JSON).

In order: a byte-order mark (UTF-8, UTF-16, UTF-32); UTF-16 without one, known by its NUL bytes
at every other position; strict UTF-8; a charset the HTML page itself declares; then
charset-normalizer's guess, preferring windows-1252 whenever that reads the bytes as well as
the guess does (charset-normalizer names ``café`` UTF-16-BE, and French text cp1250); and
windows-1252 when nothing fits. NUL bytes in anything but UTF-16/32, or text full of control
characters, is binary and refused.

For a UTF-8 file the text equals what ``briefqa.reading.files.read_transcript_text`` returns.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from briefqa.reading.formats.common import TranscriptError

from .common import normalise_newlines

BINARY = (
    "this is a binary file, not a text transcript; remove it, or export it as text (UTF-8) if it holds a transcript"
)
EMPTY = "the file is empty; remove it or put a transcript in it"

_BOMS = [  # longest first: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# Control characters text does not hold (tab, newlines, form feed and Ctrl-Z, the DOS end-of-file
# mark, are common enough in real transcripts).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")
# What a page may declare in its first bytes: <meta charset="..."> or the http-equiv content type.
_DECLARED = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)


@dataclass
class Decoded:
    text: str  # newlines normalised, BOM dropped
    encoding: str
    notes: list[str] = field(default_factory=list)


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first 2 KB, as a Python codec name; None if none or unknown."""
    match = _DECLARED.search(data[:2048])
    if not match:
        return None
    try:
        name = codecs.lookup(match[1].decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # WHATWG: a page labelled latin-1 or ascii is read as windows-1252.
    return "cp1252" if name in {"latin-1", "iso8859-1", "ascii"} else name


def display_name(codec: str) -> str:
    """'cp1252' -> 'windows-1252'; other Python codec names as they are (all decode with ``bytes.decode``)."""
    name = codecs.lookup(codec).name
    return re.sub(r"^cp(125\d)$", r"windows-\1", name)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit at odd (even) positions as in mostly-Latin UTF-16."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd >= 0.3 * half and even <= 0.02 * half:
        return "utf-16-le"
    if even >= 0.3 * half and odd <= 0.02 * half:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    controls = len(_CONTROL.findall(text))
    return "\x00" in text or (controls >= 4 and controls > 0.02 * len(text))


def _guess(data: bytes) -> tuple[str, str]:
    """(codec, how it was chosen) for bytes that are not UTF-8."""
    matches = [m for m in from_bytes(data) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        return "cp1252", "nothing else fits: the fallback"
    best_chaos = min(m.chaos for m in matches)
    for match in matches:
        if match.chaos <= best_chaos + 0.01 and "cp1252" in match.could_be_from_charset:
            return "cp1252", "detected by charset-normalizer"
    return matches[0].encoding, "detected by charset-normalizer"


def decode_text(path: Path, data: bytes, declared: str | None = None) -> Decoded:
    """The text of a file's bytes; ``declared``: the charset an HTML page names, tried before guessing."""
    if not data.strip():
        raise TranscriptError(path, EMPTY)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-8-sig" and b"\x00" in data:
                raise TranscriptError(path, BINARY)
            return _finish(path, data, codec, "" if codec == "utf-8-sig" else "byte-order mark")
    if b"\x00" in data:
        codec16 = _utf16_without_bom(data)
        if codec16 is None:
            raise TranscriptError(path, BINARY)
        return _finish(path, data, codec16, "no byte-order mark; known by its NUL bytes")
    try:
        return _finish(path, data, "utf-8", "")
    except UnicodeDecodeError:
        pass
    if declared and declared not in {"utf-8", "utf-16", "utf-32"}:
        try:
            return _finish(path, data, declared, "declared by the page's <meta charset>")
        except UnicodeDecodeError:
            pass
    codec, how = _guess(data)
    try:
        return _finish(path, data, codec, how)
    except UnicodeDecodeError:  # only the cp1252 fallback can get here: it leaves 5 bytes undefined
        decoded = _finish(path, data, codec, how, errors="replace")
        decoded.notes.append("bytes windows-1252 leaves undefined were replaced by U+FFFD")
        return decoded


def _finish(path: Path, data: bytes, codec: str, how: str, errors: str = "strict") -> Decoded:
    try:
        raw = data.decode(codec, errors)
    except UnicodeDecodeError as err:
        if codec.startswith(("utf-16", "utf-32")):
            line = data[: err.start].decode(codec, "replace").count("\n") + 1
            raise TranscriptError(path, f"broken {codec} text; save it again as UTF-8", line) from None
        raise
    text = normalise_newlines(raw)
    if not text.strip():
        raise TranscriptError(path, EMPTY)
    if codec not in {"utf-8", "utf-8-sig"} and _looks_binary(text):
        raise TranscriptError(path, BINARY)
    name = display_name(codec) if codec not in {"utf-16", "utf-32", "utf-8-sig"} else codec
    notes = []
    if codec not in {"utf-8", "utf-8-sig"}:
        notes.append(f"decoded as {name} (not UTF-8; {how})")
    return Decoded(text, name, notes)
