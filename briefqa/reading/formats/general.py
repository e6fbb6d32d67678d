"""Any transcript: a reader that learns a file's speaker labels from the file itself.

It looks at the start of every line (and, in a file without line breaks, after every sentence) for
the shapes labels take in the wild: ``NAME: text``, a label on a line of its own, ``Mr. Smith.
text``, ``**Name**: text``, ``<NAME>…</NAME>.``, ``Name (02:18):``, ``Q``/``A``. A shape becomes a
label when it recurs, or is a known one (``Q``, ``JOURNALIST``, ``Speaker 2``); a word that once
ends a line with a colon does not. Roles come from the labels (``QUESTION`` asks) and from the
conversation (who asks, who answers, who only hands over the floor). Text before the first label is
the header (title, date, speakers list) or opening remarks; page headers and footers, separators,
stage notes and time stamps are set aside as furniture. Every character ends up in a turn or in
``ParsedTranscript.set_aside`` with its reason.

A ``Layout`` (from a user's TOML file) can name the label pattern, the reporters' and chair's
labels, the date pattern and furniture lines for a source this reader gets wrong.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from briefqa.choices import Role
from briefqa.reading.datelines import date_in_file_name, date_in_text, numeric_date
from briefqa.reading.formats.common import Detection, Line, TranscriptError, as_date, briefing_id, split_lines
from briefqa.reading.formats.whitehouse import front_matter
from briefqa.reading.language import detect_language
from briefqa.reading.people import (
    HONORIFICS,
    Mention,
    display_label,
    fold,
    is_title_word,
    mentions,
    resolve_label,
    split_name_and_title,
)
from briefqa.records import Aside, LabelledTurn, ParsedTranscript, Person

NAME = "general"
VERSION = 1

# Labels whose role the label itself says (folded: lower case, no accents or dots).
REPORTER_LABELS = {
    "q", "question", "questions", "journalist", "journalists", "reporter", "reporters", "press", "media",
    "pregunta", "interlocutor", "interlocutora", "interlocutores", "periodista", "reportero", "reportera",
    "journaliste", "question de la presse", "audience member", "audience", "unidentified reporter",
    "unidentified journalist", "off-mic reporter",
}  # fmt: skip
ANSWER_LABELS = {"a", "answer", "respuesta", "reponse", "response"}
CHAIR_LABELS = {
    "moderator", "moderadora", "moderador", "moderatrice", "moderateur", "chair", "chairperson", "host",
    "presenter", "operator", "mc", "master of ceremonies", "facilitator", "the chair", "conductor",
    "animateur", "animatrice", "presentador", "presentadora",
}  # fmt: skip
UNKNOWN_LABELS = re.compile(
    r"^(speaker|participant|voice|male voice|female voice|unidentified|unidentified (male|female|man|woman|speaker)|"
    r"unknown|unknown speaker|off-mic|spk|speaker_)\s*[\w]{0,3}$"
)
# Words that end a header line with a colon but never name a speaker.
NOT_LABELS = {
    "subjects", "subject", "topics", "topic", "transcript", "transcription", "note", "notes", "date", "time",
    "location", "place", "venue", "source", "speakers", "speaker", "present", "attendees", "participants",
    "panel", "title", "update", "watch", "listen", "contact", "media contact", "embargo", "embargoed",
    "tags", "keywords", "summary", "agenda", "re", "fecha", "lugar", "asunto", "hora", "tema", "temas",
    "objet", "lieu", "heure", "sujet", "sujets", "issued", "released", "release", "for immediate release",
    "ps", "nb", "warning", "editor's note", "editors note", "chairperson", "chairpersons", "via", "where",
    "when", "moderated by", "url", "link", "http", "https", "e&oe", "end", "ends", "page",
}  # fmt: skip
SPEAKER_BLOCKS = {
    "speakers",
    "speaker",
    "participants",
    "present",
    "panel",
    "panelists",
    "with",
    "attendees",
    "chairperson",
    "chairpersons",
    "chair",
    "moderator",
    "participantes",
    "intervenants",
}

_SMALL = {"of", "for", "the", "and", "to", "on", "de", "del", "la", "el", "y", "du", "des", "et", "le", "les",
          "da", "van", "von", "in", "at", "a"}  # fmt: skip


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


# --- label shapes -------------------------------------------------------------------------

_TIME = r"\d{1,2}(?::\d\d){1,2}"
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    ("bold", re.compile(r"\*\*(?P<label>[^*\n]{1,80}?)\s*(?::\*\*|\*\*\s*[:：.])[ \t]*")),
    ("tag", re.compile(r"<(?P<tag>[A-Za-z][\w-]*)>(?P<label>[^<\n]{1,80})</(?P=tag)>\s*[.:]?[ \t]*")),
    ("q", re.compile(r"(?P<label>Q|A)(?:[ \t]*[:.][ \t]*|[ \t]+)(?=\S)")),
    (
        "colon",
        re.compile(
            r"(?P<label>[^\W\d_][^:：\n]{0,99}?)[ \t]*(?:\((?P<ts>" + _TIME + r")\))?[ \t]*(?:[:：]|\.[ \t]?[-–—])"
            r"(?:[ \t]*[\(\[]" + _TIME + r"[\)\]])?(?:[ \t]+|$)"
        ),
    ),
    ("period", re.compile(r"(?P<label>[A-Z][A-Za-z]{0,12}\.?(?: [A-Z][\w'’\-]*){0,3})\.[ \t]+(?=[A-Z\"“(\[])")),
    ("dash", re.compile(r"(?P<label>[A-Z][A-Z.'’\- ]{1,50}[A-Z.])[ \t]+[—–-]{1,2}[ \t]+(?=\S)")),
]
# After a sentence, inside a long line: 'answer. JOURNALIST: Question?'
_MIDLINE = re.compile(
    r"(?:(?<=[.?!…\"”)\]])|(?<=E&OE)|(?<=[-–—]))[ \t]+"
    r"(?P<label>(?:[A-ZÀ-Þ][A-ZÀ-Þ.'’\-]*[ \t]?){1,5}|Q|Speaker \d+)[:：][ \t]+(?=\S)"
)
_TRAILING_MARK = re.compile(r"\s+(ENDS|END|E&OE|-ENDS-)\s*\Z")
_QUESTION_NUMBER = re.compile(r"Q\d{1,4}[ \t]+(?=[A-Z])")  # a committee's numbered questions: 'Q12   Chair:'
_LINE_NUMBER = re.compile(r"^[ \t]*\d{1,2}(?:[ \t]{2,}|[ \t]*$)")
_TIMESTAMP_PREFIX = re.compile(r"^[ \t]*[\[(]?-?\d{1,2}(?::\d\d){1,3}(?:[.,]\d+)?[\])]?[ \t]+(?=\S)")
_HONORIFIC_OR_TITLE = re.compile(
    r"^(Mr|Ms|Mrs|Miss|Dr|Prof|Sen|Rep|Gov|Amb|Gen|Adm|Hon|Chairman|Chairwoman|Chair|Senator|Governor|"
    r"Secretary|Representative|Ambassador|Admiral|General|Commissioner|Director|Minister|Judge|Justice|"
    r"President|Speaker|Mayor|Dean|The)\b"
)


@dataclass
class _Candidate:
    line: int  # index into lines
    shape: str
    label: str  # as written, stripped of markup
    start: int  # offset of the label's first character
    text_start: int  # offset where the turn's text begins
    own_line: bool
    indent: int = 0  # spaces before the label on its line


def _valid_label(label: str, shape: str) -> bool:
    """Whether text that ends like a label reads as a name, a position or a known label."""
    label = label.strip()
    key = fold(label)
    if not label or len(label) > 100 or key in NOT_LABELS or key.rstrip("s") in NOT_LABELS:
        return False
    if _known(key):
        return True
    if re.search(r"[?!;\"“”«»]|https?:|www\.|\d{1,2}:\d\d|\b(?:19|20)\d\d\b", label):
        return False  # a sentence, a link, a time or a year: 'FRIDAY, 15 MARCH 2024' is a dateline
    words = label.replace(",", " , ").split()
    # 'SECRETARIA DE DESARROLLO AGRARIO, TERRITORIAL Y URBANO, EDNA VEGA RANGEL' names a position too
    if len(words) > (16 if label.isupper() and "," in label else 9):
        return False
    if words[-1].lower() in _SMALL:
        return False
    for word in words:
        if word in {",", "&", "-", "–", "/"}:
            continue
        if word[0].isupper() or word[0].isdigit() or word[0] in "(“'":
            continue
        if word in _SMALL:
            continue
        return False
    if shape == "period":
        # 'Mr. Kanjorski.' or 'GOVERNOR SMITH.': an honorific or title and a name, or upper case.
        if label.isupper():
            return len(label) > 2
        return bool(_HONORIFIC_OR_TITLE.match(label)) and len(words) >= 2
    if shape == "own":
        return label.isupper() or len(words) <= 6
    return True


def _known(key: str) -> bool:
    key = _ARTICLE.sub("", _ANNOTATION.sub("", key)).strip()  # 'Question (off mic)' is a question
    return key in REPORTER_LABELS or key in ANSWER_LABELS or key in CHAIR_LABELS or bool(UNKNOWN_LABELS.match(key))


# Labels of whoever presides: 'Chairman Dodd', 'The Chairwoman', 'Chief Justice Roberts'.
_CHAIRING = re.compile(
    r"^(?:the )?(?:chairman|chairwoman|chairperson|chair|chief justice|presiding|madam chair|mr chairman)\b"
)
_ARTICLE = re.compile(r"^(?:the|le|la|el|l')\s*")
_ANNOTATION = re.compile(r"\s*\([^)]*\)\s*$")


def _clean_label(raw: str) -> str:
    label = re.sub(r"\(" + _TIME + r"\)", "", raw)
    return " ".join(label.strip(" \t*_:.").split())


def _candidates(lines: list[Line], numbered: bool, layout: Layout | None) -> list[_Candidate]:
    found: list[_Candidate] = []
    for i, line in enumerate(lines):
        raw = line.raw.replace("\u00a0", " ")
        pos = len(raw) - len(raw.lstrip())
        if numbered and (m := _LINE_NUMBER.match(raw)):
            pos = m.end()
            pos += len(raw[pos:]) - len(raw[pos:].lstrip())
        if m := _TIMESTAMP_PREFIX.match(raw, pos):
            pos = m.end()
        if m := _QUESTION_NUMBER.match(raw, pos):
            pos = m.end()
        rest = raw[pos:]
        if not rest.strip():
            continue
        if layout and layout.label_pattern:
            if (m := layout.label_pattern.match(raw, pos)) and m["label"].strip():
                found.append(
                    _Candidate(
                        i,
                        "layout",
                        _clean_label(m["label"]),
                        line.start + pos,
                        line.start + m.end(),
                        not raw[m.end() :].strip(),
                    )
                )
            continue
        stripped = rest.strip()
        # A label on a line of its own: 'Yu Jianhua:', 'GOVERNOR SMITH', '**Jane Roe:**'.
        own = re.fullmatch(r"(?:\*\*)?(?P<label>[^:：]{1,100}?)(?:[ \t]*\((?P<ts>" + _TIME + r")\))?"
                           r"(?:\*\*)?[ \t]*(?P<colon>[:：.])?(?:\*\*)?(?:[ \t]*[\(\[]" + _TIME + r"[\)\]])?"
                           r"(?P<stamp>[ \t]{2,}" + _TIME + r")?",  # otter.ai: 'Speaker 1  0:03'
                           stripped)  # fmt: skip
        if own and own["stamp"] and own["colon"] is None:
            label = _clean_label(own["label"])
            if _valid_label(label, "colon"):
                found.append(_Candidate(i, "colon", label, line.start + pos, line.end, True))
                continue
        if own and (own["colon"] in (":", "：") or (own["label"].isupper() and own["colon"] is None)):
            label = _clean_label(own["label"])
            if _valid_label(label, "own" if own["colon"] is None else "colon") and (
                own["colon"] or len(label.split()) <= 6
            ):
                found.append(
                    _Candidate(i, "own" if own["colon"] is None else "colon", label, line.start + pos, line.end, True)
                )
                continue
        for shape, pattern in _SHAPES:
            m = pattern.match(raw, pos)
            if not m:
                continue
            label = _clean_label(m["label"])
            plain = "," not in label and "(" not in label and not label.isupper()
            if shape == "colon" and plain and len(label.split()) > 6:  # a sentence ending in a colon
                continue
            if _valid_label(label, shape):
                found.append(
                    _Candidate(i, shape, label, line.start + pos, line.start + m.end(), not raw[m.end() :].strip(), pos)
                )
                break
        if len(raw) > 1500 or len(lines) <= 3:  # a file without line breaks: labels after sentences
            for m in _MIDLINE.finditer(raw):
                label = _clean_label(m["label"])
                if _valid_label(label, "colon"):
                    found.append(
                        _Candidate(i, "midline", label, line.start + m.start("label"), line.start + m.end(), False)
                    )
    return found


def _accepted(candidates: list[_Candidate], layout: Layout | None) -> list[_Candidate]:
    """The candidates that are labels: known ones, and those whose label recurs in a shape that
    recurs. A label used once passes when it reads as a name in a shape the file uses for others."""
    if layout and layout.label_pattern:
        return candidates
    counts = Counter(fold(c.label) for c in candidates)
    shape_hits: Counter[str] = Counter()
    for c in candidates:
        if counts[fold(c.label)] >= 2 or _known(fold(c.label)) or (c.shape != "period" and _name_like(c.label)):
            shape_hits[c.shape] += 1
    # Colon labels inline and after sentences are one shape; a shape counts when it recurs and is not
    # dwarfed by the file's main one (a cover page's upper-case lines beside 250 'Mr. Smith.' turns).
    shape_hits["colon"] = shape_hits["midline"] = shape_hits["colon"] + shape_hits["midline"]
    top = max(shape_hits.values(), default=0)
    shapes = {s for s, n in shape_hits.items() if n >= max(2, top / 5)}
    if top == 1 and shape_hits["colon"] == 1:  # one speaker's statement: 'Li Kuiwen:' once
        shapes.add("colon")
    # A label used once counts only after the first that recurs: before it is a cover page or header.
    first_sure = min((c.line for c in candidates if c.shape in shapes and (counts[fold(c.label)] >= 2
                      or _known(fold(c.label)))), default=-1)  # fmt: skip
    # 'Mr. Smith.' once is a label where the recurring ones stand indented just so (a hearing's
    # turns); a wrapped sentence that starts a line with a name is not indented like them.
    indents = Counter(c.indent for c in candidates if c.shape == "period" and counts[fold(c.label)] >= 2)
    label_indent = indents.most_common(1)[0][0] if indents else 0
    accepted = []
    for c in candidates:
        key = fold(c.label)
        if c.shape not in shapes:
            continue
        once = c.line > first_sure and _name_like(c.label)
        if c.shape == "period":  # 'RACHEL SIEGEL. Thank you': upper case is a label's, not a sentence's
            upper = c.label.isupper() and len(c.label.split()) >= 2
            once = once and (upper or (label_indent > 0 and c.indent == label_indent))
        if counts[key] >= 2 or _known(key) or once:
            accepted.append(c)
    return accepted


def _name_like(label: str) -> bool:
    words = [w for w in label.replace(",", " ").split() if w]
    if label.isupper() and any(len(w) > 1 for w in words):
        return True
    return 2 <= len(words) <= 5 and all(w[0].isupper() or w in _SMALL for w in words)


# --- furniture ----------------------------------------------------------------------------

_FURNITURE = [
    (re.compile(r"\bpage\s+\d+\s+(?:of|/)\s+\d+\b|^(?:page|p\.|página|pagina)\s*\d+$", re.I), "page header or footer"),
    (re.compile(r"^[-–—\s]*\d{1,4}[-–—\s]*$"), "page number"),
    (re.compile(r"^<?https?://\S+>?$|^www\.\S+$"), "link"),
    (re.compile(r"^e\s*&\s*o\s*e\.?$|^e&oe\b", re.I), "E&OE"),
    (re.compile(r"^[-=_*~#•·]{3,}$|^(?:[-*] ){2,}[-*]$"), "separator"),
    (re.compile(r"^[\(\[][^\)\]\n]{2,60}[\)\]]\.?$"), "stage note"),
    (re.compile(r"^[\[(]?whereupon\b", re.I), "stage note"),  # 'Whereupon, at 11:45 a.m., the hearing was adjourned.'
    (re.compile(r"^\d{1,2}[:.]\d\d(?:[:.]\d\d)?\s*(?:[ap]\.?\s?m\.?)?(?:\s+[A-Z]{2,4})?$", re.I), "clock time"),
    (re.compile(r"^(?:-?\s*)?(?:end|ends|fin|-30-|###|\[end\]|end of transcript|\*\*\*)\s*-?"
                r"(?:\s+\d{1,2}[:.]\d\d\s*(?:[ap]\.?\s?m\.?)?(?:\s+[A-Z]{2,4})?)?$", re.I), "end mark"),
    (re.compile(r"^(?:note|editor'?s note|nota|n\.?\s?b\.?)\s*:", re.I), "editor's note"),
    (re.compile(r"^(?:media contact|media enquiries|press contact|contact|authori[sz]ed by|for more information)\b",
                re.I), "contact or authorisation line"),
    (re.compile(r"^\[GRAPHIC\]|^\[TIFF OMITTED\]", re.I), "placeholder"),
    (re.compile(r"^</?[A-Za-z][\w-]*>$"), "markup"),
    (re.compile(r"^(?:official\s*-\s*subject to final review|unofficial transcript|check against delivery)$", re.I),
     "page header or footer"),
    (re.compile(r"^\\?\s*$|^[\x1a\f]+$"), "control characters"),
]  # fmt: skip


def _furniture_why(clean: str, repeated: bool, layout: Layout | None) -> str | None:
    if layout:
        for pattern in layout.furniture:
            if pattern.search(clean):
                return "furniture (layout)"
    for pattern, why in _FURNITURE:
        if pattern.search(clean):
            return why
    if repeated and not clean.endswith((".", "?", "!", '"', "”", ":")) and len(clean) <= 120:
        return "running header or footer"
    return None


_FOOTER_LINE = re.compile(
    r"©|\(c\)\s*\d{4}|copyright|all rights reserved|reproduction|permitted|licen[cs]e|terms of use|privacy|"
    r"https?://|www\.|\S+@\S+\.\w+|\+?\d[\d ()-]{7,}\d|"
    r"^(?:published|last updated|updated|date modified|page modified|source|contact|media (?:contact|enquiries)|"
    r"press office|follow us|share|print|is this page useful|yes|no|report a problem|transcribe|try rev|subscribe|"
    r"back to top|related|tags?|topics?|categories|filed under|issued by|authori[sz]ed by)\b",
    re.IGNORECASE,
)


def _footer(lines: list[Line], last_label: int, layout: Layout | None) -> set[int]:
    """The lines at the end of a file, after the last turn's text, that are the page's and not the
    speaker's: copyright, links, contact details, 'Is this page useful?', an office's name. Walked
    from the end back to the first line a speaker would say."""
    found: set[int] = set()
    for i in range(len(lines) - 1, last_label, -1):
        clean = lines[i].clean
        if not clean:
            continue
        words = clean.split()
        office = (
            len(words) <= 6
            and not clean.endswith((".", "?", "!", ","))
            and all(w[:1].isupper() or w[:1].isdigit() or w.lower() in _SMALL or not w[:1].isalpha() for w in words)
        )
        if _FOOTER_LINE.search(clean) or office or _furniture_why(clean, False, layout):
            found.add(i)
        else:
            break
    return found


def _repeated_lines(lines: list[Line]) -> set[str]:
    """Short lines that recur, digits aside, three times or more: running headers and footers."""
    shapes = Counter(re.sub(r"\d+", "#", ln.clean) for ln in lines if 0 < len(ln.clean) <= 120)
    return {s for s, n in shapes.items() if n >= 3}


# --- the reader ---------------------------------------------------------------------------


def detect(text: str) -> Detection:
    """How sure this reader is that it can read the text, and why."""
    lines = split_lines(text)
    accepted = _accepted(_candidates(lines, _numbered(lines), None), None)
    if not accepted:
        return Detection(0.0, "no speaker labels found")
    shapes = Counter(c.shape for c in accepted)
    labels = Counter(c.label for c in accepted)
    score = min(0.5, 0.1 + 0.05 * len(accepted))
    return Detection(
        score,
        f"{len(accepted)} labels in the shapes {dict(shapes.most_common())}, {len(labels)} different",
    )


def recognises(text: str) -> bool:
    return detect(text).score > 0


def _numbered(lines: list[Line]) -> bool:
    """Line numbers down the left margin (a court or hearing transcript's PDF text)."""
    content = [ln for ln in lines if ln.clean]
    if len(content) < 20:
        return False
    numbered = sum(1 for ln in content if _LINE_NUMBER.match(ln.raw))
    return numbered / len(content) > 0.3


def parse(
    path: Path, text: str, metadata: dict[str, str] | None = None, layout: Layout | None = None
) -> ParsedTranscript:
    metadata = metadata or {}
    asides: list[Aside] = []
    meta: dict[str, Any] = {}
    body_start = 0
    if text.startswith("---\n"):
        meta, body_start = front_matter(path, text)
        asides.append(Aside(kind="metadata", char_start=0, char_end=body_start, line=1, why="front matter"))
    lines = [ln for ln in split_lines(text) if ln.start >= body_start]
    numbered = _numbered(lines)
    candidates = _accepted(_candidates(lines, numbered, layout), layout)
    if not candidates:
        raise TranscriptError(path, NO_LABELS_HERE)
    repeated = _repeated_lines(lines)

    by_line: dict[int, list[_Candidate]] = defaultdict(list)
    for c in candidates:
        by_line[c.line].append(c)
    first_line = min(by_line)

    # The header: title, dates, speakers, furniture; and any opening remarks.
    header_lines = lines[:first_line]
    title_line, header_meta, opening_spans, header_people = _read_header(header_lines, repeated, layout, asides)
    title = _title(meta, metadata, title_line, path)

    # The turns.
    raw_turns: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        nonlocal current
        if current and current["end"] > current["start"]:
            if m := _TRAILING_MARK.search(text, current["start"], current["end"]):
                asides.append(
                    Aside(
                        kind="furniture",
                        char_start=m.start(1),
                        char_end=current["end"],
                        line=current["line"],
                        why="end mark",
                    )
                )
                current["end"] = m.start()
            raw_turns.append(current)
        current = None

    def open_turn(label: str, line_no: int, start: int) -> None:
        nonlocal current
        current = {"label": label, "line": line_no, "start": start, "end": start}

    headings = _headings(lines, by_line)
    footer = _footer(lines, max(by_line), layout)
    ended = False  # after an end mark ('###', 'END', '- END -'), until another label
    for i in range(first_line, len(lines)):
        line = lines[i]
        if i in footer or (ended and i not in by_line and line.clean):
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number,
                                why="page footer" if i in footer else "after the end mark"))  # fmt: skip
            if current is not None:
                close()
            continue
        if i in headings:
            asides.append(Aside(kind="metadata", char_start=line.start, char_end=line.end, line=line.number,
                                why="heading"))  # fmt: skip
            if current is not None:
                label = current["label"]
                close()
                current = {"label": label, "line": line.number, "start": -1, "end": -1}
            continue
        starts = sorted(by_line.get(i, []), key=lambda c: c.start)
        if starts:
            ended = False
            # Text before the first label on this line (in a line without breaks) ends the turn so far,
            # or, before any turn, is the header.
            segments = []
            before_end = starts[0].start
            if text[line.start : before_end].strip():
                segment_end = line.start + len(text[line.start : before_end].rstrip())
                if current is not None:
                    current["end"] = max(current["end"], segment_end)
                else:
                    asides.append(Aside(kind="metadata", char_start=line.start, char_end=segment_end,
                                        line=line.number, why="header"))  # fmt: skip
            for k, c in enumerate(starts):
                close()
                asides.append(
                    Aside(
                        kind="label",
                        char_start=c.start,
                        char_end=c.text_start,
                        line=line.number,
                        why=f"label ({c.shape})",
                    )
                )
                end = starts[k + 1].start if k + 1 < len(starts) else line.end
                segment = text[c.text_start : end]
                open_turn(c.label, line.number, c.text_start + (len(segment) - len(segment.lstrip())))
                assert current is not None
                current["end"] = c.text_start + len(segment.rstrip())
                segments.append(c)
            continue
        clean = _LINE_NUMBER.sub("", line.clean).strip() if numbered else line.clean
        if not clean:
            continue
        why = _furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout)
        if why:
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why))
            ended = ended or why == "end mark"
            if current is not None:
                label = current["label"]
                close()
                current = {"label": label, "line": line.number, "start": -1, "end": -1, "continued": True}
            continue
        start, end = line.content_span()
        if current is None:
            continue
        if current["start"] < 0 or current["end"] <= current["start"]:
            current["start"] = start
        current["end"] = end
    close()

    # People named in the title, the header and the opening, for labels to resolve to.
    people = [*mentions(title), *header_people]
    if opening_spans:
        people += mentions(text[opening_spans[0][0] : opening_spans[0][0] + 3000])
    for t in raw_turns[:40]:
        people += mentions(text[t["start"] : min(t["end"], t["start"] + 600)])

    speakers = _speakers({t["label"] for t in raw_turns}, people, layout)
    turns = [
        LabelledTurn(
            speaker=speakers[t["label"]].shown,
            text=text[t["start"] : t["end"]],
            char_start=t["start"],
            char_end=t["end"],
            line=t["line"],
        )
        for t in raw_turns
        if t["start"] >= 0
    ]
    label_of = {speakers[lb].shown: speakers[lb] for lb in speakers}
    _assign_roles(turns, label_of, layout)
    _name_reporters(turns)
    _name_generic_speakers(turns, label_of)

    # Opening remarks, before any label: credited to the one speaker the text or title makes clear.
    opening_turns = []
    for start, end, line_no in opening_spans:
        who = _opening_speaker(text[start:end], title, people, turns, label_of)
        opening_turns.append(
            LabelledTurn(
                speaker=who or UNATTRIBUTED,
                text=text[start:end],
                char_start=start,
                char_end=end,
                line=line_no,
                role_hint=_role_of(who, turns) if who else "official",
            )
        )
    turns = opening_turns + turns

    officials: dict[str, Person] = {}
    chair: Person | None = None
    for turn in turns:
        info = label_of.get(turn.speaker)
        person = info.person if info else Person(name=turn.speaker)
        if turn.role_hint == "official" and turn.speaker != UNATTRIBUTED:
            officials.setdefault(turn.speaker, person)
        elif turn.role_hint == "chair" and chair is None:
            chair = person

    top = [ln.clean for ln in lines[:80]]
    notes: list[str] = []
    opening_text = text[body_start : body_start + 400]
    held, date_from = _date(meta, metadata, title, header_meta, path, layout, opening_text, top, notes)
    url = _first_str(meta, "source_url", "url", "link", "canonical", "source") or metadata.get("url")
    language = detect_language(" ".join(t.text for t in turns[:60])[:20000])
    if not any(t.role_hint == "reporter" for t in turns):
        notes.append("no questions found: every turn is taken for an official's")
    return ParsedTranscript(
        id=briefing_id(path),
        title=title,
        held_on=held,
        published_on=as_date(meta.get("published") or meta.get("published_time")) or held,
        source=str(path),
        source_url=url if url and re.match(r"https?://", url) else None,
        language=language,
        reader=f"{NAME} {VERSION}" if layout is None else f"layout {layout.name}",
        date_from=date_from,
        officials=list(officials.values()),
        chair=chair,
        turns=turns,
        reporter_labels_are_outlets=False,
        set_aside=sorted(asides, key=lambda a: a.char_start),
        notes=notes,
        text=text,
    )


