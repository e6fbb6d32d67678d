"""The ``briefqa`` command: a thin layer over the library that renders its results.

Each command calls one library function. Heavy modules (FAISS, the embedder, the index) are
imported inside the commands so that ``briefqa --help`` stays quick; the choices offered come
from ``briefqa.choices``, the names the library itself uses. The filter options of ``ask`` are
made from ``briefqa.options.Filters`` (``filter_options``), so pydantic is imported with the CLI.
"""

from __future__ import annotations

import enum
import functools
import inspect
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, get_args

import typer
import typer.core

from briefqa.choices import (
    DEFAULT_FUSION,
    DEFAULT_MODE,
    DEFAULT_MODEL,
    Device,
    FaissKind,
    Fusion,
    Mode,
    OutputFormat,
    Role,
    Split,
)
from briefqa.output.progress import build_progress
from briefqa.terminal_text import command, escape_json, printable

app = typer.Typer(
    help="Ask questions of press-conference transcripts; get cited passages back.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
# Arguments are named by their metavar alone ("CORPUS..."), not followed by a Python type such as
# "<list[Path]>", which this version of typer prints and which means nothing to a reader.
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign,assignment]

index_app = typer.Typer(help="Build, extend and inspect an index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _print_version(value: bool) -> None:
    if value:
        from briefqa import __version__

        typer.echo(f"briefqa {__version__}")
        raise typer.Exit()


@app.callback()
def _options_of_briefqa(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print briefqa's version and exit."),
    ] = False,
) -> None:
    pass


# --- options shared by several commands ----------------------------------------------------

