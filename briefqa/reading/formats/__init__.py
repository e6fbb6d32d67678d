"""Transcript formats, one module each, behind one interface.

A format module has a ``NAME``, a ``VERSION``, ``detect(text) -> Detection`` (how sure it is, 0 to
1, and why) and ``parse(path, text) -> ParsedTranscript`` (speakers as labelled, with any role the
format itself states as ``role_hint``). ``detect`` asks them all; the surest reads the text, so a
reader of one source (0.9) wins over the general reader (at most 0.5), which reads any layout
whose labels recur. A new format is one module plus its line in ``FORMATS``.

``VERSION`` goes up with any change that alters what a transcript parses to: an index records the
versions it was parsed with, and a build under other versions parses every transcript again
(reusing the vectors of passages that did not change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from briefqa.reading.formats import general, scio, whitehouse
from briefqa.reading.formats.common import Detection, TranscriptError
from briefqa.records import ParsedTranscript

NO_LABELS = general.NO_LABELS_HERE


class TranscriptFormat(Protocol):
    NAME: str
    VERSION: int

    def detect(self, text: str) -> Detection: ...

    def parse(self, path: Path, text: str, metadata: dict[str, str] | None = None) -> ParsedTranscript: ...


FORMATS: list[TranscriptFormat] = [whitehouse, scio, general]  # type: ignore[list-item]


def parser_versions() -> dict[str, int]:
    """Each format's parser version, as an index records them."""
    return {fmt.NAME: fmt.VERSION for fmt in FORMATS}


def detect(path: Path, text: str) -> tuple[TranscriptFormat, Detection]:
    """The format of a transcript's text and how sure it is; TranscriptError when none reads it."""
    best: tuple[TranscriptFormat, Detection] | None = None
    for fmt in FORMATS:
        if fmt is general and best is not None:
            break  # at most 0.5: never surer than a source's own reader, and it scans the whole text
        found = fmt.detect(text)
        if found.score > 0 and (best is None or found.score > best[1].score):
            best = (fmt, found)
    if best is None:
        raise TranscriptError(path, NO_LABELS)
    return best


__all__ = ["FORMATS", "Detection", "NO_LABELS", "TranscriptError", "TranscriptFormat", "detect", "parser_versions"]
