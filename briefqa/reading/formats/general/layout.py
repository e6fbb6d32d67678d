"""A user's description of a layout the general reader gets wrong (from a folder's briefqa.toml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Layout:
    """A user's description of a layout this reader gets wrong (see ``briefqa.reading.layouts``)."""

    name: str = "layout"
    label_pattern: re.Pattern[str] | None = None  # must have a group 'label'; matched at a line's start
    reporter_labels: set[str] = field(default_factory=set)  # folded
    chair_labels: set[str] = field(default_factory=set)
    official_labels: set[str] = field(default_factory=set)
    date_pattern: re.Pattern[str] | None = None  # groups year, month, day
    furniture: list[re.Pattern[str]] = field(default_factory=list)
