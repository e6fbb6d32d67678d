"""The web app: a search page, a page per briefing and a JSON API, over one index loaded at start.

Read-only by construction: every route is GET (anything else is 405), the index directory is fixed
when the app is made and a briefing id is only ever looked up in the index, never used as a path.
Transcript text reaches HTML only through Jinja2 with autoescape on, and pages carry a Content
Security Policy that runs no script but the page's own (a nonce), so a transcript cannot script
the page even were something to slip through.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast, get_args
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from briefqa.choices import DEFAULT_FUSION, DEFAULT_MODE, Mode, Role
from briefqa.indexing.manifest import IndexLoadError
from briefqa.options import Filters, SearchOptions, options_error
from briefqa.output import render
from briefqa.reading.passages import unwrapped
from briefqa.records import Briefing, speaker_caption, speaker_people
from briefqa.searching.cite import SearchResult, SearchResults
from briefqa.searching.index import Index, load_index
from briefqa.searching.timeline import By, SplitBy, Timeline, timeline
from briefqa.terminal_text import printable

MAX_K = 50  # a page of results; more is a program's job (the library)
TIMELINE_K = 100  # the turns a timeline counts by default
MAX_TIMELINE_K = 500
TIMELINE_GROUPS = 8  # the biggest groups drawn in a colour each; the rest as "others"
COLOURS = ("#1f5fae", "#d9822b", "#2e8b57", "#b33a3a", "#7b5ea7", "#8c6d1f", "#cc5599", "#3a9ca6")
OTHERS_COLOUR = "#9aa3ad"
SPLIT_FILTER = {"speaker": "speaker", "role": "role", "collection": "collection"}
MODES: tuple[str, ...] = get_args(Mode)
ROLES: tuple[str, ...] = get_args(Role)
_HIGHLIGHT = re.compile(r"(\d{1,12})-(\d{1,12})")  # bounded: int() refuses over 4,300 digits
# The characters Markdown reads as markup, escaped in a quote (as render's Markdown output does).
_MARKDOWN = re.compile(r"([\\`*_\[\]<>])")

_templates = Environment(
    loader=PackageLoader("briefqa.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# A briefing id as one segment of a URL path ('/' and '#' included, were an id to hold them).
_templates.filters["segment"] = lambda text: quote(text, safe="")


class BadRequest(ValueError):
    """Input the user can correct: shown as a 400 page (or JSON), saying what to write instead."""


@dataclass
class Card:
    """One result as a quote card shows it: the strings the template needs, computed here."""

    result: SearchResult
    speaker: str
    date: str
    excerpt: tuple[str, str, str]
    question: str | None
    turn_url: str
    source_url: str | None
    plain_citation: str
    markdown_citation: str


# The names a browser on this machine reaches the app by. Any other Host header is refused: a web
# page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) must not read the index.
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def create_app(index: Index | Path | str, hosts: Sequence[str] = LOCAL_HOSTS) -> Starlette:
    """The app over ``index`` (an Index, or its directory, loaded once here: never per request),
    answering requests addressed to ``hosts`` only ("*" for any)."""
    idx = index if isinstance(index, Index) else load_index(index)
    # One search at a time: the index's SQLite connection and encoder are shared by the threads
    # Starlette runs requests in; a local app for one reader needs no more.
    lock = threading.Lock()
    summaries = idx.briefings()  # fixed as the index is: it is loaded once, never written

    def search_page(request: Request) -> Response:
        params = request.query_params
        form = {name: params.get(name, "") for name in ("q", "k", "mode", "fusion", *Filters.model_fields)}
        context: dict[str, Any] = {
            "form": form,
            "briefings": summaries,
            "roles": ROLES,
            "modes": MODES,
            "default_mode": DEFAULT_MODE,
        }
        if form["q"].strip():
            query, k, options = _search_input(params)
            with lock:
                results = idx.search(query, k=k, options=options)
                nothing = None if results else idx.why_nothing_matches(options)
            context |= {
                "results": results,
                "cards": [_card(r) for r in results],
                "answer": render.answer(results),
                "markdown": render.to_markdown(query, results, results.good_match),
                "best": max((r.confidence for r in results), default=0.0),
                "nothing": nothing,
                "api_url": "/api/ask?" + urlencode({key: value for key, value in form.items() if value}),
                "timeline_url": "/timeline?"
                + urlencode({key: value for key, value in form.items() if value and key != "k"}),
            }
        return _page(request, "search.html", context)

    def api_ask(request: Request) -> Response:
        query, k, options = _search_input(request.query_params)
        with lock:
            results = idx.search(query, k=k, options=options)
        return JSONResponse(render.to_json(query, options.mode, results, results.good_match))

    def _timeline(params: Any) -> tuple[Timeline, SearchOptions, SearchResults]:
        """The timeline the parameters ask for, and the search results it counts."""
        query, k, options = _search_input(params, default_k=TIMELINE_K, max_k=MAX_TIMELINE_K)
        by = params.get("by") or "month"
        split = params.get("split") or "speaker"
        if by not in ("month", "week"):
            raise BadRequest(f"by: '{by}' is not month or week")
        if split not in SPLIT_FILTER:
            raise BadRequest(f"split: '{split}' is not speaker, role or collection")
        with lock:
            results = idx.search(query, k=k, options=options)
        made = timeline(results, by=cast(By, by), split=cast(SplitBy, split), question=query)
        made.k = k
        return made, options, results

    def timeline_page(request: Request) -> Response:
        params = request.query_params
        form = {
            name: params.get(name, "") for name in ("q", "k", "mode", "fusion", "by", "split", *Filters.model_fields)
        }
        context: dict[str, Any] = {"form": form, "roles": ROLES, "default_k": TIMELINE_K, "max_k": MAX_TIMELINE_K}
        if form["q"].strip():
            made, options, results = _timeline(params)
            if not made.turns:
                with lock:
                    context["nothing"] = idx.why_nothing_matches(options)
            period, group = params.get("period"), params.get("group")
            if period and group:  # a bar segment's turns: exactly those it counts
                counted = _segment_turns(made, period, group)
                context["segment"] = {
                    "period": period,
                    "group": group,
                    "cards": [_card(r) for r in results if (r.briefing_id, r.turn_index) in counted],
                }
            context |= {
                "timeline": made,
                "chart": _chart(made, form),
                "api_url": "/api/timeline?" + urlencode({key: value for key, value in form.items() if value}),
                "search_url": "/?"
                + urlencode({key: value for key, value in form.items() if value and key not in ("k", "by", "split")}),
            }
        return _page(request, "timeline.html", context)

    def api_timeline(request: Request) -> Response:
        made, _, _ = _timeline(request.query_params)
        return JSONResponse(made.model_dump(mode="json"))

    def briefing_page(request: Request) -> Response:
        found = _briefing(request)
        highlight = _highlight(request.query_params.get("hl"))
        people = speaker_people(found.officials, found.chair)
        turns = [
            {
                "turn": t,
                "speaker": printable(speaker_caption(t.speaker, people.get(t.speaker))),
                "parts": _split(t.text, t.char_start, highlight),
            }
            for t in found.turns
        ]
        return _page(
            request,
            "briefing.html",
            {"briefing": found, "turns": turns, "source_url": _web_url(found.source_url)},
        )

    def api_briefing(request: Request) -> Response:
        found = _briefing(request)
        # As `briefqa show --json` gives it.
        return JSONResponse(
            found.model_dump(mode="json", exclude={"turns"})
            | {"turns": [t.model_dump(mode="json") for t in found.turns]}
        )

    def briefings_page(request: Request) -> Response:
        return _page(request, "briefings.html", {"briefings": summaries})

    def api_briefings(request: Request) -> Response:
        return JSONResponse([b.model_dump(mode="json") for b in summaries])

    def _briefing(request: Request) -> Briefing:
        with lock:
            found = idx.briefing(request.path_params["briefing_id"])
        if found is None:
            raise HTTPException(404, "No briefing with this id in the index. The briefings page lists them.")
        return found

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(request, exc.status_code, exc.detail, exc.headers)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return _error(request, 400, str(exc))

    async def damaged(request: Request, exc: Exception) -> Response:
        return _error(request, 500, str(exc))  # names the damaged file and the command that rebuilds

    routes = [
        Route("/", search_page),
        Route("/briefings", briefings_page),
        Route("/timeline", timeline_page),
        Route("/api/timeline", api_timeline),
        Route("/briefings/{briefing_id}", briefing_page),
        Route("/api/ask", api_ask),
        Route("/api/briefings", api_briefings),
        Route("/api/briefings/{briefing_id}", api_briefing),
    ]  # Route's methods default to GET (and HEAD): anything else is 405
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, BadRequest: bad_request, IndexLoadError: damaged},
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))],
    )


def _search_input(params: Any, default_k: int = 5, max_k: int = MAX_K) -> tuple[str, int, SearchOptions]:
    """The question, k and options of a search from a query string, checked as `briefqa ask`
    checks its options; anything wrong is a BadRequest that names the field and what to write."""
    query = params.get("q", "").strip()
    if not query:
        raise BadRequest("q: ask a question, e.g. /api/ask?q=exotic+pets")
    k_text = params.get("k") or str(default_k)
    if not re.fullmatch(r"[0-9]{1,6}", k_text) or not 1 <= int(k_text) <= max_k:  # not '²', not 5,000 digits
        raise BadRequest(f"k: '{k_text}' is not a number of results; write a whole number from 1 to {max_k}")
    values = {name: params.get(name) or None for name in Filters.model_fields}
    for name in ("since", "until"):
        day = values[name]
        if day is not None:
            try:
                date.fromisoformat(day)
            except ValueError:
                raise BadRequest(f"{name}: '{day}' is not a date; write it as YYYY-MM-DD, e.g. 2023-03-20") from None
    try:
        options = SearchOptions(
            mode=params.get("mode") or DEFAULT_MODE,
            fusion=params.get("fusion") or DEFAULT_FUSION,
            filters=Filters(**values),
        )
    except ValidationError as err:
        raise BadRequest(options_error(err)) from None
    return query, int(k_text), options


def _highlight(value: str | None) -> tuple[int, int] | None:
    """``hl=START-END``: offsets into the briefing's text, as a result's highlight gives them."""
    if not value:
        return None
    found = _HIGHLIGHT.fullmatch(value)
    if not found or int(found[1]) >= int(found[2]):
        raise BadRequest(f"hl: '{value}' is not START-END, two offsets with START before END, e.g. 120-245")
    return int(found[1]), int(found[2])


def _split(text: str, start: int, highlight: tuple[int, int] | None) -> tuple[str, str, str]:
    """A turn's text as (before, highlighted, after), the highlight clipped to the turn (a turn it
    does not reach is all 'before'); lines wrapped within a paragraph joined (a phone rewraps
    them), and control characters removed from each part."""
    text = unwrapped(text)
    if highlight is None:
        return printable(text), "", ""
    a = min(max(highlight[0] - start, 0), len(text))
    b = min(max(highlight[1] - start, 0), len(text))
    return printable(text[:a]), printable(text[a:b]), printable(text[b:])


def _web_url(url: str | None) -> str | None:
    """A source page's address, only when it is http(s): a transcript's 'javascript:' link is text."""
    return url if url and re.match(r"https?://[^\s<>\"']+$", url) else None


def _card(r: SearchResult) -> Card:
    quote_text = render.plain(r.highlight)
    markdown_quote = _MARKDOWN.sub(r"\\\1", quote_text)
    return Card(
        result=r,
        speaker=render.speaker(r),
        date=render.long_date(r.held_on),
        excerpt=render.excerpt(r),
        question=render.shorten(render.plain(r.question.text), render.QUESTION_CHARS, r.language)
        if r.question
        else None,
        turn_url=f"/briefings/{quote(r.briefing_id, safe='')}?hl={r.highlight_start}-{r.highlight_end}"
        f"#turn-{r.turn_index}",
        source_url=_web_url(r.source_url),
        plain_citation=f'"{quote_text}" — {render.plain(r.citation)}',
        markdown_citation=f'> "{markdown_quote}"\n>\n> — {render.markdown_citation(r)}',
    )


@dataclass
class Segment:
    """One group's part of one period's bar: where it is drawn and the search it links to."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    group: str
    count: int
    period: str
    url: str


