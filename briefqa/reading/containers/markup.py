"""HTML: the visible text of a page, one line per block, ``<pre>`` kept verbatim.

Parsed with BeautifulSoup over the standard library's ``html.parser`` (no network, no scripts,
nothing compiled). A paragraph, heading, list item, table row or ``<br>`` ends a line; white
space within a line is collapsed (ASCII white space only: a non-breaking space stays as it is).
``<pre>`` content is kept line by line as it stands (US GPO hearings wrap the whole transcript
in one ``<pre>``). Scripts, styles, navigation, headers, footers, forms and asides are dropped.
When a page's ``<main>`` or an ``<article>`` holds most of its text, only that is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from briefqa.reading.formats.common import TranscriptError

from .common import ContainerText, iso_date
from .decoding import declared_charset, decode_text


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Never shown to a reader (or shown beside the content, not in it).
DROPPED = _words(
    "script style nav header footer form noscript aside svg template iframe object embed canvas "
    "head title meta link audio video map dialog button select"
)
BLOCKS = _words(
    "address article blockquote body caption center dd details dir div dl dt fieldset figcaption figure "
    "h1 h2 h3 h4 h5 h6 hgroup hr html legend li main menu ol p section summary table tbody tfoot thead tr ul"
)
CELLS = frozenset({"td", "th"})
# The main content replaces the page when it holds more than this share of the page's text.
MAIN_SHARE = 0.5
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction, CData)
_COLLAPSE = re.compile(r"[ \t\n\r\f]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # HTML has no use for them; GPO ends its <pre> with Ctrl-Z
_DATE_NAMES = ("date", "article:published_time", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created")


class _Renderer:
    """Walks a tree, writing lines: 'flow' text collapsed and trimmed, ``<pre>`` text verbatim."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buffer: list[str] = []
        self.verbatim = False  # the buffer holds <pre> text: kept as it is
        self.pre_start = False  # the next <pre> text drops one leading newline (as browsers do)

    def render(self, node: Tag) -> str:
        self._walk(node, pre=False)
        self._end_block()
        return "\n".join(self.lines)

    def _flush(self) -> None:
        if self.verbatim:
            self.lines.append("".join(self.buffer))
        else:
            line = re.sub(" {2,}", " ", "".join(self.buffer)).strip(" ")
            if line.strip():  # a line of non-breaking spaces only is a spacer, not text
                self.lines.append(line)
        self.buffer, self.verbatim = [], False

    def _end_block(self) -> None:
        if "".join(self.buffer).strip():
            self._flush()
        self.buffer, self.verbatim = [], False

    def _text(self, text: str, pre: bool) -> None:
        if not pre:
            self.buffer.append(_COLLAPSE.sub(" ", text))
            return
        if self.pre_start:
            text, self.pre_start = text.removeprefix("\n"), False
        first, *rest = text.split("\n")
        self.buffer.append(first)
        self.verbatim = True
        for part in rest:
            self._flush()
            self.buffer.append(part)
            self.verbatim = True

    def _walk(self, root: Tag, pre: bool) -> None:
        """Depth first, with a stack of its own: a page nested thousands deep is no recursion limit."""
        stack: list[tuple[PageElement | None, bool, str]] = [(child, pre, "") for child in reversed(root.contents)]
        while stack:
            node, pre, after = stack.pop()
            if node is None:  # the end of an element that ends a block or a cell
                if after == "cell":
                    self.buffer.append(" ")
                else:
                    self._end_block()
                    if after == "pre":
                        self.pre_start = False
                continue
            if isinstance(node, _SKIPPED_STRINGS):
                continue
            if isinstance(node, NavigableString):
                self._text(str(node), pre)
                continue
            if not isinstance(node, Tag) or node.name in DROPPED or node.has_attr("hidden"):
                continue
            name = node.name
            if name == "br":
                if pre:
                    self._flush()
                else:
                    self._end_block()
                continue
            if name == "pre":
                self._end_block()
                self.pre_start, pre, after = True, True, "pre"
            elif name in BLOCKS:
                self._end_block()
                after = "block"
            elif name in CELLS:
                self.buffer.append(" ")
                after = "cell"
            if after:
                stack.append((None, pre, after))
            stack.extend((child, pre, "") for child in reversed(node.contents))


def _render(node: Tag) -> str:
    return _Renderer().render(node)


def looks_like_html(text_start: bytes) -> bool:
    """A file that begins (after a BOM and white space) with ``<!DOCTYPE html`` or ``<html``."""
    head = text_start.removeprefix(b"\xef\xbb\xbf").lstrip()[:20].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _meta(soup: BeautifulSoup, *names: str) -> list[str]:
    """Contents of <meta name=...> / <meta property=...> for these names (case-insensitive), in page order."""
    wanted = {n.lower() for n in names}
    found = []
    for tag in soup.find_all("meta"):
        key = str(tag.get("name") or tag.get("property") or "").strip().lower()
        content = tag.get("content")
        if key in wanted and isinstance(content, str) and content.strip():
            found.append(content.strip())
    return found


def _metadata(soup: BeautifulSoup, notes: list[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    titles = _meta(soup, "og:title")
    if not titles and soup.title is not None:
        titles = [soup.title.get_text()]
    title = " ".join(titles[0].split()).lstrip("-–—|: ") if titles else ""  # GPO: "<title> - HEARING</title>"
    if title:
        metadata["title"] = title
    for value in _meta(soup, *_DATE_NAMES):
        day = iso_date(value)
        if day:
            metadata["date"] = day
            break
        notes.append(f"ignored the page's date {value[:40]!r}: not yyyy-mm-dd")
    for link in soup.find_all("link"):
        rel: list[str] | str = link.get("rel") or []
        rel = rel.split() if isinstance(rel, str) else rel
        href = link.get("href")
        if "canonical" in [str(r).lower() for r in rel] and isinstance(href, str) and href.strip():
            metadata["url"] = href.strip()
            break
    else:
        urls = _meta(soup, "og:url")
        if urls:
            metadata["url"] = urls[0]
    return metadata


def read_html(path: Path, data: bytes) -> ContainerText:
    decoded = decode_text(path, data, declared=declared_charset(data))
    notes = decoded.notes
    soup = BeautifulSoup(decoded.text, "html.parser")
    root = soup.body or soup
    text = _render(root)
    # the outermost <main> and <article> elements: rendering nested ones too would cost a render per level
    candidates = [
        c
        for c in root.find_all(["main", "article"])
        if isinstance(c, Tag) and c.find_parent(["main", "article"]) is None
    ]
    if candidates and text.strip():
        rendered = [(len(t.strip()), t, c.name) for c in candidates for t in [_render(c)]]
        size, best, name = max(rendered, key=lambda r: r[0])  # the first of the largest: deterministic
        if len(text.strip()) > size > MAIN_SHARE * len(text.strip()):
            notes.append(f"kept the page's <{name}> ({size / len(text.strip()):.0%} of its text)")
            text = best
    controls = _CONTROLS.findall(text)
    if controls:
        text = _CONTROLS.sub("", text)
        kinds = "Ctrl-Z (DOS end-of-file mark)" if set(controls) == {"\x1a"} else "control character"
        notes.append(f"dropped {len(controls)} {kinds}{'s' if len(controls) > 1 else ''}")
    if not text.strip():
        raise TranscriptError(path, "the page shows no text; is this the transcript page, not a page that loads it?")
    return ContainerText(text, "html", decoded.encoding, _metadata(soup, notes), notes)
