"""A build's progress on stderr: a bar per stage on a terminal; piped, a line a minute."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any


def build_progress() -> tuple[Any, Any]:
    """A progress bar on stderr for a build's stages; returns (callback, context manager)."""
    import contextlib
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not Console(stderr=True).is_terminal:
        # Piped or in CI: a live bar draws nothing there, so a line a minute (and at each stage's
        # end) shows that an hour-long build is moving, how fast, and how long it has left.
        started: dict[str, float] = {}
        last = [time.monotonic()]

        def log(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            first = started.setdefault(stage, now)
            if now - last[0] < 60 and done < total:
                return
            last[0] = now
            rate = done / (now - first) if now - first >= 1 else None
            speed = (
                f" ({rate:.0f}/s" + (f", {(total - done) / rate / 60:.0f} min left)" if done < total else ")")
                if rate
                else ""
            )
            print(f"{stage}: {done}/{total}{speed}", file=sys.stderr, flush=True)

        return log, contextlib.nullcontext()

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if not tasks:  # shown from the first report on: opening an index that builds nothing shows none
            bar.start()
        if stage not in tasks:  # each stage its own bar, so that its rate is its own
            for task in tasks.values():
                bar.update(task, visible=False)
            tasks[stage] = bar.add_task(stage, total=total, rate="")
        task = tasks[stage]
        bar.update(task, completed=done, total=total)
        speed = bar.tasks[task].speed
        bar.update(task, rate=f"{speed:.0f}/s" if speed else "")

    @contextlib.contextmanager
    def shown() -> Iterator[None]:
        try:
            yield
        finally:
            if tasks:
                bar.stop()

    return update, shown()
