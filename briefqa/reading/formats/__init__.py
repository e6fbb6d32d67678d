"""Transcript formats, one module each, behind one interface.

A format module has a ``NAME``, a ``VERSION``, ``recognises(text) -> bool`` and
``parse(path, text) -> ParsedTranscript`` (speakers as labelled, with any role the format itself
states as ``role_hint``). ``detect`` asks them in order; the first that recognises a text parses
it. A new format is one module plus its line in ``FORMATS``, more specific formats first.

``VERSION`` goes up with any change that alters what a transcript parses to: an index records the
versions it was parsed with, and a build under other versions parses every transcript again
(reusing the vectors of passages that did not change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from briefqa.reading.formats import scio, whitehouse
from briefqa.reading.formats.common import TranscriptError
from briefqa.records import ParsedTranscript

NO_LABELS = (
    "no speaker labels found (expected lines such as 'Yu Jianhua:' or 'MS. PSAKI:'); "
    "is this a press-conference transcript?"
)


class TranscriptFormat(Protocol):
    NAME: str
    VERSION: int

    def recognises(self, text: str) -> bool: ...

    def parse(self, path: Path, text: str) -> ParsedTranscript: ...


FORMATS: list[TranscriptFormat] = [whitehouse, scio]  # type: ignore[list-item]


def parser_versions() -> dict[str, int]:
    """Each format's parser version, as an index records them."""
    return {fmt.NAME: fmt.VERSION for fmt in FORMATS}


def detect(path: Path, text: str) -> TranscriptFormat:
    """The format of a transcript's text; TranscriptError when no format recognises it."""
    for fmt in FORMATS:
        if fmt.recognises(text):
            return fmt
    raise TranscriptError(path, NO_LABELS)


__all__ = ["FORMATS", "NO_LABELS", "TranscriptError", "TranscriptFormat", "detect", "parser_versions"]
