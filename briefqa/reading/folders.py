"""``briefqa.toml``: what a folder of transcripts says about all of them, without code.

The nearest ``briefqa.toml`` above a transcript (in its folder, or a folder above) applies to it::

    collection = "Australian PM"   # the source, for --collection and in results
    year = 2021                    # for file names that give only a month and day (3_12-briefing.txt)
    language = "es"                # when detection should not decide
    officials = ["Ana López"]       # names or {name = ..., title = ...}, as in a sidecar
    source_url = "https://..."      # the page the transcripts came from, when they do not say

    [layout]                       # for a layout the general reader gets wrong
    label_pattern = '^(?P<label>[A-Z][A-Z .]+)--'   # a turn starts where this matches a line
    reporter_labels = ["PRENSA"]
    chair_labels = ["CONDUCTOR"]
    date_pattern = '(?P<day>\\d+)/(?P<month>\\d+)/(?P<year>\\d{4})'
    furniture = ['^Página \\d+']     # lines set aside

A transcript's own sidecar (``NAME.meta.toml``) is more specific and wins over the folder's.
Patterns are regular expressions, read as data: they are matched, never run as code.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from briefqa.reading.formats.common import TranscriptError
from briefqa.reading.formats.general import Layout
from briefqa.reading.people import fold
from briefqa.records import Person

FOLDER_SETTINGS = "briefqa.toml"
MAX_PATTERN = 500  # characters: a label's pattern is a line's worth


def _pattern(value: str | None, groups: tuple[str, ...] = ()) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_PATTERN:
        raise ValueError(f"a pattern of {len(value)} characters; at most {MAX_PATTERN}")
    try:
        compiled = re.compile(value)
    except re.error as err:
        raise ValueError(f"not a regular expression ({err})") from None
    missing = [g for g in groups if g not in compiled.groupindex]
    if missing:
        raise ValueError(f"needs the named groups {missing}, e.g. (?P<{missing[0]}>...)")
    return value


class LayoutSettings(BaseModel):
    """A layout described in a folder's briefqa.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="layout", description="Shown as the reader by briefqa inspect.")
    label_pattern: str | None = Field(
        default=None, description="Regex with a group 'label', matched at a line's start."
    )
    reporter_labels: list[str] = Field(default_factory=list, description="Labels of reporters' questions.")
    chair_labels: list[str] = Field(default_factory=list, description="Labels of the moderator.")
    official_labels: list[str] = Field(default_factory=list, description="Labels of officials.")
    date_pattern: str | None = Field(default=None, description="Regex with groups year, month, day.")
    furniture: list[str] = Field(default_factory=list, description="Regexes of lines to set aside.")

    @field_validator("label_pattern")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return _pattern(value, ("label",))

    @field_validator("date_pattern")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return _pattern(value, ("year", "month", "day"))

    @field_validator("furniture")
    @classmethod
    def _furniture(cls, value: list[str]) -> list[str]:
        return [p for p in value if _pattern(p)]

    def layout(self) -> Layout:
        return Layout(
            name=self.name,
            label_pattern=re.compile(self.label_pattern) if self.label_pattern else None,
            reporter_labels={fold(x) for x in self.reporter_labels},
            chair_labels={fold(x) for x in self.chair_labels},
            official_labels={fold(x) for x in self.official_labels},
            date_pattern=re.compile(self.date_pattern) if self.date_pattern else None,
            furniture=[re.compile(p) for p in self.furniture],
        )


class FolderSettings(BaseModel):
    """What a briefqa.toml says of every transcript in its folder and below."""

    model_config = ConfigDict(extra="forbid")

    collection: str | None = Field(default=None, description="The source these transcripts belong to.")
    year: int | None = Field(default=None, ge=1900, le=2100, description="For file names with a month and day only.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="ISO 639-1 code.")
    source_url: str | None = Field(default=None, pattern=r"^https?://", description="Where they were published.")
    chair: Person | None = None
    officials: list[Person] = Field(default_factory=list)
    layout: LayoutSettings | None = None

    @field_validator("chair", mode="before")
    @classmethod
    def _chair(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("officials", mode="before")
    @classmethod
    def _officials(cls, value: Any) -> Any:
        return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


def settings_file(transcript: Path) -> Path | None:
    """The briefqa.toml that applies to a transcript: the nearest above it."""
    return _nearest(Path(transcript).absolute().parent)


def _nearest(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        found = candidate / FOLDER_SETTINGS
        if found.is_file():
            return found
    return None


def folder_settings(transcript: Path) -> FolderSettings | None:
    """The settings that apply to a transcript; None when no briefqa.toml is above it. A file that
    cannot be read is a TranscriptError naming it and what is wrong."""
    file = settings_file(transcript)
    if file is None:
        return None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TranscriptError(file, f"not valid TOML: {err}") from None
    except OSError as err:
        raise TranscriptError(file, f"cannot be read: {err.strerror}") from None
    try:
        return FolderSettings.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise TranscriptError(file, f"{where}: {first['msg']} (see docs/formats.md, 'briefqa.toml')") from None