NO_LABELS_HERE = (
    "no speaker labels found (looked for lines such as 'JANE ROE: ...', 'Q: ...', 'Mr. Smith. ...' or a name on "
    "a line of its own); if this is a transcript, describe its labels in a layout file (see docs/formats.md)"
)
UNATTRIBUTED = "Unattributed"


def _first_str(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return " ".join(str(value).split())
    return None


def _title(meta: dict[str, Any], metadata: dict[str, str], title_line: str | None, path: Path) -> str:
    title = _first_str(meta, "title", "headline", "name") or metadata.get("title") or title_line or briefing_id(path)
    return " ".join(title.replace("\u00a0", " ").split()).lstrip("# ")


def _read_header(
    header: list[Line], repeated: set[str], layout: Layout | None, asides: list[Aside]
) -> tuple[str | None, list[str], list[tuple[int, int, int]], list[Mention]]:
    """Title line, metadata lines, opening-remark spans (start, end, line) and people of a header."""
    title: str | None = None
    meta_lines: list[str] = []
    people: list[Mention] = []
    opening_from = _opening_start(header, repeated, layout)
    block = False
    for i, line in enumerate(header):
        clean = line.clean.strip("#*_ ").strip()
        if not clean:
            block = False
            continue
        dated = date_in_text(clean) is not None and len(clean) < 120  # a dateline, even one repeated
        why = None if dated else _furniture_why(clean, re.sub(r"\d+", "#", line.clean) in repeated, layout)
        if why:
            asides.append(Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why))
            continue
        key = fold(clean.split(":")[0]).strip() if ":" in clean else ""
        if opening_from is not None and i >= opening_from:
            break
        if key in SPEAKER_BLOCKS or block:
            block = key in SPEAKER_BLOCKS or block
            entry = clean.split(":", 1)[1] if key in SPEAKER_BLOCKS else clean
            for part in re.split(r";|\band\b|\by\b|\bet\b", entry):
                person = part.strip(" ,.")
                if person:
                    found = mentions(person)
                    if not found and "," in person:
                        name, title_text = split_name_and_title(person)
                        found = [Mention(" ".join(w for w in name.split() if fold(w) not in HONORIFICS), title_text)]
                    people += found
            why = "speakers list"
        else:
            people += mentions(clean)
            why = "header"
            if title is None and len(clean.split()) >= 3 and not dated and not key:
                title, why = clean, "title"
            elif _TITLE_WORDS.search(clean) and not dated and (title is None or not _TITLE_WORDS.search(title)):
                # 'Press conference with ...' over a letterhead's 'MINISTRY OF FOREIGN AFFAIRS'
                for k, aside in enumerate(asides):
                    if aside.why == "title":
                        asides[k] = aside.model_copy(update={"why": "header"})
                title, why = clean, "title"

        meta_lines.append(clean)
        asides.append(Aside(kind="metadata", char_start=line.start, char_end=line.end, line=line.number, why=why))
    spans = []
    if opening_from is not None:
        # Opening remarks run to the end of the header, split at furniture.
        start = end = line_no = -1
        for line in header[opening_from:]:
            clean = line.clean
            if not clean:
                continue
            why = _furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout)
            if why:
                asides.append(
                    Aside(kind="furniture", char_start=line.start, char_end=line.end, line=line.number, why=why)
                )
                if start >= 0:
                    spans.append((start, end, line_no))
                start = -1
                continue
            s, e = line.content_span()
            if start < 0:
                start, line_no = s, line.number
            end = e
        if start >= 0:
            spans.append((start, end, line_no))
    # A sentence or two about the event, not from it ('Governor Grant held a press conference on the
    # storm.'): the header's summary, unless it speaks in the first person.
    if spans and sum(e - s for s, e, _ in spans) <= 300:
        opening = " ".join(ln.clean for ln in header[opening_from or 0 :])
        sentences = len(re.findall(r"[a-z]{2,}[.?!](?:\s|$)", opening))  # 'Dr.' ends none
        if not _FIRST_PERSON.search(opening) and sentences <= 2:
            for s, e, n in spans:
                asides.append(Aside(kind="metadata", char_start=s, char_end=e, line=n, why="summary"))
            spans = []
    return title, meta_lines, spans, people


_FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I've|we|we're|we've|our|us|my|me|nosotros|nuestro|nuestra|je|nous|notre|yo|mi)\b", re.IGNORECASE
)


_TITLE_WORDS = re.compile(
    r"press (?:conference|briefing|gaggle|availability|statement)|briefing|remarks|interview|doorstop|transcript of|"
    r"conferencia|rueda de prensa|versión estenográfica|conférence de presse|point de presse|hearing|town hall",
    re.IGNORECASE,
)


def _blank_or_separator(clean: str) -> bool:
    return not clean or bool(re.fullmatch(r"[-=_*~#•·]{3,}", clean))


def _headings(lines: list[Line], labelled: dict[int, list[_Candidate]]) -> set[int]:
    """Lines between turns that head what follows ('Press availability following the rally'): short,
    without a sentence's end, blank lines around them, and a label next."""
    found = set()
    for i in range(1, len(lines) - 2):
        clean = lines[i].clean
        if not clean or i in labelled or len(clean) > 80 or clean.endswith((".", "?", "!", ",", ";", ":", '"', "”")):
            continue
        if not all(_blank_or_separator(lines[k].clean) for k in (i - 1, i + 1)):
            continue
        following = next((k for k in range(i + 1, len(lines)) if not _blank_or_separator(lines[k].clean)), None)
        if following is not None and following in labelled and clean[0].isupper():
            found.add(i)
    return found


