"""Who speaks: each label shown as the transcript writes it and resolved to the person it stands for,
roles from labels and from the conversation, reporters who name themselves, opening remarks'
speaker."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from briefqa.choices import Role
from briefqa.reading.formats.general.labels import (
    ANNOTATION,
    ANSWER_LABELS,
    ARTICLE,
    CAPTION_SPEAKER,
    CHAIR_LABELS,
    CHAIRING,
    REPORTER_LABELS,
    REPORTER_PREFIXES,
    STAGE_WORDS,
    UNKNOWN_LABELS,
    known_label,
)
from briefqa.reading.formats.general.layout import Layout
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
from briefqa.records import UNATTRIBUTED, LabelledTurn, Person


@dataclass
class Speaker:
    shown: str  # what turns are labelled with
    person: Person
    key: str  # folded label
    affiliation: str | None = None  # 'BBC' of 'Laura Kuenssberg, BBC:' or 'Jorge Valero (Bloomberg):'
    reporter: bool = False  # the label says so: 'QUESTION (Jane Roe, Reuters)', 'FRAGE JUNG'


_PARENTHESIS = re.compile(r"^(?P<name>.*?\S)\s*\((?P<inside>[^()]{1,60})\)$")


def generic_key(key: str) -> str:
    """A folded label without article or annotation: 'the moderator' and 'question (off mic)' alike."""
    return ARTICLE.sub("", ANNOTATION.sub("", key)).strip()


def _reporter_label(label: str, key: str, layout: Layout | None) -> Speaker | None:
    """A label that says a reporter asks: 'QUESTION', 'Question (Mediacorp)', 'Question (Sidhant Sibal,
    WION)', 'FRAGE JUNG'; with the reporter's name and outlet where it gives them."""
    if layout and key in layout.reporter_labels:
        return Speaker("Reporter", Person(name="Reporter"), key, reporter=True)
    base, inside = label, None
    if m := _PARENTHESIS.match(label):
        base, inside = m["name"], m["inside"]
    base_key = ARTICLE.sub("", fold(base)).strip()
    if base_key in REPORTER_LABELS:
        if inside is None or STAGE_WORDS.search(inside) or fold(inside) in {"off mic", "inaudible", "cont", "contd"}:
            return Speaker("Reporter", Person(name="Reporter"), key, reporter=True)
        parts = [p.strip() for p in inside.split(",") if p.strip()]
        if len(parts) >= 2:  # (Name, Outlet)
            return Speaker(
                display_label(parts[0]), Person(name=display_label(parts[0])), key, ", ".join(parts[1:]), True
            )
        return Speaker("Reporter", Person(name="Reporter"), key, parts[0] if parts else None, True)  # (Outlet)
    words = base.split()
    if len(words) >= 2 and fold(words[0]) in REPORTER_PREFIXES and words[1][:1].isupper():
        shown = display_label(" ".join(words[1:]))  # 'FRAGE DR. RINKE' -> 'Dr. Rinke'
        return Speaker(shown, Person(name=without_honorific(shown)), key, inside, True)
    return None


def speakers_of(labels: set[str], people: list[Mention], layout: Layout | None) -> dict[str, Speaker]:
    """How each label is shown, and the person it stands for."""
    found: dict[str, Speaker] = {}
    for label in labels:
        key = fold(label)
        if reporter := _reporter_label(label, key, layout):
            found[label] = reporter
            continue
        name, title = split_name_and_title(label)
        inside = None
        if (m := _PARENTHESIS.match(name)) and not known_label(key):
            name, inside = m["name"], m["inside"]
        shown = display_label(name)
        # What follows a name is a position ('Minister for Trade') or, for a reporter, an outlet ('BBC').
        extra = title or inside
        affiliation = extra if extra and not any(is_title_word(w) for w in extra.split()) else None
        if extra:
            position = display_label(extra) if affiliation is None else None
            found[label] = Speaker(shown, Person(name=without_honorific(shown), title=position), key, affiliation)
            if found[label].person.name != shown:
                found[label].person.label = shown
            continue
        if known_label(key):
            found[label] = Speaker(shown, Person(name=shown), key)
            continue
        mention = resolve_label(label, people)
        if mention and fold(mention.name) != fold(shown):
            person = Person(name=mention.name, title=mention.title, label=shown)
        else:
            person = Person(name=without_honorific(shown), title=mention.title if mention else None)
            if person.name != shown:
                person.label = shown
        found[label] = Speaker(shown, person, key)
    # An 'A' answers for the one official the title names, when there is one.
    return found


def without_honorific(name: str) -> str:
    words = name.split()
    while len(words) > 1 and fold(words[0]) in HONORIFICS:
        words.pop(0)
    return " ".join(words)


def assign_roles(turns: list[LabelledTurn], speakers: dict[str, Speaker], layout: Layout | None) -> None:
    """Set each turn's role: from its label where the label says, else from the conversation."""
    roles: dict[str, Role] = {}
    for shown, info in speakers.items():
        key = info.key
        title = fold(info.person.title or "")
        if shown == "Reporter" or info.reporter:
            roles[shown] = "reporter"
        elif (
            ARTICLE.sub("", key) in CHAIR_LABELS
            or (layout and key in layout.chair_labels)
            or "moderat" in title
            or CHAIRING.match(key)
        ):
            roles[shown] = "chair"
        elif key in ANSWER_LABELS or (layout and key in layout.official_labels):
            roles[shown] = "official"
    marked_questions = any(r == "reporter" for r in roles.values())
    asks_of: dict[str, list[bool]] = defaultdict(list)  # every speaker's turns: does it ask?
    for turn, after in zip(turns, [*turns[1:], None]):
        asks_of[turn.speaker].append("?" in turn.text[-400:] and after is not None and after.speaker != turn.speaker)
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
    # An interview's 'Host' asks, and no one else does: the host is the questioner.
    if "reporter" not in roles.values():
        for speaker, role in list(roles.items()):
            if role == "chair" and sum(asks_of[speaker]) * 2 >= len(asks_of[speaker]) > 1:
                roles[speaker] = "reporter"
    for turn in turns:
        turn.role_hint = roles.get(turn.speaker, "official")
        if turn.speaker == CAPTION_SPEAKER:  # each unnamed caption turn on its own: does it ask?
            turn.role_hint = "reporter" if "?" in turn.text[-300:] else "official"
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


