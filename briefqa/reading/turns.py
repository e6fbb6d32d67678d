"""Resolve speaker roles across a corpus and link each answer to the question it answers.

Roles come, in order of trust, from:
1. a briefing's ``Speakers:`` / ``Chairperson:`` blocks (or its sidecar): a name listed as an
   official or chair in any briefing has that role in every briefing;
2. the format itself (``LabelledTurn.role_hint``, set by the format's parser): a turn's own role
   when its reader gives one, whatever the same name is elsewhere (a caption's unnamed '>>' turns
   each have their own);
3. the conversation: a turn that asks (contains '?') and is followed by an official's answer is
   a reporter's outlet; a turn that follows a reporter's question is an official's answer.
   Labels still unknown after that are reporters when most of their turns ask, else officials.
"""

from __future__ import annotations

from collections import defaultdict

from briefqa.records import UNNAMED_SPEAKERS, Briefing, ParsedTranscript, Person, Role, Turn


def resolve(transcripts: list[ParsedTranscript]) -> list[Briefing]:
    """Turn parsed transcripts into briefings with roles and question links."""
    roles = infer_roles(transcripts)
    return [_briefing(t, roles) for t in transcripts]


def infer_roles(transcripts: list[ParsedTranscript]) -> dict[str, Role]:
    """Role of every speaker label in the corpus (see the module's docstring)."""
    roles: dict[str, Role] = {}
    for t in transcripts:
        for person in t.officials:
            roles.setdefault(person.name, "official")
        if t.chair:
            roles[t.chair.name] = "chair"
    for t in transcripts:
        for turn in t.turns:
            if turn.role_hint and turn.speaker not in roles:
                roles[turn.speaker] = turn.role_hint

    pairs = [(a, b) for t in transcripts for a, b in zip(t.turns, t.turns[1:]) if a.speaker != b.speaker]
    _propagate(pairs, roles)
    asks: dict[str, list[bool]] = defaultdict(list)
    for t in transcripts:
        for turn in t.turns:
            if turn.speaker not in roles:
                asks[turn.speaker].append("?" in turn.text)
    for speaker, votes in asks.items():
        if speaker not in roles:
            roles[speaker] = "reporter" if sum(votes) * 2 > len(votes) else "official"
            _propagate(pairs, roles)
    return roles


def _propagate(pairs, roles: dict[str, Role]) -> None:
    changed = True
    while changed:
        changed = False
        for question, answer in pairs:
            q, a = roles.get(question.speaker), roles.get(answer.speaker)
            if q is None and a == "official" and "?" in question.text:
                roles[question.speaker] = "reporter"
                changed = True
            elif a is None and q == "reporter":
                roles[answer.speaker] = "official"
                changed = True


def link_answers(turns: list[Turn]) -> None:
    """Set ``answers_turn`` on each official turn: the number of the nearest reporter turn before it, looking
    back past other officials (a minister handing a question to a colleague gives two answers
    to one question) but not past the chair (who moves the conference on)."""
    for i, turn in enumerate(turns):
        if turn.role != "official":
            continue
        for j in range(i - 1, -1, -1):
            if turns[j].role == "reporter":
                turn.answers_turn = turns[j].index
                break
            if turns[j].role == "chair":
                break


def _briefing(t: ParsedTranscript, roles: dict[str, Role]) -> Briefing:
    turns = [
        Turn(
            index=i,
            speaker=lt.speaker,
            role=lt.role_hint or roles[lt.speaker],  # a reader's role for the turn is the turn's own
            text=lt.text,
            char_start=lt.char_start,
            char_end=lt.char_end,
            outlet=lt.outlet,
        )
        for i, lt in enumerate(t.turns, start=1)
    ]
    link_answers(turns)
    officials = {p.label or p.name: p for p in t.officials}  # by what the turns carry: 'PM', 'GE
    for turn in turns:
        if turn.role == "official" and turn.speaker not in UNNAMED_SPEAKERS:  # no one's name
            officials.setdefault(turn.speaker, Person(name=turn.speaker))
    chair = t.chair or next((Person(name=x.speaker) for x in turns if x.role == "chair"), None)
    outlets = (
        list(dict.fromkeys(x.speaker for x in turns if x.role == "reporter")) if t.reporter_labels_are_outlets else []
    )
    return Briefing(
        id=t.id,
        title=t.title,
        held_on=t.held_on,
        published_on=t.published_on,
        source=t.source,
        source_url=t.source_url,
        language=t.language,
        collection=t.collection,
        reader=t.reader,
        officials=list(officials.values()),
        chair=chair,
        outlets=outlets,
        turns=turns,
        text=t.text,
    )