def _prose(clean: str) -> bool:
    """A line of speech, not of a header: sentences, not a title or a dateline."""
    if clean.isupper():
        return False
    return len(clean) >= 150 or (len(clean.split()) >= 3 and clean.endswith((".", "?", "!", '"', "”", "…")))


def _opening_start(header: list[Line], repeated: set[str], layout: Layout | None) -> int | None:
    """Where opening remarks begin: the prose just before the first label, back to two lines running
    that are not prose (a title, a dateline, a cover page's centred lines)."""
    start: int | None = None
    not_prose = 0
    for i in range(len(header) - 1, -1, -1):
        clean = header[i].clean
        if not clean or _furniture_why(clean, re.sub(r"\d+", "#", clean) in repeated, layout):
            continue
        if _prose(clean):
            start, not_prose = i, 0
        else:
            not_prose += 1
            # One line that is not prose may stand just before the first label ('Thank you.'); after
            # prose, one ends the opening: it is the title or a dateline above it.
            if not_prose >= 2 or start is not None:
                break
    return start


@dataclass
class _Speaker:
    shown: str  # what turns are labelled with
    person: Person
    key: str  # folded label
    affiliation: str | None = None  # 'BBC' of 'Laura Kuenssberg, BBC:' or 'Jorge Valero (Bloomberg):'