_GREETING_WORDS = {"good", "morning", "afternoon", "evening", "thank", "thanks", "hello", "hi", "yes", "sir", "madam",
                   "buenos", "buenas", "dias", "tardes", "bonjour", "merci", "gracias"}  # fmt: skip


def name_reporters(turns: list[LabelledTurn]) -> None:
    """A reporter who names themselves and their outlet ('Jane Roe with Reuters') is that person of
    that outlet."""
    for turn in turns:
        if turn.role_hint != "reporter":
            continue
        m = _SELF_NAMED.match(turn.text[:200])
        if not m:
            continue
        name, outlet = m["name"], m["outlet"]
        if turn.text[:200].isupper() or any(fold(w) in _GREETING_WORDS for w in name.split()):
            continue  # 'GOOD AFTERNOON, GOVERNOR.' greets; in capitals a name cannot be told from a word
        if not all(w[0].isupper() for w in name.split()) or any(is_title_word(w) for w in name.split()):
            continue
        if not outlet[0].isupper():
            continue
        turn.speaker, turn.outlet = name, outlet
    # The moderator names the next one: 'Next, Kim from Yonhap.' or 'Helen, from STAT, go ahead.'
    for previous, turn in zip(turns, turns[1:]):
        if turn.role_hint != "reporter" or turn.outlet or previous.role_hint == "reporter":
            continue
        m = next(reversed(list(_HANDS_OVER.finditer(previous.text[-200:]))), None)
        if m is None or previous.text[-200:].isupper() or fold(m["outlet"].split()[0]) in _GREETING_WORDS:
            continue
        named = turn.speaker == "Reporter" or bool(set(fold(m["name"]).split()) & set(fold(turn.speaker).split()))
        if named:
            turn.outlet = m["outlet"]


_HANDS_OVER = re.compile(
    r"\b(?P<name>[A-Z][\w'’\-]+(?: [A-Z][\w'’\-]+)?),? (?:from|of|with|at) (?:the )?"
    r"(?P<outlet>[A-Z][\w&'’\-]*(?:\.\w+)*(?: (?:[A-Z][\w&'’\-]*|of|the|and|de|News))*)"
    r"(?=[.,!?;]|$)"
)


_INTRODUCES = re.compile(
    r"\b(?:I'm|I am|my name is|this is|soy|me llamo|je suis|je m'appelle)\s+"
    r"(?P<who>(?:[A-Z][\w'’\-.]*\s+){0,3}[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){1,2})"
)


def name_generic_speakers(turns: list[LabelledTurn], speakers: dict[str, Speaker]) -> None:
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


def opening_speaker(
    opening: str, title: str, people: list[Mention], turns: list[LabelledTurn], speakers: dict[str, Speaker]
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
    # 'Press Conference by the Chief Cabinet Secretary' and a label 'CHIEF CABINET SECRETARY HAYASHI'.
    folded_title = fold(title)
    by_position = {
        shown
        for shown, info in speakers.items()
        if (position := " ".join(w for w in shown.split() if is_title_word(w))).count(" ") >= 1
        and fold(position) in folded_title
    }
    if len(by_position) == 1:
        return by_position.pop()
    return None


def role_of(speaker: str, turns: list[LabelledTurn]) -> Role:
    return next((t.role_hint for t in turns if t.speaker == speaker and t.role_hint), "official")
