"""Split speaker turns into passages that keep their offsets into the briefing's text, and
passages into the sentences that are embedded one by one.

A turn is the unit; only a turn longer than ``max_tokens`` model tokens is split, on sentence
boundaries, with ``overlap_tokens`` of overlap (langchain-text-splitters). Every passage's text is
an exact slice of the transcript, so a citation can always be checked against its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from briefqa.models import Briefing, Passage, Turn
from briefqa.options import ChunkSettings

# Paragraphs, then sentence ends, then clauses, then words. A line break alone is no boundary:
# White House transcripts wrap lines mid-sentence, and a passage cut there ends "...Al Junaid
# Multi". A paragraph is a blank line (White House) or a line ending a sentence (SCIO pages).
_SEPARATORS = [
    r"\n\s*\n",
    r"(?<=[.!?\"”’)])[ \t\u00a0]*\n",
    r"(?<=[.!?])[\"”’)]?\s+",
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
]

TokenCounter = Callable[[str], int]
# A sentence ends at . ! or ? (and any closing quote) followed by space. How sentences split
# decides which vectors an index holds: a change here goes with a new store.FORMAT_VERSION.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+")
MIN_SENTENCE_WORDS = 4  # a shorter sentence ("Thank you.", "Yes.") is embedded with the one before


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) within ``text`` of each of its sentences."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def sentence_texts(passage: Passage) -> list[str]:
    """What is embedded for each sentence of a passage, after the speaker's name: a figure deep in
    a long answer gets a vector of its own (the passage's is dominated by the rest)."""
    sentences: list[str] = []
    for start, end in sentence_spans(passage.text):
        words = passage.text[start:end].split()
        if sentences and len(words) < MIN_SENTENCE_WORDS:
            sentences[-1] += " " + " ".join(words)
        else:
            sentences.append(" ".join(words))
    return [f"{passage.speaker}: {s}" for s in sentences or [" ".join(passage.text.split())]]


def split_turn(text: str, settings: ChunkSettings, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    """(start, end) offsets within ``text`` of each passage of one turn."""
    if count_tokens(text) <= settings.max_tokens:
        return [(0, len(text))]
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # 0.25 s to import: only to build

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.max_tokens,
        chunk_overlap=settings.overlap_tokens,
        length_function=count_tokens,
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )
    spans, cursor = [], 0
    for chunk in splitter.split_text(text):
        start = text.find(chunk, cursor)
        if start == -1:  # the splitter only ever returns slices of its input
            raise AssertionError(f"passage not found in its turn: {chunk[:60]!r}")
        spans.append((start, start + len(chunk)))
        cursor = start + 1
    return spans


def embedded_text(passage_text: str, turn: Turn, briefing: Briefing, settings: ChunkSettings) -> str:
    parts = []
    if "title" in settings.context:
        parts.append(briefing.title)
    if "speaker" in settings.context:
        parts.append(f"{turn.speaker} ({turn.role})")
    if "question" in settings.context and turn.answers_turn is not None:
        parts.append("Question: " + " ".join(briefing.turn(turn.answers_turn).text.split()))
    parts.append(" ".join(passage_text.split()))
    return "\n".join(parts)


def chunk_briefing(briefing: Briefing, settings: ChunkSettings, count_tokens: TokenCounter) -> list[Passage]:
    passages = []
    for turn in briefing.turns:
        question = briefing.turn(turn.answers_turn) if turn.answers_turn is not None else None
        spans = split_turn(turn.text, settings, count_tokens)
        for part, (start, end) in enumerate(spans, start=1):
            text = turn.text[start:end]
            pid = f"{briefing.id}#{turn.index}" if len(spans) == 1 else f"{briefing.id}#{turn.index}.{part}"
            passages.append(
                Passage(
                    id=pid,
                    briefing_id=briefing.id,
                    briefing_title=briefing.title,
                    held_on=briefing.held_on,
                    turn_index=turn.index,
                    part=part,
                    speaker=turn.speaker,
                    role=turn.role,
                    text=text,
                    char_start=turn.char_start + start,
                    char_end=turn.char_start + end,
                    answers_turn=turn.answers_turn,
                    question_outlet=question.speaker if question else None,
                    question_text=question.text if question else None,
                    embedded_text=embedded_text(text, turn, briefing, settings),
                )
            )
    return passages


def chunk_briefings(briefings: list[Briefing], settings: ChunkSettings, count_tokens: TokenCounter) -> list[Passage]:
    return [p for b in briefings for p in chunk_briefing(b, settings, count_tokens)]
