"""An evaluation report as a terminal reads it."""

from __future__ import annotations

from typing import Any

from briefqa.terminal_text import printable


def print_eval(console: Any, report: Any, metrics: tuple[str, ...]) -> None:
    """An evaluation report for a terminal: a metric per row, a mode per column, then the questions
    each mode missed, with what came first instead."""
    from rich.table import Table
    from rich.text import Text

    from briefqa.evaluation.evaluate import PASS_DEPTH

    # A metric per row, a mode per column: fits 80 columns with every metric and mode.
    table = Table(
        "metric",
        *(m.label for m in report.modes),
        title=Text(printable(f"{report.question_count} questions, {report.questions_file}")),
    )
    for name in metrics:
        table.add_row(name, *(f"{m.aggregate[name]:.3f}" for m in report.modes))
    console.print(table)
    for m in report.modes:
        missed = m.missed(PASS_DEPTH)
        console.print(f"\n[bold]{m.options.mode}: {len(missed)} question(s) missed in the top {PASS_DEPTH}[/bold]")
        for q in missed:
            console.print(printable(f"- {q.id} {q.question}"), markup=False)
            console.print(printable(f"    expected {q.expected_speaker}: {q.expected_quote[:100]}"), markup=False)
            if q.top_text is not None:
                first = " ".join(printable(q.top_text).split())[:100]
                console.print(printable(f"    first    {q.top_speaker} ({q.top_passage_id}): {first}"), markup=False)
