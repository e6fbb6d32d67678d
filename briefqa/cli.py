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
    pretty_exceptions_enable=False,
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


IndexOpt = Annotated[Optional[Path], typer.Option("--index", "-i", help="Index directory (default: index/).")]


def _progress(description: str):
    """A progress bar on stderr; returns (callback, context manager)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task(description, total=None)
    return (lambda done, total: bar.update(task, completed=done, total=total)), bar


def _library_errors():
    """Library errors the user can act on, as (exception types)."""
    from briefqa.embed import ModelError
    from briefqa.store import IndexLoadError

    return (IndexLoadError, ModelError, FileNotFoundError, ValueError)


def _render_report(report) -> None:
    _report_skipped(report.skipped)
    if not report.written:
        typer.echo(f"{report.index}: unchanged ({report.passages} passages); nothing to do.")
        return
    parts = [f"{len(getattr(report, name))} {name}" for name in ("added", "replaced", "unchanged", "removed")
             if getattr(report, name)]
    typer.echo(
        f"{report.index}: {report.passages} passages ({report.embedded} embedded, {report.reused} reused); "
        f"briefings: {', '.join(parts)}; {report.seconds:.1f} s"
    )


index_app = typer.Typer(help="Build, extend and inspect an index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@index_app.command("build")
def index_build(
    corpus_dir: Annotated[Optional[list[Path]], typer.Argument(help="Transcript files or directories (default: corpus/).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Index directory (default: index/).")] = None,
    model: Annotated[str, typer.Option(help="sentence-transformers model name or path.")] = "all-MiniLM-L6-v2",
    faiss_index: Annotated[str, typer.Option("--faiss-index", help="flat (exact) or hnsw (approximate, for large corpora).")] = "flat",
) -> None:
    """Build an index from transcripts. Unchanged passages keep their vectors.

    Example: briefqa index build corpus/ --out index/
    """
    from briefqa.index import build_index

    callback, bar = _progress("Embedding passages")
    try:
        with bar:
            report = build_index(corpus_dir, out, model=model, faiss_index=faiss_index, progress=callback)
    except _library_errors() as err:
        _fail(str(err))
    _render_report(report)


@index_app.command("add")
def index_add(
    files: Annotated[list[Path], typer.Argument(help="Transcript files (or directories) to add.")],
    index: IndexOpt = None,
) -> None:
    """Add transcripts to an index, embedding only what is new; a changed file replaces its passages.

    Example: briefqa index add new-briefing.txt --index index/
    """
    from briefqa.index import add_to_index

    callback, bar = _progress("Embedding passages")
    try:
        with bar:
            report = add_to_index(files, index, progress=callback)
    except _library_errors() as err:
        _fail(str(err))
    _render_report(report)


@index_app.command("info")
def index_info(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show what an index's manifest says: model, settings, corpus, size.

    Example: briefqa index info --index index/
    """
    from briefqa.settings import default_index_dir
    from briefqa.store import read_manifest

    try:
        manifest = read_manifest(index or default_index_dir())
    except _library_errors() as err:
        _fail(str(err))
    if as_json:
        _print_json(manifest.model_dump(mode="json"))
        return
    m = manifest
    typer.echo(f"index:       {index or default_index_dir()}")
    typer.echo(f"built:       {m.created_at.isoformat()} by briefqa {m.briefqa_version} (format {m.format_version})")
    typer.echo(f"model:       {m.model.name} ({m.model.dimension} dimensions, sha256 {m.model.sha256 or '-'})")
    typer.echo(f"chunking:    {m.chunking.max_tokens} tokens, {m.chunking.overlap_tokens} overlap, "
               f"context: {', '.join(m.chunking.context) or 'none'}")
    typer.echo(f"faiss index: {m.faiss_index}")
    typer.echo(f"passages:    {m.passages} from {len(m.corpus)} briefings")
    typer.echo(f"size:        {sum(m.files.values()) / 1e6:.1f} MB")
    typer.echo(f"fingerprint: {m.fingerprint}")
    for briefing_id in sorted(m.corpus):
        typer.echo(f"  {briefing_id}")


