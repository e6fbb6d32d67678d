"""How results read: the answer first, then its sources, each cited.

As text for a terminal (``print_text``), Markdown quote blocks to paste into an article or notes
(``to_markdown``), CSV rows for a spreadsheet (``to_csv``) and JSON for programs (``to_json``).
Everything shown is the transcript's own text: the answer is the results' answering sentences,
never new words. Text for a terminal and Markdown is ``printable`` (escape sequences and control
characters removed), CSV cells cannot start a spreadsheet formula, and the commands printed are
shell-quoted: a transcript's text is data, never instructions to a terminal, spreadsheet or shell.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from briefqa.reading.sentences import sentence_spans
from briefqa.records import speaker_caption, speaker_people
from briefqa.searching.cite import GOOD_MATCH, SearchResult
from briefqa.terminal_text import command, printable

# Transcripts published as Markdown escape brackets and stars ("\[moderator\]"); a reader wants
# the characters. Offsets and JSON keep the transcript's text as it is.
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")
_PARAGRAPH = re.compile(r"\n\s*\n|(?<=[.!?\"”])[ \t]*\n")  # a blank line, or a line ending a sentence
QUESTION_CHARS = 160  # a reporter's question is cut here (at a sentence or word end)
EXCERPT_CHARS = 600  # longer passages show the answering sentence with a sentence either side
ANSWER_SENTENCES = 2
MORE_PARTS_LISTED = 5
HIGHLIGHT = "bold yellow"
PLAIN_MARK = "**"  # the answering sentence's marker where there is no colour (piped, NO_COLOR)


def plain(text: str) -> str:
    """Transcript text for reading: Markdown escapes and control characters removed, white space
    collapsed."""
    return " ".join(_ESCAPE.sub(r"\1", printable(text)).split())


def shorten(text: str, limit: int, language: str = "en") -> str:
    """``text`` cut to ``limit`` characters at a sentence end (or else a word end), marked '…'."""
    if len(text) <= limit:
        return text
    ends = [end for _, end in sentence_spans(text, language) if end <= limit - 2]
    if ends and ends[-1] >= limit // 2:
        return text[: ends[-1]] + " …"
    head = text[: limit - 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(",;:—-") + "…"


def speaker(r: SearchResult) -> str:
    """The speaker as the transcript labels them, with the full name the label stands for, their
    title, or a reporter's outlet, where the transcript gives them (printable): 'PM (Jane Roe), Prime
    Minister', 'Ann Li (Reuters)'."""
    shown = r.speaker + (f" ({r.speaker_name})" if r.speaker_name else "") + (f" ({r.outlet})" if r.outlet else "")
    return printable(f"{shown}, {r.speaker_title}" if r.speaker_title else shown)