_PARENTHESIS = re.compile(r"^(?P<name>.*?\S)\s*\((?P<inside>[^()]{1,60})\)$")


def _generic_key(key: str) -> str:
    """A folded label without article or annotation: 'the moderator' and 'question (off mic)' alike."""
    return _ARTICLE.sub("", _ANNOTATION.sub("", key)).strip()


def _speakers(labels: set[str], people: list[Mention], layout: Layout | None) -> dict[str, _Speaker]:
    """How each label is shown, and the person it stands for."""
    found: dict[str, _Speaker] = {}
    for label in labels:
        key = fold(label)
        if _generic_key(key) in REPORTER_LABELS or (layout and key in layout.reporter_labels):
            found[label] = _Speaker("Reporter", Person(name="Reporter"), key)
            continue
        name, title = split_name_and_title(label)
        inside = None
        if (m := _PARENTHESIS.match(name)) and not _known(key):
            name, inside = m["name"], m["inside"]
        shown = display_label(name)
        # What follows a name is a position ('Minister for Trade') or, for a reporter, an outlet ('BBC').
        extra = title or inside
        affiliation = extra if extra and not any(is_title_word(w) for w in extra.split()) else None
        if extra:
            position = display_label(extra) if affiliation is None else None
            found[label] = _Speaker(shown, Person(name=_without_honorific(shown), title=position), key, affiliation)
            if found[label].person.name != shown:
                found[label].person.label = shown
            continue
        if _known(key):
            found[label] = _Speaker(shown, Person(name=shown), key)
            continue
        mention = resolve_label(label, people)
        if mention and fold(mention.name) != fold(shown):
            person = Person(name=mention.name, title=mention.title, label=shown)
        else:
            person = Person(name=_without_honorific(shown), title=mention.title if mention else None)
            if person.name != shown:
                person.label = shown
        found[label] = _Speaker(shown, person, key)
    # An 'A' answers for the one official the title names, when there is one.
    return found


