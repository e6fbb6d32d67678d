"""People as transcripts name them: how a label is shown, which words are titles, and which full
name a label ('PM', 'MS. JEAN-PIERRE', 'TREASURER') stands for when the title line, a speakers list
or a first mention makes it certain."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words of a position, not of a name (lower case, accents removed). A label or mention made of
# these and a name splits into a title and a name.
TITLE_WORDS = {
    "president", "vice", "prime", "minister", "deputy", "secretary", "press", "treasurer", "governor",
    "chair", "chairman", "chairwoman", "chairperson", "director", "general", "spokesperson", "spokesman",
    "spokeswoman", "ambassador", "senator", "representative", "congressman", "congresswoman", "mayor",
    "premier", "chancellor", "commissioner", "administrator", "attorney", "advisor", "adviser",
    "assistant", "chief", "officer", "head", "leader", "speaker", "member", "counsel", "justice", "judge",
    "admiral", "colonel", "captain", "major", "lieutenant", "sergeant", "commander", "surgeon", "coordinator",
    "executive", "national", "security", "state", "foreign", "affairs", "finance", "health", "trade",
    "defence", "defense", "economy", "home", "interior", "education", "energy", "environment", "federal",
    "reserve", "bank", "board", "council", "committee", "department", "office", "ministry", "white", "house",
    "opposition", "shadow", "acting", "senior", "principal", "associate", "lord", "lady", "baroness", "dame",
    "sir", "king", "queen", "prince", "governing", "central", "agency", "for", "of", "the", "and", "to", "on",
    "official", "cabinet", "taoiseach", "tanaiste", "ministre", "secretary-general",
    # Spanish, French, Portuguese, Italian
    "presidente", "presidenta", "ministro", "ministra", "secretario", "secretaria", "gobernador",
    "gobernadora", "vocero", "vocera", "portavoz", "directora", "subsecretario", "subsecretaria",
    "canciller", "jefe", "jefa", "de", "del", "la", "el", "los", "las", "y", "economia", "hacienda", "salud",
    "gobierno", "relaciones", "exteriores", "porte-parole", "secretaire", "d'etat",
    "du", "des", "et", "le", "les", "gouverneur", "porta-voz",
}  # fmt: skip
HONORIFICS = {"mr", "ms", "mrs", "miss", "mx", "dr", "prof", "professor", "madam", "sr", "sra", "srta", "mme", "m",
              "hon", "shri", "smt", "sri", "herr", "frau"}  # fmt: skip
# Offices written as capitals before a name: 'DA BRAGG', 'AG JAMES', 'STS HEBESTREIT'.
ACRONYMS = {
    "da", "ag", "us", "un", "eu", "uk", "sts", "pm", "dpm", "fm", "sg", "dg", "ceo", "cdc", "who", "imf", "ecb",
    "fed", "nsc", "dhs", "doj", "fbi", "nypd", "lapd", "lt", "sgt", "cmdr", "supt", "insp", "det",
}  # fmt: skip
# Letters after a name: 'Micheál Martin TD', 'Anthony Albanese MP', 'Alvin L. Bragg, Jr.'
POST_NOMINALS = {"td", "mp", "msp", "mla", "kc", "qc", "jr", "ii", "iii", "obe", "mbe", "cbe", "ac", "mep"}
_SMALL = {"of", "for", "the", "and", "to", "on", "de", "del", "la", "el", "y", "du", "des", "et", "le", "les", "da"}


def fold(text: str) -> str:
    """Lower case without accents or dots: 'LÓPEZ' -> 'lopez', 'Mr.' -> 'mr'."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace(".", ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_NAME_PART = re.compile(r"([-'’])")


def title_case(word: str) -> str:
    """'JEAN-PIERRE' -> 'Jean-Pierre', "O'ROURKE" -> "O'Rourke", 'MCDONOUGH' -> 'McDonough'."""
    parts = []
    for part in _NAME_PART.split(word):
        if part.startswith("MC") and len(part) > 3:
            parts.append("Mc" + part[2:].capitalize())
        else:
            parts.append(part.capitalize())
    return "".join(parts)


def display_label(label: str) -> str:
    """A label as a reader shows it: upper-case words in title case ('MR. PRICE' -> 'Mr. Price'),
    except abbreviations and initials, which stay as written ('PM', 'GE'); small words of a title in
    lower case ('MINISTER FOR TRADE' -> 'Minister for Trade')."""
    words = label.split()
    if not label.isupper():
        return " ".join(words)  # mixed case is as the transcript wants it ('Mr Lavery KC')
    shown = []
    for i, word in enumerate(words):
        bare = word.strip(".,()")
        if not word.isupper() or not any(c.isalpha() for c in word):
            shown.append(word)
        elif fold(bare) in ACRONYMS and len(words) > 1 and i == 0:
            shown.append(word)  # 'DA BRAGG' -> 'DA Bragg'
        elif fold(bare) not in HONORIFICS | _SMALL and (
            len(bare) <= 3 and len(words) == 1 or not re.search("[AEIOUY]", bare)
        ):
            shown.append(word)  # PM, GE, DPM, CCTV, NBC: initials and acronyms, kept
        elif i > 0 and fold(bare) in _SMALL:
            shown.append(word.lower())
        else:
            shown.append(title_case(word))
    return " ".join(shown)


def is_title_word(word: str) -> bool:
    return fold(word.strip(",.()")) in TITLE_WORDS


def split_name_and_title(label: str) -> tuple[str, str | None]:
    """'Jane Roe, Minister for Trade' -> ('Jane Roe', 'Minister for Trade'); 'Secretaria de
    Economía, Ana López' -> ('Ana López', 'Secretaria de Economía'); a label without a comma is all
    name."""
    if "," not in label:
        return label, None
    first, _, second = (part.strip() for part in label.partition(","))
    if not first or not second:
        return label, None
    # The part that starts with a position's word is the title: 'Subsecretario de Comercio Exterior'.
    first_title = is_title_word(first.split()[0])
    second_title = is_title_word(second.split()[0])
    if first_title and not second_title:
        return second, first
    if second_title and not first_title:
        return first, second
    return first, second  # 'Name, Position' is the usual order


@dataclass(frozen=True)
class Mention:
    """A person named with their position in a title, a speakers list or the text."""

    name: str  # 'Karine Jean-Pierre'
    title: str | None  # 'Press Secretary'


# 'and' is not in it: 'Prime Minister Jane Roe and Treasurer Gil Evans' names two people.
_CAP_WORD = r"(?:[A-ZÀ-ÖØ-Þ][\w'’\-.]*|of|for|the|de|del|la|el|du|des|le)"
_RUN = re.compile(_CAP_WORD + r"(?:\s+" + _CAP_WORD + r")*")
_PART = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+"
# 'Karine', 'Jean-Pierre', "O'Rourke", 'McDonough', 'J.'
_NAME_WORD = re.compile(rf"^(?:Mc|Mac|O['’]|D['’])?{_PART}(?:[-'’]{_PART})*$|^[A-ZÀ-ÖØ-Þ]\.$")


def mentions(text: str) -> list[Mention]:
    """People named in a line of text with their title: 'Press Briefing by Press Secretary Karine
    Jean-Pierre and NSC Coordinator John Kirby' -> Karine Jean-Pierre (Press Secretary), John Kirby
    (NSC Coordinator); 'Jane Roe, Minister for Trade' -> Jane Roe (Minister for Trade)."""
    found: list[Mention] = []
    if sum(c.isupper() for c in text) > sum(c.islower() for c in text):  # 'HOSTED BY PRIME MINISTER CHRISTOPHER LUXON'
        text = display_label(text)
    for run in _RUN.finditer(text):
        # Capitalised words of a headline that are no one's name end a run: '... Deanne Criswell En
        # Route Ponce' names Deanne Criswell.
        chunks: list[list[str]] = [[]]
        for word in run.group().split():
            if fold(word.strip(",")) in POST_NOMINALS or word in _HEADLINE_BREAKS:  # 'Micheál Martin TD'
                chunks.append([])
            else:
                chunks[-1].append(word)
        for words in chunks:
            if mention := _mention(words, text[run.end() :] if words is chunks[-1] else ""):
                # 'the Taoiseach, Micheál Martin': the position before the name
                before = _POSITION_BEFORE.search(text[: run.start()]) if mention.title is None else None
                if before and all(is_title_word(w) for w in before.group(1).split()):
                    mention = Mention(mention.name, before.group(1))
                found.append(mention)
    return found


_POSITION_BEFORE = re.compile(r"([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*),\s*$")
_HEADLINE_BREAKS = {"En", "Route", "At", "In", "On", "With", "From", "To", "Aboard", "After", "Before", "During",
                    "Following", "Upon", "Via", "About", "Regarding", "Ahead", "And", "Y", "Et", "By"}  # fmt: skip


def _mention(words: list[str], after: str) -> Mention | None:
    """[title words] name words -> the mention; names are two to four capitalised non-title words."""
    while words and fold(words[-1]) in _SMALL:
        words.pop()
    name_words: list[str] = []
    for word in reversed(words):
        if _NAME_WORD.match(word) and not is_title_word(word) and fold(word) not in HONORIFICS:
            name_words.insert(0, word)
        else:
            break
    if not 2 <= len(name_words) <= 4:
        return None
    title_words = words[: len(words) - len(name_words)]
    # A position starts at its first position word: 'That Was Governor' is 'Governor'.
    while title_words and (fold(title_words[0]) in _SMALL or not is_title_word(title_words[0])):
        title_words.pop(0)
    title = " ".join(w for w in title_words if fold(w) not in HONORIFICS) or None
    # 'Jane Roe, Minister for Trade': the position after the name.
    if title is None and (m := re.match(r",\s*(?:the\s+)?([A-Z][\w'’\-]*(?:\s+" + _CAP_WORD + r")*)", after)):
        candidate = m.group(1).split()
        if all(is_title_word(w) or w.isupper() for w in candidate):
            title = " ".join(candidate)
    return Mention(" ".join(name_words), title)


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w and fold(w) not in _SMALL).lower()


def resolve_label(label: str, people: list[Mention]) -> Mention | None:
    """The one person a label stands for, when exactly one fits: its surname ('Ms. Jean-Pierre'),
    its initials ('GE' for Gil Evans), its position's initials ('PM' for Prime Minister) or its
    position ('Treasurer'). None when none or several fit."""
    words = [w for w in label.replace(",", " ").split() if fold(w) not in HONORIFICS]
    if not words:
        return None
    key = fold(" ".join(words))
    candidates: dict[str, Mention] = {}

    def fits(m: Mention) -> bool:
        name_words = m.name.split()
        if key == fold(m.name):
            return True
        title_words = [w for w in words if is_title_word(w)]
        # An office's abbreviation before a surname is a title too: 'DA Bragg', 'AG James'.
        rest = [w for w in words if not is_title_word(w) and fold(w) not in ACRONYMS]
        if rest and fold(" ".join(rest)) in {fold(name_words[-1]), fold(" ".join(name_words[-2:]))}:
            return True  # a surname, perhaps with a title: 'Ms. Jean-Pierre', 'Governor Smith'
        if len(words) == 1 and len(words[0]) <= 4 and words[0].isupper():
            initials = words[0].lower()
            if initials == _initials(name_words):
                return True
            if m.title and initials == _initials(m.title.split()):
                return True
        if m.title and not rest and title_words and key == fold(m.title):
            return True
        return bool(m.title and not rest and title_words and fold(m.title).endswith(key))

    for mention in people:
        if fits(mention):
            candidates.setdefault(fold(mention.name), mention)
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    return None
