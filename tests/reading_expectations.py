"""Checks a transcript's reading against a hand-checked expectation (tests/transcripts/*/expected.json).

Each check is one line of the result, so a test can say exactly what was read wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

from briefqa.reading.people import fold
from briefqa.records import Briefing, Turn


def load_expectations(folder: Path) -> list[dict]:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def _names(briefing: Briefing, turn: Turn) -> set[str]:
    """Every name a turn answers to: its label as shown, and the person it stands for."""
    names = {fold(turn.speaker)}
    for person in [*briefing.officials, *([briefing.chair] if briefing.chair else [])]:
        if turn.speaker in (person.name, person.label):
            names |= {fold(person.name), fold(person.label or "")}
    return names


def _same_label(expected: str, names: set[str]) -> bool:
    key = fold(expected)
    bare = " ".join(w for w in key.split() if w not in {"mr", "ms", "mrs", "dr", "mme", "m"})
    return key in names or bare in names or any(bare and n.endswith(bare) for n in names)


def _generic_reporter(label: str) -> bool:
    """A label that says 'a reporter' rather than who: 'QUESTION', 'Jornalista (O Globo)', '[Reporter, KBS]'."""
    from briefqa.reading.formats.general.labels import REPORTER_LABELS

    words = fold(re.sub(r"[\[\]]|\(.*\)|,.*", " ", label)).split()
    return bool(words) and " ".join(words) in REPORTER_LABELS


def problems(briefing: Briefing, expected: dict) -> list[str]:
    """What the reading gets wrong, one line each; empty when it matches the expectation."""
    wrong: list[str] = []
    text = briefing.text
    if expected.get("date") != (briefing.held_on.isoformat() if briefing.held_on else None):
        wrong.append(f"date: expected {expected.get('date')}, read {briefing.held_on}")
    for q in expected.get("quotes", []):
        start = text.find(q["quote"])
        turn = next((t for t in briefing.turns if t.char_start <= start < t.char_end), None)
        if turn is None:
            wrong.append(f"quote in no turn: {q['quote'][:50]!r}")
            continue
        if turn.role != q["role"]:
            wrong.append(f"role of {q['quote'][:40]!r}: expected {q['role']}, read {turn.role} ({turn.speaker})")
        names = _names(briefing, turn)
        generic = _generic_reporter(q["speaker"])
        if (
            not generic
            and not _same_label(q["speaker"], names)
            and not (q.get("name") and _same_label(q["name"], names))
        ):
            wrong.append(f"speaker of {q['quote'][:40]!r}: expected {q['speaker']}, read {turn.speaker}")
    for furniture in expected.get("not_in_any_turn", []):
        start = 0
        while (start := text.find(furniture, start)) >= 0:
            if any(t.char_start <= start < t.char_end for t in briefing.turns):
                wrong.append(f"furniture in a turn: {furniture[:60]!r}")
                break
            start += 1
    for opening in expected.get("unattributed", []):
        start = text.find(opening)
        turn = next((t for t in briefing.turns if t.char_start <= start < t.char_end), None)
        if turn is None or turn.speaker != "Unattributed":
            wrong.append(f"opening not kept as unattributed: {opening[:40]!r} ({turn.speaker if turn else 'dropped'})")
    speakers = {fold(t.speaker) for t in briefing.turns}
    for word in expected.get("not_speakers", []):
        if fold(word) in speakers:
            wrong.append(f"not a speaker, read as one: {word!r}")
    for r in expected.get("reporter", []):
        start = text.find(r["quote"])
        turn = next((t for t in briefing.turns if t.char_start <= start < t.char_end), None)
        outlet = fold(r["outlet"]).removeprefix("the ")
        if (
            turn is None
            or fold(turn.speaker) != fold(r["name"])
            or fold(turn.outlet or "").removeprefix("the ") != outlet
        ):
            found = f"{turn.speaker} / {turn.outlet}" if turn else "no turn"
            wrong.append(f"reporter of {r['quote'][:30]!r}: expected {r['name']} / {r['outlet']}, read {found}")
    if expected.get("language") and expected["language"] != briefing.language:
        wrong.append(f"language: expected {expected['language']}, read {briefing.language}")
    return wrong