def _open_index(index: Path | None):
    from briefqa.index import default_index_is_current, ensure_default_index, load_index

    if index is None and not default_index_is_current():
        typer.echo("Building the index for corpus/ (first use, or the corpus changed)...", err=True)
        callback, bar = _progress("Embedding passages")
        with bar:
            ensure_default_index(progress=callback)
    return load_index(index)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option(help="dense, bm25 or hybrid.")] = "hybrid",
    speaker: Annotated[Optional[str], typer.Option(help="Only this speaker (any part of the name).")] = None,
    role: Annotated[Optional[str], typer.Option(help="Only official, chair or reporter turns.")] = None,
    outlet: Annotated[Optional[str], typer.Option(help="Only this outlet's questions and their answers.")] = None,
    briefing: Annotated[Optional[str], typer.Option(help="Only this briefing id.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Held on or after this date (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Held on or before this date (YYYY-MM-DD).")] = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a question; get the passages that answer it, each cited.

    Example: briefqa ask "What did customs say about exotic pets?" -k 3 --since 2023-01-01
    """
    from pydantic import ValidationError

    if mode not in ("dense", "bm25", "hybrid"):
        _fail(f"--mode must be dense, bm25 or hybrid, not '{mode}'")
    if role is not None and role not in ("official", "chair", "reporter"):
        _fail(f"--role must be official, chair or reporter, not '{role}'")
    try:
        idx = _open_index(index)
        results = idx.search(question, k=k, mode=mode, speaker=speaker, role=role, outlet=outlet,
                             briefing=briefing, since=since, until=until)
    except ValidationError as err:
        _fail("; ".join(f"--{e['loc'][-1]}: {e['msg']}" for e in err.errors()))
    except _library_errors() as err:
        _fail(str(err))
    if as_json:
        _print_json({"query": question, "mode": mode, "results": [r.model_dump(mode="json") for r in results]})
        return
    _render_results(question, results)


def _render_results(question: str, results) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.text import Text

    console = Console()
    if not results:
        console.print("No passage matches these filters.")
        return
    for r in results:
        console.print(Text(f"{r.rank}. {r.citation}", style="bold"))
        if r.question:
            asked = " ".join(r.question.text.split())
            console.print(Text(f"   Q ({r.question.outlet}): {asked[:200]}{'...' if len(asked) > 200 else ''}", style="dim"))
        body = Text("   ")
        start = r.highlight_start - r.char_start
        end = r.highlight_end - r.char_start
        body.append(" ".join(r.text[:start].split()) + " " if start else "")
        body.append(" ".join(r.text[start:end].split()), style="bold yellow")
        body.append(" " + " ".join(r.text[end:].split()) if end < len(r.text) else "")
        console.print(body)
        console.print(Text(f"   [{r.passage_id}, chars {r.char_start}-{r.char_end}, score {r.score:.3f}]", style="dim"))
        console.print()
    del escape


@app.command("eval")
def eval_command(
    questions: Annotated[Optional[Path], typer.Option(help="Question set (default: eval/questions.jsonl).")] = None,
    index: IndexOpt = None,
    mode: Annotated[Optional[list[str]], typer.Option(help="dense, bm25, hybrid; repeat for several (default: all).")] = None,
    fail_under: Annotated[Optional[list[str]], typer.Option("--fail-under", help="A floor such as R@5=0.8, for every mode evaluated; repeatable.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score retrieval on a question set: R@1, R@5, R@10, MRR@10, nDCG@10, speaker@1 per mode.

    Lists the questions missed in the top 5 and exits 1 when a --fail-under floor is not met.

    Example: briefqa eval --mode hybrid --fail-under R@5=0.8 --fail-under MRR@10=0.6
    """
    from briefqa.evaluate import (
        DEFAULT_QUESTIONS, METRICS, EvalError, EvalReport, evaluate, failed_floors, load_questions,
        parse_floor, report_json,
    )
    from briefqa.settings import PROJECT_ROOT

    modes = mode or ["dense", "bm25", "hybrid"]
    for m in modes:
        if m not in ("dense", "bm25", "hybrid"):
            _fail(f"--mode must be dense, bm25 or hybrid, not '{m}'")
    questions_path = questions or (DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.exists() else PROJECT_ROOT / DEFAULT_QUESTIONS)
    try:
        floors = [parse_floor(spec) for spec in fail_under or []]
        question_set = load_questions(questions_path)
        idx = _open_index(index)
        reports = evaluate(idx, question_set, modes)
    except EvalError as err:
        _fail(str(err))
    except _library_errors() as err:
        _fail(str(err))
    report = EvalReport(questions_file=str(questions_path), index=str(idx.path),
                        question_count=len(question_set), modes=reports)
    if as_json:
        sys.stdout.write(report_json(report) + "\n")
    else:
        _render_eval(report, METRICS)
    failures = failed_floors(reports, floors)
    for line in failures:
        typer.echo(f"FAIL {line}", err=True)
    if failures:
        raise typer.Exit(1)


def _render_eval(report, metrics) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("mode", *metrics, title=f"{report.question_count} questions, {report.questions_file}")
    for m in report.modes:
        label = f"{m.mode} ({m.fusion})" if m.fusion else m.mode
        table.add_row(label, *(f"{m.aggregate[name]:.3f}" for name in metrics))
    console.print(table)
    for m in report.modes:
        missed = m.missed(5)
        console.print(f"\n[bold]{m.mode}: {len(missed)} question(s) missed in the top 5[/bold]")
        for q in missed:
            console.print(f"- {q.id} {q.question}", markup=False)
            console.print(f"    expected {q.expected_speaker}: {q.expected_quote[:100]}", markup=False)
            if q.top_text is not None:
                first = " ".join(q.top_text.split())[:100]
                console.print(f"    first    {q.top_speaker} ({q.top_passage_id}): {first}", markup=False)


def main() -> None:
    import os

    try:
        app()
    except Exception as err:  # a bug, not bad input: say so briefly, traceback on request
        if os.environ.get("BRIEFQA_DEBUG"):
            raise
        typer.echo(f"Error: unexpected {err.__class__.__name__}: {err}. "
                   "This is a bug in briefqa; rerun with BRIEFQA_DEBUG=1 for the traceback.", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