def _segment_turns(made: Timeline, period: str, group: str) -> set[tuple[str, int]]:
    """The (briefing, turn) of each turn a bar segment counts: ``group`` in ``period``, "others"
    for the groups past the ones drawn in a colour each."""
    found = next((p for p in [*made.periods, made.undated] if p and p.label == period), None)
    if found is None:
        return set()
    groups = [g for g in found.turns if g not in made.groups[:TIMELINE_GROUPS]] if group == "others" else [group]
    return {(t.briefing_id, t.turn_index) for g in groups for t in found.turns.get(g, [])}


def _chart(made: Timeline, form: dict[str, str], height: int = 220) -> dict[str, Any]:
    """The geometry of the stacked bar chart of ``made``'s dated periods (the template draws it):
    each segment links to this timeline listing the turns it counts."""
    shown = made.groups[:TIMELINE_GROUPS]
    colours = dict(zip(shown, COLOURS))
    top = max((p.total for p in made.periods), default=0) or 1
    step, bar, left, base = 64.0, 40.0, 36.0, 20.0 + height  # a step fits a label: 2025-W07
    every = max(1, -(-len(made.periods) // 16))  # at most 16 labels under the bars
    base_params = {key: value for key, value in form.items() if value and key not in ("period", "group")}
    segments, labels = [], []
    for i, p in enumerate(made.periods):
        x = left + i * step + (step - bar) / 2
        y = base
        parts = [(g, p.counts[g], colours[g]) for g in shown if p.counts.get(g)]
        rest = p.total - sum(n for _, n, _ in parts)
        if rest:
            parts.append(("others", rest, OTHERS_COLOUR))
        for group, n, colour in parts:
            h = n / top * height
            y -= h
            link = "/timeline?" + urlencode(base_params | {"period": p.label, "group": group}) + "#turns"
            segments.append(Segment(x, y, bar, h, colour, group, n, p.label, link))
        if i % every == 0:
            labels.append({"x": x + bar / 2, "y": base + 14, "text": p.label})
    legend = [(g, colours[g]) for g in shown] + ([("others", OTHERS_COLOUR)] if len(made.groups) > len(shown) else [])
    return {
        "width": max(560.0, left + len(made.periods) * step + 8),
        "right": left + len(made.periods) * step,
        "height": base + 24,
        "base": base,
        "left": left,
        "top": top,
        "top_y": base - height,
        "segments": segments,
        "labels": labels,
        "legend": legend,
        "shown": shown,
        "others": len(made.groups) > len(shown),
        "others_total": made.turns - sum(made.totals()[g] for g in shown),
    }


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page from its template, with headers that let only the page's own inline script run."""
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template(template).render(context | {"nonce": nonce, "path": request.url.path})
    headers = {
        "Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def _error(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """An error as JSON under /api/, else as a page; what went wrong and what to do, in a sentence."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)
    response = _page(request, "error.html", {"status": status, "message": message}, status)
    response.headers.update(headers or {})
    return response
