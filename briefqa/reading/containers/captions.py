"""WebVTT and SRT captions: cue text, one line per speaker run.

A small parser of its own rather than ``webvtt-py`` or ``srt``: webvtt-py keeps only the first
voice of a cue that has two (``<v Bob>One</v> <v Ann>Two</v>``) and silently skips blocks it
cannot place; ``srt`` refuses a whole file over one stray line. Both formats are blocks
separated by blank lines; a cue block is an optional identifier, a timing line (``-->``) and
its text, so one parser reads both.

``<v Jane Doe>text</v>`` becomes ``Jane Doe: text``, and consecutive cues of one voice join into
one line. Cues without a voice keep their text; consecutive ones join into one line until one
starts a new turn (``- ``, ``>>``, or a label such as ``JANE DOE:``), which starts a new line.
Other tags (``<i>``, ``<c.yellow>``, ``<00:01.500>``, SRT's ``{\\an8}``) are removed, entities
decoded; NOTE, STYLE and REGION blocks and timings are dropped.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from briefqa.reading.formats.common import TranscriptError

from .common import ContainerText, one_line
from .decoding import decode_text

# A tag: a letter or "/" after "<" (so "a < b" in an SRT line stays), or a cue timestamp.
_TAG = re.compile(r"<(/?[A-Za-z][^<>]*|\d[\d:.]*)>")
_VOICE = re.compile(r"v(?:\.[^\s>]*)?\s+(?P<name>[^>]*)$", re.DOTALL)
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # SRT files from ASS: {\an8}, {\i1}
_NEW_TURN = re.compile(r"(?:[-–—]\s|>>|[A-Z][A-Z.'’\- ]*[A-Z.]:\s|[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}:\s)")
_SKIPPED_BLOCKS = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)")

Piece = tuple[str | None, str, bool]  # (voice, text, starts a new turn)


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _cue_pieces(payload: list[str]) -> list[Piece]:
    """The pieces of one cue's text: a new piece where the voice changes or a line starts a turn."""
    pieces: list[Piece] = []
    voice: str | None = None
    parts: list[str] = []
    starts = False

    def close() -> None:
        nonlocal parts, starts
        text = one_line(html.unescape("".join(parts)))
        if text:
            pieces.append((voice, text, starts))
        parts, starts = [], False

    for line in payload:
        line = _ASS_OVERRIDE.sub("", line)
        plain = _TAG.sub("", line).strip()
        if voice is None and parts and _NEW_TURN.match(html.unescape(plain)):
            close()
        if not parts:
            starts = bool(_NEW_TURN.match(html.unescape(plain)))
        for i, chunk in enumerate(_TAG.split(line)):
            if i % 2 == 0:
                parts.append(chunk)
                continue
            match = _VOICE.match(chunk)
            if match:
                close()
                voice = one_line(match["name"]) or None
            elif chunk.strip() == "/v":
                close()
                voice = None
        parts.append(" ")
    close()
    return pieces


def _render(pieces: list[Piece]) -> str:
    lines: list[str] = []
    run: list[str] = []
    run_voice: str | None = None

    def flush() -> None:
        if run:
            text = " ".join(run)
            lines.append(f"{run_voice}: {text}" if run_voice else text)
        run.clear()

    for voice, text, starts in pieces:
        if not (run and voice == run_voice and (voice is not None or not starts)):
            flush()
            run_voice = voice
        run.append(text)
    flush()
    return "\n".join(lines)


def read_captions(path: Path, data: bytes, container: str) -> ContainerText:
    """``container``: "webvtt" or "srt"."""
    decoded = decode_text(path, data)
    notes = decoded.notes
    blocks = _blocks(decoded.text)
    if container == "webvtt":
        if blocks and blocks[0][0].lstrip("\ufeff").startswith("WEBVTT"):
            header = blocks.pop(0)[1:]
            if any("-->" in line for line in header):  # a cue with no blank line after the header
                blocks.insert(0, header)
        else:
            notes.append("no WEBVTT header on the first line; read as WebVTT all the same")
    pieces: list[Piece] = []
    cues = continued = ignored = 0
    for block in blocks:
        if container == "webvtt" and _SKIPPED_BLOCKS.match(block[0]):
            continue
        timing = next((i for i, line in enumerate(block) if "-->" in line), None)
        if timing is None:
            if cues:  # text after a blank line inside a cue: SRT files have them
                pieces.extend(_cue_pieces(block))
                continued += 1
            else:
                ignored += 1
            continue
        cues += 1
        pieces.extend(_cue_pieces(block[timing + 1 :]))
    if continued:
        notes.append(f"{continued} block(s) without a timing line read as the previous cue's text")
    if ignored:
        notes.append(f"{ignored} block(s) before the first cue ignored (no timing line)")
    text = _render(pieces)
    if not text.strip():
        kind = "WebVTT" if container == "webvtt" else "SRT"
        raise TranscriptError(path, f"no cue with text found; is this a {kind} caption file?")
    return ContainerText(text, container, decoded.encoding, {}, notes)
