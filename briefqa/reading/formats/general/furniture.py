"""What is in no speaker's turn and no header: page headers and footers, separators, stage notes,
clock times, end marks, headings between turns, the page's footer after the last turn."""

from __future__ import annotations

import re
from collections import Counter

from briefqa.reading.formats.common import Line
from briefqa.reading.formats.general.labels import SMALL_WORDS, Candidate
from briefqa.reading.formats.general.layout import Layout

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


def furniture_why(clean: str, repeated: bool, layout: Layout | None) -> str | None:
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
    r"back to top|related|tags?|topics?|categories|filed under|issued by|authori[sz]ed by)\b|"
    r"not an official record|for information media|(?:press )?conference ends|briefing ends",
    re.IGNORECASE,
)


def footer_lines(lines: list[Line], last_label: int, layout: Layout | None) -> set[int]:
    """The lines at the end of a file, after the last turn's text, that are the page's and not the
    speaker's: copyright, links, contact details, 'Is this page useful?', an office's name. Walked
    from the end back to the first line a speaker would say."""
    found: set[int] = set()
    weak: set[int] = set()  # a page's short lines ('Ukraine', 'Deterrence and defence'): footer only beside a sure one
    for i in range(len(lines) - 1, last_label, -1):
        clean = lines[i].clean
        if not clean:
            continue
        words = clean.split()
        office = (
            len(words) <= 6
            and not clean.endswith((".", "?", "!", ","))
            and all(
                w[:1].isupper() or w[:1].isdigit() or w.lower() in SMALL_WORDS or not w[:1].isalpha() for w in words
            )
        )
        if _FOOTER_LINE.search(clean) or office or furniture_why(clean, False, layout):
            found.add(i)
        elif len(words) <= 4 and not clean.endswith((".", "?", "!", ",", ";", ":")):
            weak.add(i)
        else:
            break
    return found | weak if found else set()


def repeated_lines(lines: list[Line]) -> set[str]:
    """Short lines that recur, digits aside, three times or more: running headers and footers."""
    shapes = Counter(re.sub(r"\d+", "#", ln.clean) for ln in lines if 0 < len(ln.clean) <= 120)
    return {s for s, n in shapes.items() if n >= 3}


def blank_or_separator(clean: str) -> bool:
    return not clean or bool(re.fullmatch(r"[-=_*~#•·]{3,}", clean))


def heading_lines(lines: list[Line], labelled: dict[int, list[Candidate]]) -> set[int]:
    """Lines between turns that head what follows ('Press availability following the rally'): short,
    without a sentence's end, blank lines around them, and a label next."""
    found = set()
    for i in range(1, len(lines) - 2):
        clean = lines[i].clean
        if not clean or i in labelled or len(clean) > 80 or clean.endswith((".", "?", "!", ",", ";", ":", '"', "”")):
            continue
        if not all(blank_or_separator(lines[k].clean) for k in (i - 1, i + 1)):
            continue
        following = next((k for k in range(i + 1, len(lines)) if not blank_or_separator(lines[k].clean)), None)
        if following is not None and following in labelled and clean[0].isupper():
            found.add(i)
    return found