def long_date(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "date unknown"


def answer(results: list[SearchResult]) -> list[tuple[str, int]]:
    """The sentences that best answer, with the rank of the result each comes from: the top
    results' answering sentences, while they are good matches. Empty when none is."""
    sentences: list[tuple[str, int]] = []
    for r in results:
        if r.confidence < GOOD_MATCH or len(sentences) == ANSWER_SENTENCES:
            break
        text = plain(r.highlight)
        if text not in (s for s, _ in sentences):
            sentences.append((text, r.rank))
    return sentences


def excerpt(r: SearchResult) -> tuple[str, str, str]:
    """(before, answering sentence, after) of a result's passage; a long passage is cut to a
    sentence either side of the answering one."""
    start, end = r.highlight_start - r.char_start, r.highlight_end - r.char_start
    before, hit, after = plain(r.text[:start]), plain(r.text[start:end]), plain(r.text[end:])
    if len(before) + len(hit) + len(after) > EXCERPT_CHARS:
        preceding = sentence_spans(before, r.language)
        before = "… " + before[preceding[-1][0] :] if len(preceding) >= 2 else before
        following = sentence_spans(after, r.language)
        after = after[: following[0][1]] + " …" if len(following) >= 2 else after
    return before, hit, after


def more_parts(r: SearchResult) -> str:
    """'parts 3 and 5' of the turn, for the turn's other matching passages."""
    parts = sorted((m.passage_id.rsplit(".", 1)[-1] for m in r.more), key=lambda p: int(p) if p.isdigit() else 0)
    if len(parts) == 1:
        return f"part {parts[0]}"
    return "parts " + ", ".join(parts[:-1]) + " and " + parts[-1]


NO_ANSWER = "No answer here: nothing in the index answers this question."
NEAREST = "The nearest passages, not an answer:"


def to_json(query: str, mode: str, results: list[SearchResult], good_match: bool) -> dict[str, Any]:
    """The results as ``ask --json`` gives them; without a good match, ``no_answer`` says so and the
    results are the nearest passages, not an answer."""
    return {
        "query": query,
        "mode": mode,
        "good_match": good_match,
        "no_answer": None if good_match else f"{NO_ANSWER} The results are the nearest passages, not an answer.",
        "answer": [{"text": text, "result": rank} for text, rank in answer(results)],
        "results": [r.model_dump(mode="json") for r in results],
    }


def _md(text: str) -> str:
    """Text escaped for Markdown, control characters removed first (an escape sequence's
    bracket escaped would leave the rest of it behind)."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", printable(text))


def _nested(quote: str) -> str:
    """Double quotes inside a quotation become single ones: '"exotic pets"' inside "..."."""
    return quote.replace('"', "'").replace("“", "‘").replace("”", "’")


def markdown_citation(r: SearchResult) -> str:
    """Who, which briefing, when, which turn; the briefing a link to its page where the transcript
    names one (escaped: a URL is the transcript's text too)."""
    title = _md(r.briefing_title)
    if r.source_url and re.match(r"https?://[^\s()<>]+$", r.source_url):
        title = f"[{title}](<{r.source_url}>)"
    return f"{_md(speaker(r))}, {title}, {_md(long_date(r.held_on))} (turn {r.turn_index})"


def to_markdown(query: str, results: list[SearchResult], good_match: bool) -> str:
    """The answer, then a quote block per result, ready to paste (printable: no control
    characters)."""
    return printable(_markdown(query, results, good_match))


def _markdown(query: str, results: list[SearchResult], good_match: bool) -> str:
    lines = [f"**Q:** {_md(query)}", ""]
    if good_match:
        sentences = answer(results)
        lines += ["**A:** " + " ".join(f"{_md(text)} [{rank}]" for text, rank in sentences), ""]
    else:
        lines += [f"**{NO_ANSWER}** {NEAREST}", ""]
    for r in results:
        lines.append(f'> **[{r.rank}]** "{_md(_nested(plain(r.highlight)))}" — {markdown_citation(r)}')
        lines.append("")
    return "\n".join(lines)


CSV_COLUMNS = [
    "rank", "speaker", "speaker_title", "role", "held_on", "briefing_id", "briefing_title", "turn", "passage_id",
    "char_start", "char_end", "confidence", "highlight", "text", "question_outlet", "question", "more_passages",
    "speaker_name", "outlet", "source_url", "collection", "is_answer",
]  # fmt: skip


# A spreadsheet takes a cell starting with one of these for a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Every column but the numbers we write ourselves.
_CSV_TEXT = {
    c
    for c in CSV_COLUMNS
    if c not in ("rank", "turn", "char_start", "char_end", "confidence", "more_passages", "is_answer")
}


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: control characters but newline and tab removed,
    and a leading ' where it would start a formula (=, +, -, @, tab, carriage return)."""
    text = printable(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(results: list[SearchResult]) -> str:
    """One row per result. Text cells are the transcript's text made safe for a spreadsheet
    (``csv_cell``: control characters removed, a ' before a cell that would be a formula), so
    char_start and char_end refer to the raw text that ``--format json`` gives, not always to the
    highlight and text cells here (nor is a cleaned briefing id always the raw one). Numbers
    (rank, turn, offsets, confidence) are written as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        row = [
            r.rank, r.speaker, r.speaker_title or "", r.role, r.held_on or "", r.briefing_id, r.briefing_title,
            r.turn_index, r.passage_id, r.char_start, r.char_end, f"{r.confidence:.4f}", r.highlight, r.text,
            r.question.outlet if r.question else "", r.question.text if r.question else "", len(r.more),
            r.speaker_name or "", r.outlet or "", r.source_url or "", r.collection,
            "yes" if r.confidence >= GOOD_MATCH else "no",
        ]  # fmt: skip
        writer.writerow(
            [csv_cell(str(v)) if name in _CSV_TEXT else v for name, v in zip(CSV_COLUMNS, row, strict=True)]
        )
    return out.getvalue()


def fit(text: str, width: int) -> str:
    """One line of at most ``width`` characters, cut at a word end: a citation never wraps."""
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:·— ") + "…"


def print_wrapped(console: Any, text: Any, indent: int = 4, first: int | None = None) -> None:
    """Rich ``text`` wrapped at word ends, indented (the first line by ``first``, if given), with
    no trailing spaces: piped text gets pasted."""
    from rich.text import Text

    for number, wrapped in enumerate(text.wrap(console, console.width - indent)):
        wrapped.rstrip()
        margin = first if number == 0 and first is not None else indent
        console.print(Text(" " * margin) + wrapped, no_wrap=True, overflow="ignore", crop=False)


def print_turns(console: Any, briefing: Any, turns: list[Any], focus: int | None = None) -> None:
    """A briefing's heading, then the turns given, each under its speaker (with title) and role;
    the ``focus`` turn's label stands out."""
    from rich.text import Text

    people = speaker_people(briefing.officials, briefing.chair)
    console.print(Text(printable(briefing.title), style="bold"))
    console.print(Text(f"held {briefing.held_on or '?'} · published {briefing.published_on or '?'}", style="dim"))
    console.print(Text(printable(briefing.source), style="dim"), overflow="fold")
    for t in turns:
        answers = f" · answers turn {t.answers_turn}" if t.answers_turn is not None else ""
        who = printable(speaker_caption(t.speaker, people.get(t.speaker)))
        marker = " ◀" if t.index == focus and not (console.is_terminal and not console.no_color) else ""
        console.print()
        label = Text(f"[{t.index}] {who}", style="bold reverse" if t.index == focus else "bold")
        print_wrapped(console, label + Text(f" · {t.role}{answers}{marker}", style="dim"), first=0)
        for paragraph in _PARAGRAPH.split(t.text):
            if paragraph.strip():
                print_wrapped(console, Text(plain(paragraph)))


def print_text(console: Any, results: list[SearchResult], index: Path | str | None = None) -> None:
    """The answer, then each result: who (with title), where and when, the question it answers,
    the passage with its answering sentence marked, where else in the turn it matched, and the
    command that reads around it, shell-quoted (with ``--index index`` where one is given)."""
    from rich.text import Text

    width = console.width
    marked = console.is_terminal and not console.no_color

    def block(text: Text) -> None:
        print_wrapped(console, text)

    def line(text: str, style: str = "") -> None:
        console.print(Text(fit(printable(text), width), style=style), no_wrap=True, overflow="ellipsis")

    sentences = answer(results)
    if sentences:  # none when the first result is not a good match, though a later one is
        line("Answer", "bold")
        body = Text()
        for text, rank in sentences:
            body.append(text)
            body.append(f" [{rank}] ", style="bold")
        block(body)
        console.print()
    for r in results:
        line(f"[{r.rank}] {speaker(r)}", "bold")
        where = f" · {r.held_on or 'date unknown'} · turn {r.turn_index} · confidence {r.confidence:.2f}"
        line("    " + fit(printable(r.briefing_title), max(width - 4 - len(where), 12)) + where, "dim")
        if r.source_url:  # on a line of its own, whole: a URL cut short leads nowhere
            console.print(
                Text("    " + printable(r.source_url), style="dim"), no_wrap=True, overflow="ignore", crop=False
            )
        if r.question:
            asked = shorten(plain(r.question.text), QUESTION_CHARS, r.language)
            block(Text(f"Q ({printable(r.question.outlet)}): {asked}", style="dim italic"))
        before, hit, after = excerpt(r)
        passage = Text()
        passage.append(before + " " if before else "")
        passage.append(hit if marked else f"{PLAIN_MARK}{hit}{PLAIN_MARK}", style=HIGHLIGHT if marked else "")
        passage.append(" " + after if after else "")
        block(passage)
        if r.more:
            noun = "passage" if len(r.more) == 1 else "passages"
            parts = f" ({more_parts(r)})" if len(r.more) <= MORE_PARTS_LISTED else ""
            line(f"    also matched: {len(r.more)} more {noun} of this turn{parts}", "dim")
        # One line, however long: a command broken inside an id cannot be pasted back.
        index_words = ["--index", index] if index else []
        options = ["--turn", r.turn_index, *index_words]
        if r.briefing_id.startswith("-"):  # it would read as an option: after '--' it is an argument
            show = "    " + command("briefqa", "show", *options, "--", r.briefing_id)
        else:
            show = "    " + command("briefqa", "show", r.briefing_id, *options)
        console.print(Text(show, style="dim"), no_wrap=True, overflow="ignore", crop=False)
        console.print()


def print_inspection(console: Any, inspection: Any) -> None:
    """How a file was read (``briefqa.reading.inspect.Inspection``), for a person to check."""
    from rich.text import Text

    def line(label: str, value: Any) -> None:
        print_wrapped(console, Text(f"{label:<11} ", style="bold") + Text(printable(str(value))), first=0)

    console.print(Text(printable(inspection.path), style="bold"), overflow="fold")
    if inspection.error:
        line("cannot read", inspection.error)
        return
    line("container", f"{inspection.container}, {inspection.encoding}")
    line("reader", f"{inspection.reader}: {inspection.reader_why}")
    line("title", inspection.title)
    line("date", f"{inspection.held_on} (from {inspection.date_from})" if inspection.held_on else "none found")
    line("language", inspection.language)
    if inspection.source_url:
        line("source", inspection.source_url)
    console.print()
    console.print(Text(f"Speakers ({len(inspection.labels)})", style="bold"))
    for label in inspection.labels:
        who = label.speaker + (f" = {label.name}" if label.name else "") + (f", {label.title}" if label.title else "")
        where = Text(f"  {label.role} · line {label.first_line}", style="dim")
        print_wrapped(console, Text(f"{label.turns:>5}  ") + Text(printable(who)) + where, first=0)
    if inspection.reporters:
        print_wrapped(
            console, Text("Reporters named: ", style="bold") + Text(printable(", ".join(inspection.reporters)))
        )
    console.print()
    console.print(Text("Set aside", style="bold"))
    for group in inspection.set_aside:
        print_wrapped(console, Text(f"{group.count:>5}  {group.kind}: {group.why}"), first=0)
        for example in group.examples:
            print_wrapped(console, Text(printable(example), style="dim"), first=9)
    a = inspection.accounting
    if a:
        console.print()
        print_wrapped(
            console,
            Text("Characters ", style="bold")
            + Text(f"{a.total:,}: {a.in_turns:,} in turns ({a.unattributed:,} unattributed), {a.labels:,} labels, "
                   f"{a.metadata:,} metadata, {a.furniture:,} furniture, {a.whitespace:,} white space, "
                   f"{a.not_read:,} not read"),
            first=0,
        )  # fmt: skip
    for note in inspection.notes:
        print_wrapped(console, Text("note: ", style="yellow") + Text(printable(note)), first=0)
