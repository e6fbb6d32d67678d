"""Where a speaker's sentences start and end: the one rule every part of briefqa uses (passages
are packed from whole sentences, each sentence gets a vector, the highlight and the answer are
sentences, an excerpt is cut at one), so a quote never stops after "Mr." or "the U.S.".

The segmenter is sentencex (Wikimedia's rule-based segmenter, ~300 languages, compiled): it knows
each language's abbreviations, initials, ordinals and numbers, keeps a sentence whole across the
line breaks of a hard-wrapped transcript, and gives back every character, so its sentences are
exact slices. pysbd split at every line break of the White House pages and was 300 times slower;
blingfire ran "the U.K. rose. Imports from the E.U. fell." together as one sentence.

How sentences split decides which vectors an index holds and where passages end: a change here
goes with a new ``briefqa.indexing.layout.FORMAT_VERSION``.
"""

from __future__ import annotations

import sentencex


def sentence_spans(text: str, language: str = "en") -> list[tuple[int, int]]:
    """(start, end) within ``text`` of each of its sentences, white space around them left out;
    ``language`` is the text's ISO 639-1 code (an unknown code reads as English)."""
    spans = []
    for boundary in sentencex.get_sentence_boundaries(language or "en", text):
        start, end = boundary["start_index"], boundary["end_index"]
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            start += len(piece) - len(piece.lstrip())
            spans.append((start, start + len(stripped)))
    return spans


def sentence_units(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Consecutive (start, end) pieces of ``text`` that together are the whole of it, each one
    sentence and the white space after it (the white space before the first belongs to it)."""
    starts = [start for start, _ in sentence_spans(text, language)]
    if not starts:
        return [(0, len(text))] if text else []
    starts[0] = 0
    return list(zip(starts, [*starts[1:], len(text)]))
