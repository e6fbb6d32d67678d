"""The ``briefqa`` command: a thin layer over the library that renders its results.

Heavy modules (pydantic models, FAISS, the embedder) are imported inside the commands so that
``briefqa --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    help="Ask questions of press-conference transcripts; get cited passages back.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

CorpusArg = Annotated[
    Optional[list[Path]],
    typer.Option("--corpus", "-c", help="Transcript files or directories (default: corpus/)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _load_corpus(paths: list[Path] | None):
    from briefqa.corpus import load_corpus
    from briefqa.settings import default_corpus_dir

    try:
        corpus = load_corpus(paths or [default_corpus_dir()])
    except FileNotFoundError as err:
        _fail(f"{err}. Pass transcript files or directories with --corpus.")
    _report_skipped(corpus.skipped)
    return corpus


def _report_skipped(skipped) -> None:
    if skipped:
        typer.echo(f"Skipped {len(skipped)} file(s):", err=True)
        for item in skipped:
            typer.echo(f"  {item.message()}", err=True)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
def briefings(corpus: CorpusArg = None, as_json: JsonOpt = False) -> None:
    """List the parsed briefings: id, date held, title, turns and officials.

    Example: briefqa briefings --json
    """
    from rich.console import Console
    from rich.table import Table

    parsed = _load_corpus(corpus)
    if as_json:
        rows = []
        for b in parsed.briefings:
            row = b.model_dump(mode="json", exclude={"turns"})
            row["turn_count"] = len(b.turns)
            rows.append(row)
        _print_json(rows)
        return
    table = Table("held on", "title", "turns", "officials")
    table.columns[0].no_wrap = True
    table.add_column("id", no_wrap=True)
    for b in parsed.briefings:
        officials = ", ".join(o.name for o in b.officials)
        table.add_row(str(b.held_on or "?"), b.title, str(len(b.turns)), officials, b.id)
    Console().print(table)


@app.command()
def show(
    briefing_id: Annotated[str, typer.Argument(help="A briefing id, as listed by 'briefqa briefings'.")],
    corpus: CorpusArg = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one parsed transcript, turn by turn, with speaker, role and the question answered.

    Example: briefqa show scio-2023-03-20-customs-safeguard-borders
    """
    from rich.console import Console
    from rich.markup import escape

    parsed = _load_corpus(corpus)
    briefing = parsed.get(briefing_id)
    if briefing is None:
        known = ", ".join(b.id for b in parsed.briefings)
        _fail(f"no briefing '{briefing_id}'. Known ids: {known}")
    if as_json:
        _print_json(briefing.model_dump(mode="json"))
        return
    console = Console()
    console.print(f"[bold]{escape(briefing.title)}[/bold]")
    console.print(f"held {briefing.held_on or '?'}, published {briefing.published_on or '?'}, {briefing.source}")
    if briefing.chair:
        console.print(f"chair: {escape(briefing.chair.name)}")
    for official in briefing.officials:
        console.print(f"official: {escape(official.name)}" + (f", {escape(official.title)}" if official.title else ""))
    for turn in briefing.turns:
        answers = f" (answers turn {turn.answers_turn})" if turn.answers_turn is not None else ""
        console.print(f"\n[bold][{turn.index}] {escape(turn.speaker)}[/bold] [dim]{turn.role}{answers}[/dim]")
        console.print(escape(turn.text))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