CorpusOpt = Annotated[
    Optional[list[Path]],
    typer.Option("--corpus", "-c", metavar="PATH", help="Transcript files or directories (default: corpus/)."),
]
IndexOpt = Annotated[
    Optional[Path], typer.Option("--index", "-i", metavar="DIR", help="Index directory (default: index/).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
EvalFormat = Literal["text", "json", "markdown"]
FusionOpt = Annotated[
    Fusion, typer.Option(help="Hybrid's fusion: weighted (min-max normalised scores) or rrf (reciprocal rank).")
]

# typer takes no list of Literal: the repeatable --mode of eval is an Enum of the same names.
ModeName = enum.Enum("ModeName", {m: m for m in get_args(Mode)}, type=str)  # type: ignore[misc]


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2023-03-20") from None


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command an option per field of ``briefqa.options.Filters``, in place of its
    ``filters`` parameter, which receives the Filters they make (values that make none, such as
    --since after --until, are an error naming the options).

    Each option is the field's name (``--since``), typed as the field is, its help the field's
    description, its placeholder the field's ``json_schema_extra`` metavar (else a date's is
    YYYY-MM-DD, a string's the field's name in capitals): a field added to Filters is an option of
    every command so decorated, its help written once, in the field."""
    from briefqa.options import Filters

    signature = inspect.signature(command, eval_str=True)
    kind = signature.parameters["filters"].kind
    generated = [
        inspect.Parameter(name, kind, default=None, annotation=_filter_option(name, field))
        for name, field in Filters.model_fields.items()
    ]
    parameters = [q for p in signature.parameters.values() for q in (generated if p.name == "filters" else [p])]

    @functools.wraps(command)
    def with_filters(**values: Any) -> Any:
        from pydantic import ValidationError

        try:
            filters = Filters(**{name: values.pop(name) for name in Filters.model_fields})
        except ValidationError as err:
            _fail(_options_error(err))
        return command(**values, filters=filters)

    # typer reads the options from the signature (and the type hints) of the function it is given.
    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_filters


def _filter_option(name: str, field: Any) -> Any:
    """The parameter type of one Filters field's option: Optional[its type], with typer's Option."""
    kinds = [t for t in get_args(field.annotation) if t is not type(None)] or [field.annotation]
    kind = kinds[0] if len(kinds) == 1 else field.annotation
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    option = typer.Option(
        f"--{name.replace('_', '-')}",
        help=field.description,
        metavar=extra.get("metavar") or {date: "YYYY-MM-DD", str: name.upper()}.get(kind),
        parser=_iso_date if kind is date else None,
    )
    return Annotated[Optional[kind], option]


def _say(message: str, err: bool = False) -> None:
    """A sentence for the reader, wrapped at word boundaries to the terminal's width."""
    from rich.console import Console

    Console(stderr=err, highlight=False).print(printable(message), markup=False, emoji=False)


def _echo(message: str, err: bool = False) -> None:
    """A line as it is (not wrapped), without the escape sequences a file name or transcript can hold."""
    typer.echo(printable(message), err=err)


def _fail(message: str, code: int = 1) -> None:
    # Not wrapped: error messages hold paths and commands that people copy.
    _echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _library_errors() -> tuple[type[Exception], ...]:
    """Library errors the user can act on."""
    from briefqa.indexing.embed import ModelError
    from briefqa.indexing.manifest import IndexLoadError
    from briefqa.indexing.writing import IndexWriteError

    return (IndexLoadError, IndexWriteError, ModelError, FileNotFoundError, ValueError)


def _search_options(mode: Mode, fusion: Fusion, filters: Any) -> Any:
    """The SearchOptions of ask and timeline, or a message in the CLI's option names."""
    from pydantic import ValidationError

    from briefqa.options import SearchOptions

    try:
        return SearchOptions(mode=mode, fusion=fusion, filters=filters)
    except ValidationError as err:
        _fail(_options_error(err))


def _options_error(err: Any) -> str:
    """A pydantic ValidationError of an options model, in the CLI's option names."""
    from briefqa.options import options_error

    return options_error(err, lambda name: "--" + name.replace("_", "-"))


def _print_json(data: Any) -> None:
    sys.stdout.write(escape_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n")


def _report_skipped(skipped: list[Any]) -> None:
    if skipped:
        typer.echo(f"Skipped {len(skipped)} file(s):", err=True)
        for item in skipped:
            _echo(f"  {item.message()}", err=True)


# --- briefings and show -------------------------------------------------------------------


def _load_corpus(paths: list[Path] | None) -> Any:
    from briefqa.reading.corpus import load_corpus

    try:
        corpus = load_corpus(paths)
    except FileNotFoundError as err:
        _fail(f"{err}. Pass transcript files or directories with --corpus.")
    _report_skipped(corpus.skipped)
    if not corpus.briefings:
        _fail("no transcript could be read" + (" (every file was skipped)" if corpus.skipped else " in those paths"))
    return corpus


@app.command()
def briefings(
    corpus: CorpusOpt = None,
    index: Annotated[
        Optional[Path],
        typer.Option("--index", "-i", metavar="DIR", help="List what this index holds instead of parsing transcripts."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List briefings: id, date held, title, turns and officials; of corpus/ (or --corpus) as
    parsed, or of an index (--index).

    Example: briefqa briefings --index index/ --json
    """
    from rich.console import Console
    from rich.table import Table

    from briefqa.records import BriefingSummary

    if corpus and index:
        _fail("give --corpus or --index, not both")
    if index:
        try:
            summaries = _open_index(index).briefings()
        except _library_errors() as err:
            _fail(str(err))
    else:
        summaries = [BriefingSummary.of(b) for b in _load_corpus(corpus).briefings]
    if as_json:
        _print_json([s.model_dump(mode="json") for s in summaries])
        return
    from rich.text import Text

    # Two columns, the second wrapping at words: a wide table of five columns was unreadable at
    # 80 columns (titles and names cut to a letter or two per line).
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for b in summaries:
        officials = ", ".join(o.name for o in b.officials) or "none named"
        details = Text()
        # An id a shell or a terminal would not take as it is, shown as the shell word that names
        # it ('a b;c', $'...'): pasted after 'briefqa show' it is that id.
        details.append(b.id if command(b.id) == b.id else command(b.id), style="bold")
        details.append(f"\n{printable(b.title)}\n")
        details.append(printable(f"{b.turn_count} turns; officials: {officials}"), style="dim")
        table.add_row(str(b.held_on or "date unknown"), details)
        table.add_row("", "")
    Console().print(table)


@app.command()
def speakers(
    index: IndexOpt = None,
    role: Annotated[Optional[Role], typer.Option(help="Only the names of this role.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List who speaks in an index: each name with its role, turns and briefings.

    These are the names 'ask --speaker' finds; a reporter's is the outlet the transcript labels
    the question with ('Reporter' where it names none), the names 'ask --outlet' finds.

    Example: briefqa speakers --role reporter
    """
    try:
        idx = _open_index(index)
        found = idx.speakers(role)
    except _library_errors() as err:
        _fail(str(err))
    if as_json:
        _print_json([s.model_dump(mode="json") for s in found])
        return
    if not found:
        _echo(f"No {role or 'speaker'} turns in {idx.path}.", err=True)
        return
    _echo(f"{'turns':>6}  {'briefings':>9}  {'role':<8}  name")
    for s in found:
        _echo(f"{s.turns:>6}  {s.briefings:>9}  {s.role:<8}  {s.name}")


@app.command()
def show(
    briefing_id: Annotated[
        str, typer.Argument(metavar="BRIEFING_ID", help="A briefing id, as results and 'briefqa briefings' give it.")
    ],
    turn: Annotated[
        Optional[int], typer.Option("--turn", "-t", min=1, metavar="N", help="Only this turn and the turns around it.")
    ] = None,
    context: Annotated[
        int, typer.Option(min=0, metavar="N", help="With --turn: how many turns before and after it.")
    ] = 2,
    index: IndexOpt = None,
    corpus: Annotated[
        Optional[list[Path]],
        typer.Option("--corpus", "-c", metavar="PATH", help="Parse these transcripts instead of reading an index."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a briefing turn by turn: all of it, or one turn with the turns around it (the
    question before an answer, the follow-up after).

    Example: briefqa show scio-2023-03-20-customs-safeguard-borders --turn 22
    """
    from rich.console import Console

    from briefqa.output.render import print_turns

    if corpus:
        found, where = _load_corpus(corpus).get(briefing_id), "those transcripts"
    else:
        try:
            idx = _open_index(index)
            found, where = idx.briefing(briefing_id), str(idx.path)
        except _library_errors() as err:
            _fail(str(err))
    if found is None:
        _fail(f"no briefing '{briefing_id}' in {where}. 'briefqa briefings' lists the ids.")
    turns = found.turns
    if turn is not None:
        if turn > len(turns):
            _fail(f"{briefing_id} has {len(turns)} turns; --turn must be 1 to {len(turns)}")
        turns = turns[max(turn - 1 - context, 0) : turn + context]
    if as_json:
        _print_json(
            found.model_dump(mode="json", exclude={"turns"}) | {"turns": [t.model_dump(mode="json") for t in turns]}
        )
        return
    print_turns(Console(highlight=False), found, turns, turn)


@app.command("inspect")
def inspect_command(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Transcript files to inspect.")],
    as_json: JsonOpt = False,
) -> None:
    """Show how transcript files are read: container and encoding, the reader and why, each
    speaker label with its role and turns, the date and where it came from, what was set aside
    (headers, footers, stage notes), and where every character went.

    Example: briefqa inspect corpus/scio-2023-03-20-customs-safeguard-borders.txt
    """
    from rich.console import Console

    from briefqa.output.render import print_inspection
    from briefqa.reading.inspect import inspect_file

    missing = [f for f in files if not f.exists()]
    if missing:
        _fail(f"{missing[0]}: no such file")
    inspections = [inspect_file(f) for f in files]
    if as_json:
        _print_json([i.model_dump(mode="json") for i in inspections])
    else:
        console = Console(highlight=False)
        for k, inspection in enumerate(inspections):
            if k:
                console.print()
            print_inspection(console, inspection)
    if any(i.error for i in inspections):
        raise typer.Exit(1)


# --- index ----------------------------------------------------------------------------------


def _render_report(report: Any) -> None:
    _report_skipped(report.skipped)
    if not report.written:
        _echo(f"{report.index}: unchanged ({report.passages} passages); nothing to do.")
        return
    parts = [
        f"{len(getattr(report, name))} {name}"
        for name in ("added", "replaced", "unchanged", "removed")
        if getattr(report, name)
    ]
    _echo(
        f"{report.index}: {report.passages} passages ({report.embedded} embedded, {report.reused} reused), "
        f"{report.sentences} sentences ({report.sentences_embedded} embedded); "
        f"briefings: {', '.join(parts)}; {report.seconds:.1f} s"
    )


@index_app.command("build")
def index_build(
    corpus: Annotated[
        Optional[list[Path]],
        typer.Argument(metavar="CORPUS", help="Transcript files or directories (default: corpus/)."),
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Index directory (default: index/).")
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            metavar="NAME", help="The packaged all-MiniLM-L6-v2, a sentence-transformers model directory, or 'hash'."
        ),
    ] = DEFAULT_MODEL,
    faiss_index: Annotated[
        FaissKind,
        typer.Option(
            "--faiss-index",
            help="auto: flat (exact) below 200,000 passages, ivf (approximate) from there; or flat, hnsw or ivf.",
        ),
    ] = "auto",
    device: Annotated[
        Device,
        typer.Option(
            help="Embed on the CPU (ONNX Runtime) or on an NVIDIA GPU (cuda: torch with CUDA). The index is the same "
            "to float tolerance; queries are encoded on the CPU either way.",
        ),
    ] = "cpu",
    on_ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Read and embed on Ray: parsing as tasks, embedding in a pool of workers holding the model's ONNX "
            "export. On this machine, or on the cluster that --ray-address or RAY_ADDRESS names. The index is the "
            "same. Needs the ray extra (docs/scale.md).",
        ),
    ] = False,
    ray_address: Annotated[
        Optional[str],
        typer.Option(
            metavar="ADDRESS",
            help="With --ray: the Ray cluster to run on, as its head's HOST:6379, or 'auto' for one started on this "
            "machine with `ray start`. Default: RAY_ADDRESS, else a Ray started on this machine for the build.",
        ),
    ] = None,
    ray_workers: Annotated[
        Optional[int],
        typer.Option(
            min=1, metavar="K", help="With --ray: encoder workers, one CPU each (default: one per CPU of the cluster)."
        ),
    ] = None,
) -> None:
    """Build an index from transcripts. Unchanged passages keep their vectors.

    Example: briefqa index build corpus/ --out index/
    """
    from contextlib import nullcontext

    from briefqa.indexing.build import LocalRunner, build_index
    from briefqa.options import BuildOptions

    if not on_ray and (ray_address is not None or ray_workers is not None):
        _fail("--ray-address and --ray-workers go with --ray: add --ray to build on Ray")
    if on_ray and device != "cpu":
        _fail(f"--ray embeds on the workers' CPUs: leave out --device {device}, or build without --ray")
    options = BuildOptions(model=model, faiss_index=faiss_index)
    errors = _library_errors()
    runner: Any = LocalRunner(device)
    if on_ray:
        try:
            from briefqa.indexing.ray_build import RayBuildError, RayRunner

            runner = RayRunner(ray_address, ray_workers)
        except ImportError:
            _fail("--ray needs Ray, which is not installed here: pip install 'briefqa[ray]'")
        errors = (*errors, RayBuildError)
    callback, bar = build_progress()
    try:
        with runner if on_ray else nullcontext(), bar:  # a Ray started for the build is stopped after it
            report = build_index(corpus, out, options, progress=callback, runner=runner)
    except errors as err:
        _fail(str(err))
    _render_report(report)


@index_app.command("add")
def index_add(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Transcript files (or directories) to add.")],
    index: IndexOpt = None,
) -> None:
    """Add transcripts to an index, embedding only what is new; a changed file replaces its passages.

    Example: briefqa index add new-briefing.txt --index index/
    """
    from briefqa.indexing.build import add_to_index

    callback, bar = build_progress()
    try:
        with bar:
            report = add_to_index(files, index, progress=callback)
    except _library_errors() as err:
        _fail(str(err))
    _render_report(report)


@index_app.command("verify")
def index_verify(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Check a whole index: every file against its recorded digest, every passage against its
    transcript, every vector. Exits 1, with the command that rebuilds it, when anything is wrong.

    Example: briefqa index verify --index index/
    """
    from briefqa.indexing.verify import verify_index
    from briefqa.paths import default_index_dir

    report = verify_index(index or default_index_dir())
    if as_json:
        _print_json(report.model_dump(mode="json"))
    elif report.ok:
        _echo(
            f"{report.index}: sound ({report.files} files, {report.passages} passages and {report.vectors} vectors "
            "checked)"
        )
    else:
        for problem in report.problems:
            _echo(f"{report.index}: {problem}", err=True)
        if report.rebuild:
            _echo(f"Rebuild it with: {report.rebuild}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@index_app.command("info")
def index_info(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show what an index's manifest says: model, settings, corpus, size.

    Example: briefqa index info --index index/
    """
    from briefqa.indexing.manifest import read_manifest
    from briefqa.paths import default_index_dir

    path = index or default_index_dir()
    try:
        m = read_manifest(path)
    except _library_errors() as err:
        _fail(str(err))
    if as_json:
        _print_json(m.model_dump(mode="json"))
        return
    _echo(f"index:       {path}")
    _echo(f"built:       {m.created_at.isoformat()} by briefqa {m.briefqa_version} (format {m.format_version})")
    _echo(f"model:       {m.model.name} ({m.model.dimension} dimensions, sha256 {m.model.sha256 or '-'})")
    _echo(
        f"chunking:    {m.chunking.max_tokens} tokens, {m.chunking.overlap_tokens} overlap, "
        f"context: {', '.join(m.chunking.context) or 'none'}"
    )
    _echo(f"faiss index: {m.faiss_index}")
    _echo(f"passages:    {m.passages} from {len(m.corpus)} briefings")
    _echo(f"built from:  {', '.join(m.corpus_paths) or '?'}")
    _echo(f"size:        {sum(m.files.values()) / 1e6:.1f} MB")
    _echo(f"fingerprint: {m.fingerprint}")
    for briefing_id in sorted(m.corpus):
        _echo(f"  {briefing_id}")


def _open_index(index: Path | None) -> Any:
    """The index named, or the default one, built from corpus/ first when it is missing or stale
    (``briefqa.open_index``), with the build's progress shown."""
    from briefqa.default_index import open_index

    callback, bar = build_progress()
    with bar:
        return open_index(index, progress=callback, notify=lambda message: _echo(message, err=True))


# --- ask ------------------------------------------------------------------------------------


@app.command()
@filter_options
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question, in your own words.")],
    k: Annotated[int, typer.Option("-k", min=1, metavar="N", help="How many results (each a different turn).")] = 5,
    mode: Annotated[Mode, typer.Option(help="dense (meaning), bm25 (words), or hybrid (both).")] = DEFAULT_MODE,
    fusion: FusionOpt = DEFAULT_FUSION,
    filters: Any = None,  # an option per field of Filters: --speaker, --role, ... (filter_options)
    index: IndexOpt = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format", help="text for reading, markdown quote blocks to paste, csv rows, or json for programs."
        ),
    ] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
) -> None:
    """Ask a question; get the sentences that answer it, then the turns they come from, cited.

    Example: briefqa ask "What did customs say about exotic pets?" -k 3 --since 2023-01-01
    """

    from briefqa.output import render

    output = "json" if as_json else output
    options = _search_options(mode, fusion, filters)
    try:
        idx = _open_index(index)
        results = idx.search(question, k=k, options=options)
    except _library_errors() as err:
        _fail(str(err))
    if not results:
        advice = (
            "Loosen or correct the filters"
            if filters.active()
            else "Try other words, or check the index with 'briefqa index verify'"
        )
        _fail(f"{idx.why_nothing_matches(options)}. {advice}.")
    if output == "json":
        _print_json(render.to_json(question, mode, results, results.good_match))
    elif output == "csv":
        sys.stdout.write(render.to_csv(results))
    elif output == "markdown":
        sys.stdout.write(render.to_markdown(question, results, results.good_match))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        if not results.good_match:
            best = max(r.confidence for r in results)
            _say(
                f"No answer here: nothing in {idx.path} answers this question (best confidence {best:.2f}). "
                "Try other words or fewer filters."
            )
            _say(render.NEAREST + "\n")
        render.print_text(console, results, index)


# --- timeline -------------------------------------------------------------------------------

TIMELINE_COLUMNS = 6  # the biggest groups shown as columns; the rest summed as "others"


@app.command()
@filter_options
def timeline(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question or topic, in your own words.")],
    k: Annotated[int, typer.Option("-k", min=1, metavar="N", help="How many best-matching turns to count.")] = 100,
    by: Annotated[Literal["month", "week"], typer.Option(help="Count per month, or per ISO week.")] = "month",
    split: Annotated[
        Literal["speaker", "role", "collection"], typer.Option(help="Split each period's count by this.")
    ] = "speaker",
    mode: Annotated[Mode, typer.Option(help="dense (meaning), bm25 (words), or hybrid (both).")] = DEFAULT_MODE,
    fusion: FusionOpt = DEFAULT_FUSION,
    filters: Any = None,  # an option per field of Filters: --speaker, --role, ... (filter_options)
    index: IndexOpt = None,
    plot: Annotated[
        Optional[Path],
        typer.Option(metavar="FILE", help="Also write a stacked bar chart: FILE.svg or FILE.png (the plot extra)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """When a question came up: the turns that match it best, counted per month (or week) and split
    by speaker (or role, or source).

    Example: briefqa timeline "exotic pets" --by week --split role --plot pets.svg
    """

    from briefqa.searching.timeline import PLOT_SUFFIXES, save_chart, timeline_of

    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        _fail(f"--plot {plot}: a chart is written as .svg or .png, not '{plot.suffix or 'no suffix'}'")
    options = _search_options(mode, fusion, filters)
    try:
        idx = _open_index(index)
        made = timeline_of(idx, question, k=k, options=options, by=by, split=split)
    except _library_errors() as err:
        _fail(str(err))
    if not made.turns:
        _fail(f"{idx.why_nothing_matches(options)}. Loosen or correct the filters, or try other words.")
    if plot is not None:
        try:
            save_chart(made, plot)
        except ImportError:
            _fail("--plot needs matplotlib: pip install 'briefqa[plot]'")
        except OSError as err:
            _fail(f"{plot}: cannot be written ({err.strerror})")
    if as_json:
        _print_json(made.model_dump(mode="json"))
    else:
        _print_timeline(made)
    if plot is not None:
        _echo(f"Wrote the chart to {plot}", err=True)


def _print_timeline(made: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    shown = made.groups[:TIMELINE_COLUMNS]
    others = len(made.groups) > TIMELINE_COLUMNS
    table = Table(show_footer=True)
    table.add_column(made.by, footer="total")
    totals = made.totals()
    for group in shown:
        table.add_column(Text(printable(group)), justify="right", footer=str(totals[group]))  # not markup
    if others:
        table.add_column("others", justify="right", footer=str(sum(totals[g] for g in made.groups[len(shown) :])))
    table.add_column("total", justify="right", footer=str(made.turns))
    for p in [*made.periods, *([made.undated] if made.undated else [])]:
        cells = [str(p.counts.get(g, 0)) for g in shown]
        if others:
            cells.append(str(p.total - sum(p.counts.get(g, 0) for g in shown)))
        table.add_row(p.label, *cells, str(p.total))
    console = Console(highlight=False)
    console.print(table)
    _say(
        f"Counted: the {made.turns} turns that match best (-k {made.k}), by {made.by} and {made.split}"
        + (f"; {made.undated.total} of undated briefings as 'date unknown'." if made.undated else ".")
    )


# --- eval -----------------------------------------------------------------------------------


@app.command("eval")
def eval_command(
    questions: Annotated[
        Optional[list[Path]],
        typer.Option(metavar="FILE", help="Question set (default: eval/questions.jsonl); repeat to join several."),
    ] = None,
    index: IndexOpt = None,
    mode: Annotated[
        Optional[list[ModeName]],
        typer.Option(metavar="MODE", help="dense, bm25 or hybrid; repeat for several (default: all)."),
    ] = None,
    fusion: FusionOpt = DEFAULT_FUSION,
    split: Annotated[
        Optional[Split],
        typer.Option(help="Score one half of the set: tune (looked at to choose levers) or test (held out)."),
    ] = None,
    fail_under: Annotated[
        Optional[list[str]],
        typer.Option(
            "--fail-under",
            metavar="METRIC=VALUE",
            help="A floor such as Success@5=0.9, for every mode evaluated; repeatable.",
        ),
    ] = None,
    save_baseline: Annotated[
        Optional[Path], typer.Option(metavar="FILE", help="Save this run's scores, to compare later runs with.")
    ] = None,
    baseline: Annotated[
        Optional[Path],
        typer.Option(
            metavar="FILE", help="Fail when a metric fell by more than --tolerance, or a question that passed fails."
        ),
    ] = None,
    tolerance: Annotated[
        float, typer.Option(min=0.0, metavar="X", help="With --baseline: how far a metric may fall.")
    ] = 0.01,
    junit: Annotated[
        Optional[Path], typer.Option(metavar="FILE", help="Also write JUnit XML: a test case per question.")
    ] = None,
    output: Annotated[
        EvalFormat, typer.Option("--format", help="text, json, or markdown (for a CI job's summary page).")
    ] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
) -> None:
    """Score retrieval on a question set: Success@1/5/10, R@5, MRR@10, nDCG@10, speaker@1 per mode.

    Lists the questions missed in the top 5, and exits 1 when a --fail-under floor is not met or
    a --baseline run did better.

    Example: briefqa eval --mode hybrid --fail-under Success@5=0.9 --baseline eval/baseline.json
    """
    from briefqa.evaluation.evaluate import (
        METRICS,
        EvalError,
        EvalReport,
        check_report_file,
        corpus_digest,
        default_questions,
        evaluate,
        failed_floors,
        load_questions,
        load_report,
        parse_floor,
        questions_digest,
        regressions,
        report_json,
        report_junit,
        report_markdown,
        select_split,
        setting_differences,
    )
    from briefqa.options import SearchOptions

    modes = [m.value for m in mode] if mode else list(get_args(Mode))
    variants = [SearchOptions(mode=m, fusion=fusion) for m in modes]
    question_files = questions or [default_questions()]
    try:
        floors = [parse_floor(spec) for spec in fail_under or []]
        if save_baseline and junit and save_baseline.resolve() == junit.resolve():
            raise EvalError(f"{junit}: is given to both --save-baseline and --junit; give each its own file")
        if save_baseline:
            check_report_file(save_baseline, "baseline", question_files)
        if junit:
            check_report_file(junit, "junit", question_files)
        before = load_report(baseline) if baseline else None
        question_set = select_split(load_questions(*question_files), split)
        idx = _open_index(index)
        reports = evaluate(idx, question_set, variants)
    except EvalError as err:
        _fail(str(err))
    except _library_errors() as err:
        _fail(str(err))
    report = EvalReport(
        questions_file=", ".join(map(str, question_files)),
        split=split,
        index=str(idx.path),
        question_count=len(question_set),
        modes=reports,
        build=idx.manifest.build_options(),
        corpus_sha256=corpus_digest(idx.manifest.corpus),
        questions_sha256=questions_digest(question_set),
        index_fingerprint=idx.manifest.fingerprint,
    )
    if before:
        if differences := setting_differences(report, before):
            _fail(
                f"{baseline}: this run's settings differ from the baseline's, so their scores cannot be compared:\n  "
                + "\n  ".join(differences)
                + "\nRun with the baseline's settings, or save a new baseline with --save-baseline."
            )
        if before.build is None:
            typer.echo(
                f"Note: {baseline} predates briefqa keeping the index's settings and the questions' digest; "
                "only its modes and question ids were checked. Save it again to check them all.",
                err=True,
            )
    failures = failed_floors(reports, floors) + (regressions(report, before, tolerance) if before else [])
    output = "json" if as_json else output
    if output == "json":
        sys.stdout.write(report_json(report) + "\n")
    elif output == "markdown":
        sys.stdout.write(report_markdown(report, failures))
    else:
        from rich.console import Console

        from briefqa.output.eval_table import print_eval

        print_eval(Console(), report, METRICS)
    if save_baseline:
        _write_atomically(save_baseline, report_json(report) + "\n")
    if junit:
        _write_atomically(junit, report_junit(report))
    for line in failures:
        _echo(f"FAIL {line}", err=True)
    if failures:
        raise typer.Exit(1)


@app.command()
def serve(
    index: IndexOpt = None,
    host: Annotated[
        str,
        typer.Option(
            metavar="HOST", help="Address to listen on; any but localhost lets others on the network read the index."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, metavar="PORT", help="Port to listen on.")] = 8000,
) -> None:
    """Serve a local, read-only web app over an index: search with quotes to copy, each briefing turn
    by turn, and a JSON API (docs/web.md). Needs the web extra.

    Example: briefqa serve --index index --port 8000
    """
    try:
        import uvicorn

        from briefqa.web.app import LOCAL_HOSTS, create_app
    except ImportError:
        _fail("briefqa serve needs the web extra: pip install 'briefqa[web]'")
    try:
        idx = _open_index(index)
    except _library_errors() as err:
        _fail(str(err))
    if host not in ("127.0.0.1", "localhost", "::1"):
        _echo(f"Warning: listening on {host}: anyone who can reach this machine can read the index.", err=True)
    _echo(f"Serving {idx.path} at http://{host}:{port}/ (read-only; Ctrl-C stops it)", err=True)
    # Bound to all addresses, any name the machine has is fair; else localhost's names and the one given.
    hosts = ["*"] if host in ("0.0.0.0", "::") else [*LOCAL_HOSTS, host]
    uvicorn.run(create_app(idx, hosts), host=host, port=port, log_level="warning")


def _write_atomically(path: Path, text: str) -> None:
    """A whole file or the old one: a killed run never leaves half a baseline."""
    from briefqa.indexing.writing import write_text_atomically

    try:
        write_text_atomically(path, text)
    except OSError as err:
        _fail(f"{path}: cannot be written ({err.strerror})")


def main() -> None:
    import logging
    import os

    # The library logs what a user should see while it works (a writer waiting for another).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("briefqa: %(message)s"))
    logging.getLogger("briefqa").addHandler(handler)
    try:
        app()
    except OSError as err:  # the machine refused (a full disk, a closed pipe): not a bug in briefqa
        if os.environ.get("BRIEFQA_DEBUG"):
            raise
        where = f"{err.filename}: " if err.filename else ""
        _echo(f"Error: {where}{err.strerror or err}; check the disk, the path and its permissions.", err=True)
        sys.exit(1)
    except Exception as err:  # a bug, not bad input: say so briefly, traceback on request
        if os.environ.get("BRIEFQA_DEBUG"):
            raise
        _echo(
            f"Error: unexpected {err.__class__.__name__}: {err}. "
            "This is a bug in briefqa; rerun with BRIEFQA_DEBUG=1 for the traceback.",
            err=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
