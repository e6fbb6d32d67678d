"""Split speaker turns into passages that keep their offsets into the briefing's text, and
passages into the sentences that are embedded one by one.

A turn is the unit; only a turn longer than ``max_tokens`` model tokens (or ``max_chars``
characters) is split: into runs of whole paragraphs, or of whole sentences
(``briefqa.reading.sentences``) within a paragraph too long to be a passage, each within both
bounds, consecutive runs sharing up to ``overlap_tokens`` of them. A sentence too long
to be a passage on its own is split at clauses, then words (langchain-text-splitters), and a run
with no boundary at all (Chinese script without punctuation, one "word" to a word-counting
tokenizer) is cut into slices. Every passage's text is an exact slice of the transcript, so a
citation can always be checked against its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from briefqa.options import ChunkSettings
from briefqa.reading.sentences import sentence_spans, sentence_units
from briefqa.records import Briefing, Passage, Turn

# A paragraph ends at a blank line (White House pages) or a line ending a sentence (SCIO pages): a
# line break alone is no boundary, since transcripts wrap lines mid-sentence. A passage ends at a
# paragraph's end where the paragraph fits, and at a sentence's end within one that does not.
_PARAGRAPH_END = re.compile(r"\n\s*\n|(?<=[.!?\"”’)。！？])[ \t\u00a0]*\n")
# Within a sentence too long to be a passage: clauses, then words. Chinese script puts no space
# after its full-width punctuation: its boundaries are the marks.
_SEPARATORS = [
    r"(?<=[;:])\s+",
    r"(?<=[；：])\s*",
    r"(?<=,)\s+",
    r"(?<=[，、])\s*",
    r"\s+",
]
_BOUNDARY = re.compile("|".join(_SEPARATORS))

TokenCounter = Callable[[str], int]
# A sentence of fewer words ("Thank you.", "Yes.") gets no vector of its own: it is embedded with
# the one before, as too little to match a question by. Like the sentence segmenter this decides
# which vectors an index holds. Not the rule for what a reader is shown: a highlight is lengthened
# by its characters (briefqa.searching.cite.SHORT_HIGHLIGHT_CHARS), at search time, in no index.
SENTENCE_VECTOR_MIN_WORDS = 4


def sentence_texts(passage: Passage) -> list[str]:
    """What is embedded for each sentence of a passage, after the speaker's name: a figure deep in
    a long answer gets a vector of its own (the passage's is dominated by the rest)."""
    sentences: list[str] = []
    for start, end in sentence_spans(passage.text, passage.language):
        words = passage.text[start:end].split()
        if sentences and len(words) < SENTENCE_VECTOR_MIN_WORDS:
            sentences[-1] += " " + " ".join(words)
        else:
            sentences.append(" ".join(words))
    return [f"{passage.speaker}: {s}" for s in sentences or [" ".join(passage.text.split())]]


class _Unit(NamedTuple):
    """A piece passages are packed from: a whole sentence with the white space after it, or a
    part of a sentence too long to be a passage (``alone``: a passage of its own)."""

    start: int
    end: int
    tokens: int
    alone: bool


def split_turn(
    text: str, settings: ChunkSettings, count_tokens: TokenCounter, language: str = "en"
) -> list[tuple[int, int]]:
    """(start, end) offsets within ``text`` of each passage of one turn: each at most
    ``max_tokens`` tokens and ``max_chars`` characters, made of whole sentences where a sentence
    fits."""
    if len(text) <= settings.max_chars and count_tokens(text) <= settings.max_tokens:
        return [(0, len(text))]
    units = []
    for paragraph_start, paragraph_end in _paragraphs(text):
        paragraph = text[paragraph_start:paragraph_end]
        tokens = count_tokens(paragraph)
        if tokens <= settings.max_tokens and len(paragraph.rstrip()) <= settings.max_chars:
            units.append(_Unit(paragraph_start, paragraph_end, tokens, False))
            continue
        for start, end in sentence_units(paragraph, language):
            sentence = paragraph[start:end].rstrip()
            start += paragraph_start
            tokens = count_tokens(sentence)
            if tokens <= settings.max_tokens and len(sentence) <= settings.max_chars:
                units.append(_Unit(start, paragraph_start + end, tokens, False))
            else:
                units += [
                    _Unit(start + a, start + b, count_tokens(sentence[a:b]), True)
                    for a, b in _split_sentence(sentence, settings, count_tokens)
                ]
    return _pack(text, units, settings)


def unwrapped(text: str) -> str:
    """``text`` with each line break that only wraps a line (no paragraph end, by the rule above)
    turned into a space, for showing a hard-wrapped transcript as flowing paragraphs. The same
    length, so offsets into it (highlights) still hold."""
    kept = {i for match in _PARAGRAPH_END.finditer(text) for i in range(*match.span())}
    return "".join(" " if c == "\n" and i not in kept else c for i, c in enumerate(text))


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Consecutive (start, end) pieces of ``text`` that together are the whole of it, each a
    paragraph and the white space after it."""
    ends = [match.end() for match in _PARAGRAPH_END.finditer(text)]
    starts = [0, *[end for end in ends if end < len(text)]]
    return list(zip(starts, [*starts[1:], len(text)]))


def _pack(text: str, units: list[_Unit], settings: ChunkSettings) -> list[tuple[int, int]]:
    """Consecutive units packed into passages within both bounds; each passage after the first
    starts with the last sentences of the one before, up to ``overlap_tokens`` of them, as long as
    it still reaches past the one before."""
    sums, alone = [0], [0]  # tokens, and parts of long sentences, before each unit
    for unit in units:
        sums.append(sums[-1] + unit.tokens)
        alone.append(alone[-1] + unit.alone)

    def span(first: int, last: int) -> tuple[int, int]:
        start, end = units[first].start, units[last].end
        piece = text[start:end]
        return start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())

    def fits(first: int, last: int) -> bool:
        if first < last and alone[last + 1] > alone[first]:  # a part of a long sentence stands alone
            return False
        start, end = span(first, last)
        return sums[last + 1] - sums[first] <= settings.max_tokens and end - start <= settings.max_chars

    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and fits(first, last + 1):
            last += 1
        spans.append(span(first, last))
        following = last + 1
        while (
            following - 1 > first
            and sums[last + 1] - sums[following - 1] <= settings.overlap_tokens
            and last + 1 < len(units)
            and fits(following - 1, last + 1)
        ):
            following -= 1
        first = following
    return [(a, b) for a, b in spans if b > a]


def _split_sentence(sentence: str, settings: ChunkSettings, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    """Spans of one sentence too long to be a passage, each within both bounds: split at clauses,
    then words, and what no boundary splits cut into slices."""
    if count_tokens(sentence) <= settings.max_tokens:  # few tokens, many characters
        spans = [(0, len(sentence), False)]
    else:
        spans = _split(sentence, settings.max_tokens, settings.overlap_tokens, count_tokens)
    bounded = []
    for start, end, over in spans:
        if over or end - start > settings.max_chars:
            bounded += [(start + a, start + b) for a, b in _split_bounded(sentence[start:end], settings, count_tokens)]
        else:
            bounded.append((start, end))
    return bounded


def _split(text: str, size: int, overlap: int, length: Callable[[str], int]) -> list[tuple[int, int, bool]]:
    """(start, end, over) of each chunk of a ``text`` longer than ``size`` by ``length``: split at
    boundaries into chunks of at most ``size`` (langchain), or ``over`` where none splits a chunk
    (the splitter keeps such a piece whole; it measured it, so it is known without measuring again)."""
    if not _BOUNDARY.search(text):  # nothing to split at: spare the splitter measuring it whole
        return [(0, len(text), True)]
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # 0.25 s to import: only to build

    too_long: set[str] = set()

    def measure(part: str) -> int:
        n = length(part)
        if n > size:
            too_long.add(part)
        return n

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        length_function=measure,
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
        spans.append((start, start + len(chunk), chunk in too_long))
        cursor = start + 1
    return spans


def _split_bounded(text: str, settings: ChunkSettings, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    """Spans of a passage over ``max_chars``, or over ``max_tokens`` with no boundary to split it
    at, each within both bounds: split at boundaries by a length that passes the product of the
    bounds when either bound is passed, and what no boundary splits cut into slices."""
    most_tokens, most_chars = settings.max_tokens, settings.max_chars
    if not _BOUNDARY.search(text):
        return _slices(text, settings, count_tokens)

    def length(part: str) -> int:
        return max(count_tokens(part) * most_chars, len(part) * most_tokens)

    spans = []
    for start, end, over in _split(text, most_tokens * most_chars, settings.overlap_tokens * most_chars, length):
        if over:
            spans += [(start + a, start + b) for a, b in _slices(text[start:end], settings, count_tokens)]
        else:
            spans.append((start, end))
    return spans


def _slices(text: str, settings: ChunkSettings, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    """Consecutive slices of ``text`` within both bounds, with no overlap, surrounding white space
    left out. For text with no boundary in it: a long run of Chinese script, a pasted blob."""
    spans, start, width = [], 0, settings.max_chars
    while start < len(text):
        end = min(len(text), start + width)
        while end - start > 1 and (tokens := count_tokens(text[start:end])) > settings.max_tokens:
            end = start + max(1, min(end - start - 1, (end - start) * settings.max_tokens // tokens))
        left = len(text[start:end]) - len(text[start:end].lstrip())
        right = len(text[start:end].rstrip())
        if right > left:
            spans.append((start + left, start + right))
        # The next slice starts from twice this one's width: a dense run (a token a character) is
        # measured in short slices, not from max_chars down each time.
        width = min(settings.max_chars, 2 * (end - start))
        start = end
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
        spans = split_turn(turn.text, settings, count_tokens, briefing.language)
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
                    question_outlet=(question.outlet or question.speaker) if question else None,
                    outlet=turn.outlet,
                    language=briefing.language,
                    source_url=briefing.source_url,
                    collection=briefing.collection,
                    question_text=question.text if question else None,
                    embedded_text=embedded_text(text, turn, briefing, settings),
                )
            )
    return passages


def chunk_briefings(briefings: list[Briefing], settings: ChunkSettings, count_tokens: TokenCounter) -> list[Passage]:
    return [p for b in briefings for p in chunk_briefing(b, settings, count_tokens)]
