"""When a question came up: the turns that match it, counted per month or ISO week and split by
speaker, role or collection (``timeline``), as a table, a JSON model or a stacked bar chart
(``save_chart``, with matplotlib: the ``plot`` extra).

A pure function over search results: it imports neither the CLI nor the web app. Periods run
from the first dated turn's to the last's with none left out (a period with no turns is there,
with zero counts, so that a chart shows the gap); turns of undated briefings are counted apart,
as "date unknown", never dropped.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from briefqa.options import SearchOptions

By = Literal["month", "week"]
SplitBy = Literal["speaker", "role", "collection"]
UNDATED = "date unknown"
NO_COLLECTION = "(no collection)"
PLOT_SUFFIXES = {".svg": "svg", ".png": "png"}


class TurnLike(Protocol):
    """What timeline reads of a result (a SearchResult has all of it); read-only, so that a
    narrower type (a role's Literal) fits."""

    @property
    def briefing_id(self) -> str: ...
    @property
    def turn_index(self) -> int: ...
    @property
    def held_on(self) -> date | None: ...
    @property
    def speaker(self) -> str: ...
    @property
    def speaker_name(self) -> str | None: ...
    @property
    def role(self) -> str: ...
    @property
    def collection(self) -> str: ...


class TurnRef(BaseModel):
    """One turn behind a count."""

    briefing_id: str
    turn_index: int


class Period(BaseModel):
    """A month or an ISO week (Monday to Sunday), or the turns of undated briefings."""

    label: str = Field(description="'2025-02' for a month, '2025-W07' for an ISO week, or 'date unknown'.")
    first_day: date | None = Field(description="The period's first day (None for 'date unknown').")
    last_day: date | None = Field(description="The period's last day (None for 'date unknown').")
    counts: dict[str, int] = Field(default_factory=dict, description="Turns per group; groups with none left out.")
    turns: dict[str, list[TurnRef]] = Field(default_factory=dict, description="The turns behind each count.")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Timeline(BaseModel):
    """The matching turns over time, per period and group."""

    by: By
    split: SplitBy
    periods: list[Period] = Field(description="Dated periods in order, from the first turn's to the last's.")
    undated: Period | None = Field(default=None, description="Turns of briefings with no date, counted apart.")
    groups: list[str] = Field(description="Every group, the most turns first (ties by name).")
    turns: int = Field(description="How many turns are counted, dated or not.")
    question: str | None = None
    k: int | None = Field(default=None, description="For timeline_of: how many best-matching turns were asked for.")

    def totals(self) -> dict[str, int]:
        """Turns per group over every period, undated included, in the order of ``groups``."""
        sums = dict.fromkeys(self.groups, 0)
        for p in [*self.periods, *([self.undated] if self.undated else [])]:
            for group, n in p.counts.items():
                sums[group] += n
        return sums


def group_of(result: TurnLike, split: SplitBy) -> str:
    if split == "speaker":
        return result.speaker_name or result.speaker
    if split == "role":
        return str(result.role)
    return result.collection or NO_COLLECTION


def period_of(day: date, by: By) -> tuple[str, date, date]:
    """(label, first day, last day) of the month or ISO week holding ``day``."""
    if by == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return f"{day.year:04d}-{day.month:02d}", day.replace(day=1), day.replace(day=last)
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}", monday, monday + timedelta(days=6)


def _next_start(first: date, by: By) -> date:
    if by == "week":
        return first + timedelta(days=7)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def timeline(
    results: Iterable[TurnLike], by: By = "month", split: SplitBy = "speaker", question: str | None = None
) -> Timeline:
    """Count ``results`` (one per turn; a turn given twice is counted once) per period and group."""
    if by not in ("month", "week"):
        raise ValueError(f"by: '{by}' is not month or week")
    if split not in ("speaker", "role", "collection"):
        raise ValueError(f"split: '{split}' is not speaker, role or collection")
    seen: set[tuple[str, int]] = set()
    dated: dict[date, Period] = {}
    undated: Period | None = None
    sums: dict[str, int] = {}
    for r in results:
        key = (r.briefing_id, r.turn_index)
        if key in seen:
            continue
        seen.add(key)
        group = group_of(r, split)
        if r.held_on is None:
            undated = undated or Period(label=UNDATED, first_day=None, last_day=None)
            period = undated
        else:
            label, first, last = period_of(r.held_on, by)
            period = dated.setdefault(first, Period(label=label, first_day=first, last_day=last))
        period.counts[group] = period.counts.get(group, 0) + 1
        period.turns.setdefault(group, []).append(TurnRef(briefing_id=r.briefing_id, turn_index=r.turn_index))
        sums[group] = sums.get(group, 0) + 1
    periods = []
    if dated:
        start, end = min(dated), max(dated)
        while start <= end:
            label, first, last = period_of(start, by)
            periods.append(dated.get(start) or Period(label=label, first_day=first, last_day=last))
            start = _next_start(start, by)
    groups = sorted(sums, key=lambda g: (-sums[g], g))
    return Timeline(
        by=by, split=split, periods=periods, undated=undated, groups=groups, turns=len(seen), question=question
    )


def timeline_of(
    index: Any,
    question: str,
    k: int = 100,
    options: SearchOptions | dict | None = None,
    by: By = "month",
    split: SplitBy = "speaker",
) -> Timeline:
    """The timeline of the ``k`` turns of ``index`` that best match ``question`` (``index.search``)."""
    results = index.search(question, k=k, options=options)
    made = timeline(results, by=by, split=split, question=question)
    made.k = k
    return made


def chart_bytes(made: Timeline, fmt: str, top: int = 8) -> bytes:
    """A stacked bar chart of the dated periods (the ``top`` biggest groups, the rest as 'others'),
    as SVG or PNG bytes. Needs matplotlib (the ``plot`` extra); raises ImportError without it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = made.groups[:top]
    rest = len(made.groups) > top
    labels = [p.label for p in made.periods]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 2), 4.5))
    try:
        bottoms = [0] * len(labels)
        series = [(g, [p.counts.get(g, 0) for p in made.periods]) for g in shown]
        if rest:
            series.append(("others", [p.total - sum(p.counts.get(g, 0) for g in shown) for p in made.periods]))
        for group, values in series:
            ax.bar(range(len(labels)), values, bottom=bottoms, label=group)
            bottoms = [b + v for b, v in zip(bottoms, values)]
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
        ax.set_ylabel("turns")
        title = f"'{made.question}'" if made.question else "Matching turns"
        ax.set_title(f"{title} by {made.by} and {made.split}")
        if series:
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if made.undated:
            fig.text(0.01, 0.01, f"{made.undated.total} turn(s) of undated briefings not shown", fontsize="small")
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format=fmt)
        return out.getvalue()
    finally:
        plt.close(fig)


def save_chart(made: Timeline, path: Path | str, top: int = 8) -> Path:
    """Write the chart to ``path``, SVG or PNG by its suffix, atomically (a whole file or the old
    one). A ValueError for another suffix; ImportError without matplotlib; OSError from the disk."""
    from briefqa.indexing.writing import write_bytes_atomically

    path = Path(path)
    fmt = PLOT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: a chart is written as .svg or .png, not '{path.suffix or 'no suffix'}'")
    write_bytes_atomically(path, chart_bytes(made, fmt, top))
    return path
