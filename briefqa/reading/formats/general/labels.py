"""Speaker labels: the words that say a role, the shapes labels take at the start of a line, and
which candidates a file's recurrences make labels."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from briefqa.reading.formats.common import Line
from briefqa.reading.formats.general.layout import Layout
from briefqa.reading.people import fold, is_title_word
from briefqa.records import UNIDENTIFIED

# Labels whose role the label itself says (folded: lower case, no accents or dots).
REPORTER_LABELS = {
    "q", "question", "questions", "journalist", "journalists", "reporter", "reporters", "press", "media",
    "pregunta", "interlocutor", "interlocutora", "interlocutores", "periodista", "reportero", "reportera",
    "journaliste", "question de la presse", "audience member", "audience", "unidentified reporter",
    "unidentified journalist", "off-mic reporter", "questioner", "correspondent", "jornalista",
    "frage", "zusatzfrage", "fragesteller", "domanda", "giornalista", "pergunta",
}  # fmt: skip
# A reporter's word before a name: the German government's 'FRAGE JUNG', 'ZUSATZFRAGE JUNG'.
REPORTER_PREFIXES = {"frage", "zusatzfrage", "question", "pregunta", "q"}
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

SMALL_WORDS = {"of", "for", "the", "and", "to", "on", "de", "del", "la", "el", "y", "du", "des", "et", "le", "les",
          "da", "van", "von", "in", "at", "a"}  # fmt: skip


TIME = r"\d{1,2}(?::\d\d){1,2}"
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    ("bold", re.compile(r"\*\*(?P<label>[^*\n]{1,80}?)\s*(?::\*\*|\*\*\s*[:：.])[ \t]*")),
    ("tag", re.compile(r"<(?P<tag>[A-Za-z][\w-]*)>(?P<label>[^<\n]{1,80})</(?P=tag)>\s*[.:]?[ \t]*")),
    ("q", re.compile(r"(?P<label>Q|A)(?:[ \t]*[:.][ \t]*|[ \t]+)(?=\S)")),
    (
        "colon",
        re.compile(
            r"(?P<label>[^\W\d_][^:：\n]{0,99}?)[ \t]*(?:\((?P<ts>" + TIME + r")\))?[ \t]*(?:[:：]|\.[ \t]?[-–—])"
            r"(?:[ \t]*[\(\[]" + TIME + r"[\)\]])?(?:[ \t]+|$)"
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
TRAILING_MARK = re.compile(r"\s+(ENDS|END|E&OE|-ENDS-)\s*\Z")
_CAPTION_MARK = re.compile(r">>[ \t]*")
CAPTION_SPEAKER = UNIDENTIFIED  # a caption's '>>' turn with no name: its role is the turn's own
_QUESTION_NUMBER = re.compile(r"Q\d{1,4}[ \t]+(?=[A-Z])")  # a committee's numbered questions: 'Q12   Chair:'
LINE_NUMBER = re.compile(r"^[ \t]*\d{1,2}(?:[ \t]{2,}|[ \t]*$)")
_TIMESTAMP_PREFIX = re.compile(r"^[ \t]*[\[(]?-?\d{1,2}(?::\d\d){1,3}(?:[.,]\d+)?[\])]?[ \t]+(?=\S)")
_HONORIFIC_OR_TITLE = re.compile(
    r"^(Mr|Ms|Mrs|Miss|Dr|Prof|Sen|Rep|Gov|Amb|Gen|Adm|Hon|Chairman|Chairwoman|Chair|Senator|Governor|"
    r"Secretary|Representative|Ambassador|Admiral|General|Commissioner|Director|Minister|Judge|Justice|"
    r"President|Speaker|Mayor|Dean|The)\b"
)


@dataclass
class Candidate:
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
    if known_label(key):
        return True
    if re.search(r"[?!;\"“”«»]|https?:|www\.|\d{1,2}:\d\d|\b(?:19|20)\d\d\b", label):
        return False  # a sentence, a link, a time or a year: 'FRIDAY, 15 MARCH 2024' is a dateline
    words = label.replace(",", " , ").split()
    # 'SECRETARIA DE DESARROLLO AGRARIO, TERRITORIAL Y URBANO, EDNA VEGA RANGEL' names a position too
    if len(words) > (16 if label.isupper() and "," in label else 9):
        return False
    if words[-1].lower() in SMALL_WORDS:
        return False
    for word in words:
        if word in {",", "&", "-", "–", "/"}:
            continue
        if word[0].isupper() or word[0].isdigit() or word[0] in "(“'":
            continue
        if word in SMALL_WORDS or is_title_word(word):  # 'M. le Premier ministre', 'ministre du Logement'
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


def known_label(key: str) -> bool:
    key = ARTICLE.sub("", ANNOTATION.sub("", key)).strip()  # 'Question (off mic)' is a question
    return key in REPORTER_LABELS or key in ANSWER_LABELS or key in CHAIR_LABELS or bool(UNKNOWN_LABELS.match(key))


# Labels of whoever presides: 'Chairman Dodd', 'The Chairwoman', 'Chief Justice Roberts'.
CHAIRING = re.compile(
    r"^(?:the )?(?:chairman|chairwoman|chairperson|chair|chief justice|presiding|madam chair|mr chairman)\b"
)
ARTICLE = re.compile(r"^(?:the|le|la|el|l')\s*")
ANNOTATION = re.compile(r"\s*\([^)]*\)\s*$")


def _clean_label(raw: str) -> str:
    label = re.sub(r"\(" + TIME + r"\)", "", raw)
    return " ".join(label.strip(" \t*_:.").split())


def find_candidates(lines: list[Line], numbered: bool, layout: Layout | None) -> list[Candidate]:
    found: list[Candidate] = []
    for i, line in enumerate(lines):
        raw = line.raw.replace("\u00a0", " ")
        pos = len(raw) - len(raw.lstrip())
        if numbered and (m := LINE_NUMBER.match(raw)):
            pos = m.end()
            pos += len(raw[pos:]) - len(raw[pos:].lstrip())
        indent = pos
        if m := _TIMESTAMP_PREFIX.match(raw, pos):
            pos = m.end()
        if m := _QUESTION_NUMBER.match(raw, pos):
            pos = m.end()
        caption = _CAPTION_MARK.match(raw, pos)  # closed captions: '>>' starts a turn, a name or not
        if caption:
            pos = caption.end()
        # A time stamp or question number before a label is the label's ('[00:01:02] Jane Doe:').
        lead = line.start + indent
        rest = raw[pos:]
        if not rest.strip():
            continue
        if layout and layout.label_pattern:
            if (m := layout.label_pattern.match(raw, pos)) and m["label"].strip():
                found.append(
                    Candidate(
                        i,
                        "layout",
                        _clean_label(m["label"]),
                        lead,
                        line.start + m.end(),
                        not raw[m.end() :].strip(),
                    )
                )
            continue
        stripped = rest.strip()
        if caption:  # '>> GOV. PHIL MURPHY: ...' names the speaker; '>> THANK YOU, GOVERNOR.' does not
            named = _SHAPES[3][1].match(raw, pos)
            label = _clean_label(named["label"]) if named else ""
            if named and _valid_label(label, "colon"):
                found.append(Candidate(i, "caption", label, lead, line.start + named.end(), False))
            else:
                found.append(Candidate(i, "caption", CAPTION_SPEAKER, lead, line.start + pos, False))
            continue
        # '[Minister Cho Tae-yul]' on a line of its own (a stage note, '[Laughter]', is not a name).
        if (m := re.fullmatch(r"\[(?P<label>[^\[\]]{2,80})\]", stripped)) and not STAGE_WORDS.search(m["label"]):
            label = _clean_label(m["label"])
            if name_like(label) or known_label(fold(label.split(",")[0])):
                found.append(Candidate(i, "bracket", label, lead, line.end, True))
                continue
        # A label on a line of its own: 'Yu Jianhua:', 'GOVERNOR SMITH', '**Jane Roe:**'.
        own = re.fullmatch(r"(?:\*\*)?(?P<label>[^:：]{1,100}?)(?:[ \t]*\((?P<ts>" + TIME + r")\))?"
                           r"(?:\*\*)?[ \t]*(?P<colon>[:：.])?(?:\*\*)?(?:[ \t]*[\(\[]" + TIME + r"[\)\]])?"
                           r"(?P<stamp>[ \t]{2,}" + TIME + r")?",  # otter.ai: 'Speaker 1  0:03'
                           stripped)  # fmt: skip
        if own and own["stamp"] and own["colon"] is None:
            label = _clean_label(own["label"])
            if _valid_label(label, "colon"):
                found.append(Candidate(i, "colon", label, lead, line.end, True))
                continue
        if own and own["colon"] is None and not own["label"].isupper() and _next_is_speech(lines, i):
            # 'Andrew Bailey' on a line of its own, the speech below (a PDF's text): a label if it recurs.
            label = _clean_label(own["label"])
            person = name_like(label) and not _ORGANISATION.search(label.split(",")[0])
            if 2 <= len(label.split()) <= 5 and person and _valid_label(label, "own"):
                found.append(Candidate(i, "ownname", label, lead, line.end, True))
                continue
        if own and (own["colon"] in (":", "：") or (own["label"].isupper() and own["colon"] is None)):
            label = _clean_label(own["label"])
            if _valid_label(label, "own" if own["colon"] is None else "colon") and (
                own["colon"] or len(label.split()) <= 6
            ):
                found.append(Candidate(i, "own" if own["colon"] is None else "colon", label, lead, line.end, True))
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
                found.append(Candidate(i, shape, label, lead, line.start + m.end(), not raw[m.end() :].strip(), pos))
                break
        if len(raw) > 1500 or len(lines) <= 3:  # a file without line breaks: labels after sentences
            midline: dict[int, Candidate] = {}
            for m in _MIDLINE.finditer(raw):
                label = _clean_label(m["label"])
                if _valid_label(label, "colon"):
                    start = line.start + m.start("label")
                    midline[start] = Candidate(i, "midline", label, start, line.start + m.end(), False)
            # A label found after a sentence is a label wherever else it stands ('... Massachusetts
            # GOVERNOR HEALEY: Good afternoon').
            for label in {c.label for c in midline.values() if c.label.isupper() and len(c.label) > 3}:
                for m in re.finditer(r"(?<![\w])" + re.escape(label) + r"[:：][ \t]+(?=\S)", raw):
                    midline.setdefault(line.start + m.start(), Candidate(i, "midline", label, line.start + m.start(),
                                                                         line.start + m.end(), False))  # fmt: skip
            found.extend(midline[start] for start in sorted(midline))
    return found


def accepted_labels(candidates: list[Candidate], layout: Layout | None) -> list[Candidate]:
    """The candidates that are labels: known ones, and those whose label recurs in a shape that
    recurs. A label used once passes when it reads as a name in a shape the file uses for others."""
    if layout and layout.label_pattern:
        return candidates
    counts = Counter(fold(c.label) for c in candidates)
    shape_hits: Counter[str] = Counter()
    for c in candidates:
        recurs = counts[fold(c.label)] >= 2 or known_label(fold(c.label))
        if recurs or (c.shape not in ("period", "ownname") and name_like(c.label)):
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
                      or known_label(fold(c.label)))), default=-1)  # fmt: skip
    # 'Mr. Smith.' once is a label where the recurring ones stand indented just so (a hearing's
    # turns); a wrapped sentence that starts a line with a name is not indented like them.
    indents = Counter(c.indent for c in candidates if c.shape == "period" and counts[fold(c.label)] >= 2)
    label_indent = indents.most_common(1)[0][0] if indents else 0
    accepted = []
    for c in candidates:
        key = fold(c.label)
        if c.shape not in shapes:
            continue
        once = c.line > first_sure and name_like(c.label)
        if c.shape in ("bold", "tag"):  # markup says it is a label: '**Emery:**' once is one
            once = c.line > first_sure and c.label[:1].isupper()
        if c.shape == "caption":  # a caption's '>>' starts a turn wherever it stands
            once = True
        if c.shape == "period":  # 'RACHEL SIEGEL. Thank you': upper case is a label's, not a sentence's
            upper = c.label.isupper() and len(c.label.split()) >= 2
            once = once and (upper or (label_indent > 0 and c.indent == label_indent))
        if counts[key] >= 2 or known_label(key) or once:
            accepted.append(c)
    return accepted


STAGE_WORDS = re.compile(
    r"\b(?:laughter|laughs|applause|crosstalk|cross-talk|inaudible|unintelligible|music|silence|pause|break|"
    r"video|audio|recording|begin|end|transcript|sic|translation|translated|interpretation|off[- ]mic|"
    r"risas|aplausos|inaudible|rires|applaudissements)\b",
    re.IGNORECASE,
)


def _next_is_speech(lines: list[Line], i: int) -> bool:
    """A turn begins below: a line of several words starting as a sentence does (a running footer's
    next line goes on with the sentence the page broke)."""
    following = next((ln.clean for ln in lines[i + 1 : i + 4] if ln.clean), "")
    following = LINE_NUMBER.sub("", following).strip()
    return len(following.split()) >= 6 and following[:1].isupper()


# Words of an organisation's name, never a person's: a page's running 'Alderson Reporting Company'.
_ORGANISATION = re.compile(
    r"\b(?:company|inc|ltd|llc|corporation|reporting|office|department|ministry|court|bank|agency|"
    r"committee|council|government|university|institute|services|press|news|transcripts?)\b",
    re.IGNORECASE,
)


def name_like(label: str) -> bool:
    """A name or position, not a sentence: 'Jane Roe', 'GOVERNOR SMITH', 'Andrew Gray (Reuters)'."""
    label = ANNOTATION.sub("", label)
    words = [w for w in label.replace(",", " ").split() if w]
    if label.isupper() and any(len(w) > 1 for w in words):
        return True
    return 2 <= len(words) <= 5 and all(w[0].isupper() or w in SMALL_WORDS for w in words)


def numbered_margin(lines: list[Line]) -> bool:
    """Line numbers down the left margin (a court or hearing transcript's PDF text)."""
    content = [ln for ln in lines if ln.clean]
    if len(content) < 20:
        return False
    numbered = sum(1 for ln in content if LINE_NUMBER.match(ln.raw))
    return numbered / len(content) > 0.3