def _without_honorific(name: str) -> str:
    words = name.split()
    while len(words) > 1 and fold(words[0]) in HONORIFICS:
        words.pop(0)
    return " ".join(words)


def _assign_roles(turns: list[LabelledTurn], speakers: dict[str, _Speaker], layout: Layout | None) -> None:
    """Set each turn's role: from its label where the label says, else from the conversation."""
    roles: dict[str, Role] = {}
    for shown, info in speakers.items():
        key = info.key
        title = fold(info.person.title or "")
        if shown == "Reporter" or (layout and key in layout.reporter_labels):
            roles[shown] = "reporter"
        elif (
            _ARTICLE.sub("", key) in CHAIR_LABELS
            or (layout and key in layout.chair_labels)
            or "moderat" in title
            or _CHAIRING.match(key)
        ):
            roles[shown] = "chair"
        elif key in ANSWER_LABELS or (layout and key in layout.official_labels):
            roles[shown] = "official"
    marked_questions = any(r == "reporter" for r in roles.values())
    asks: dict[str, list[bool]] = defaultdict(list)
    for turn, after in zip(turns, [*turns[1:], None]):
        if turn.speaker in roles:
            continue
        answered = after is not None and after.speaker != turn.speaker
        asks[turn.speaker].append("?" in turn.text[-400:] and answered)
    for speaker, votes in asks.items():
        if speaker in roles:
            continue
        generic = bool(UNKNOWN_LABELS.match(speakers[speaker].key))
        if speakers[speaker].affiliation and sum(votes):  # 'Jorge Valero (Bloomberg):' asking
            roles[speaker] = "reporter"
        elif marked_questions and not generic and sum(votes) * 3 <= len(votes) * 2:
            # The file marks its questions ('QUESTION:'): a named label is an official's unless
            # nearly all its turns ask.
            roles[speaker] = "official"
        else:
            # Who asks: most of a few turns, or a fifth of many (a questioner's turns also comment and
            # follow up; an answerer's almost never end in a question).
            asked = sum(votes) * 2
            many = len(votes) >= 4 and sum(votes) * 5 >= len(votes)
            roles[speaker] = (
                "reporter" if asked > len(votes) or (generic and asked == len(votes)) or many else "official"
            )
    # The one who hands over the floor ('Ann.', 'Dr. Marsh will give an update, then questions.')
    # moderates: their turns come before reporters' questions, not after them, and are short.
    # They open, close and hand over (their turns come first, last, or before a question) and never
    # answer a question.
    hands_over: dict[str, int] = defaultdict(int)
    answers: dict[str, int] = defaultdict(int)
    words: dict[str, list[int]] = defaultdict(list)
    spoken = [t for t in turns if t.speaker != UNATTRIBUTED]
    for k, turn in enumerate(spoken):
        previous = spoken[k - 1] if k else None
        following = spoken[k + 1] if k + 1 < len(spoken) else None
        words[turn.speaker].append(len(turn.text.split()))
        if previous is None or following is None or roles.get(following.speaker) == "reporter":
            hands_over[turn.speaker] += 1
        if previous is not None and roles.get(previous.speaker) == "reporter":
            answers[turn.speaker] += 1
    most_words = max(words, key=lambda s: sum(words[s]), default=None)
    # 'CHAIR POWELL' at a press conference answers the questions: the principal, not the moderator.
    for speaker, counts in words.items():
        if roles.get(speaker) == "chair" and answers[speaker] * 2 > len(counts):
            roles[speaker] = "official"
    if "chair" not in roles.values():
        for speaker, counts in words.items():
            if roles.get(speaker) != "official" or speaker == most_words or answers[speaker] * 5 > len(counts):
                continue
            if len(counts) == 1 and counts[0] > 12:  # one short hand-over at most: 'Dana, two more.'
                continue
            if hands_over[speaker] * 3 >= len(counts) * 2 and sorted(counts)[(len(counts) - 1) // 2] <= 30:
                roles[speaker] = "chair"
                break
    for turn in turns:
        turn.role_hint = roles.get(turn.speaker, "official")
        affiliation = speakers[turn.speaker].affiliation if turn.speaker in speakers else None
        if turn.role_hint == "reporter" and affiliation and not turn.outlet:
            turn.outlet = affiliation


# 'Jane Roe with Reuters.', 'Hi, Tom Bell from the Guardian.', "I'm Ana Ruiz, El País."
_SELF_NAMED = re.compile(
    r"^(?:[^.,!?¿¡\n]{0,40}[,.!]\s+){0,2}"  # 'Hi,' 'Buenos días, presidente.'
    r"(?:i'm |i am |it's |this is |soy |je suis |my name is |me llamo )?"
    r"(?P<name>[A-ZÀ-Þ][\w'’\-]+(?: [A-ZÀ-Þ][\w'’\-]+){1,2})"
    r"(?:,\s*(?:de|del|from|with|of|at|du|de la)?| with| from| of| at| de| del| du)\s+(?:the\s+)?"
    r"(?P<outlet>(?:(?:el|la|le|los|las|les)\s+)?[A-ZÀ-Þ][\w&'’\-]*(?:\.\w+)*"
    r"(?: (?:[A-ZÀ-Þ][\w&'’\-]*(?:\.\w+)*|of|the|and|de|del|du|la|el|news))*)"
    r"\s*[.,;:!?—–-]",
    re.IGNORECASE,
)


def _name_reporters(turns: list[LabelledTurn]) -> None:
    """A reporter who names themselves and their outlet ('Jane Roe with Reuters') is that person of
    that outlet."""
    for turn in turns:
        if turn.role_hint != "reporter":
            continue
        m = _SELF_NAMED.match(turn.text[:200])
        if not m:
            continue
        name, outlet = m["name"], m["outlet"]
        if not all(w[0].isupper() for w in name.split()) or any(is_title_word(w) for w in name.split()):
            continue
        if not outlet[0].isupper():
            continue
        turn.speaker, turn.outlet = name, outlet


_INTRODUCES = re.compile(
    r"\b(?:I'm|I am|my name is|this is|soy|me llamo|je suis|je m'appelle)\s+"
    r"(?P<who>(?:[A-Z][\w'’\-.]*\s+){0,3}[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){1,2})"
)


def _name_generic_speakers(turns: list[LabelledTurn], speakers: dict[str, _Speaker]) -> None:
    """A speech-to-text 'Speaker 1' (or 'SPEAKER_00') who introduces themselves in their first
    turns ('I'm Fire Chief Elena Ruiz') is that person, with that position."""
    for shown, info in speakers.items():
        if not UNKNOWN_LABELS.match(info.key) or info.person.label:
            continue
        own = [t.text[:400] for t in turns if t.speaker == shown][:2]
        found = next((m for text in own if (m := _INTRODUCES.search(text))), None)
        if found is None:
            continue
        for mention in mentions(found["who"])[:1]:
            info.person = Person(name=mention.name, title=mention.title, label=shown)


def _opening_speaker(
    opening: str, title: str, people: list[Mention], turns: list[LabelledTurn], speakers: dict[str, _Speaker]
) -> str | None:
    """The speaker opening remarks belong to: one who names themselves in them, or the one person
    the title names who also speaks later."""
    if m := re.search(r"\b(?:I'm|I am|My name is|This is)\s+(?P<name>[A-Z][\w'’\-]+(?: [A-Z][\w'’\-]+){0,2})", opening):
        for shown, info in speakers.items():
            if fold(m["name"]) in {fold(info.person.name), fold(shown)} or fold(m["name"]).endswith(
                fold(info.person.name.split()[-1])
            ):
                return shown
    named = mentions(title)
    matches = {
        shown
        for shown, info in speakers.items()
        for person in named
        if fold(person.name) == fold(info.person.name) or resolve_label(shown, [person]) is not None
    }
    if len(matches) == 1:
        return matches.pop()
    return None


def _role_of(speaker: str, turns: list[LabelledTurn]) -> Role:
    return next((t.role_hint for t in turns if t.speaker == speaker and t.role_hint), "official")


def _date(
    meta: dict[str, Any],
    metadata: dict[str, str],
    title: str,
    header: list[str],
    path: Path,
    layout: Layout | None,
    opening: str,
    top: list[str],
    notes: list[str],
) -> tuple[date | None, str | None]:
    keys = ["date", "held_on", "event_date", "date_held", "datetime", "published", "published_time", "created"]
    keys += [k for k in meta if isinstance(k, str) and ("date" in k.lower() or "time" in k.lower()) and k not in keys]
    for key in keys:  # 'event_datetime: 2024-05-22T14:00' too
        if key in meta and (found := as_date(meta[key])):
            return found, f"front matter ({key})"
    if layout and layout.date_pattern:
        for line in [title, *header]:
            if m := layout.date_pattern.search(line):
                try:
                    return date(int(m["year"]), int(m["month"]), int(m["day"])), "layout's date pattern"
                except (ValueError, IndexError):
                    continue
    if (found := as_date(metadata.get("date"))) is not None:
        return found, "the file's own metadata"
    if found := date_in_text(title):
        return found, "title"
    for line in header:
        if found := date_in_text(line):
            return found, "dateline"
    for line in header:
        found, seen = numeric_date(line)
        if found:
            return found, "dateline (numeric, day and month certain)"
        if seen:
            notes.append(f"the date in '{line[:60]}' could be read either way (day/month or month/day): "
                         "give held_on in a sidecar NAME.meta.toml")  # fmt: skip
            break
    if found := date_in_text(opening[:400]):
        return found, "the first lines"
    for line in top:
        if len(line) < 60 and (found := date_in_text(line)):
            return found, "dateline"
    if found := date_in_file_name(path.stem):
        return found, "file name"
    return None, None
