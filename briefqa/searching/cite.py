"""Cited results (the pipeline's last step): one per turn, its best passage with who said it,
when, where, a calibrated confidence and the sentence that answers; the turn's other matching
passages beside it. ``SearchResults`` is the list a search returns."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from briefqa.choices import Role
from briefqa.reading.sentences import sentence_spans
from briefqa.records import Passage, Person

# A highlight of fewer characters takes the next sentence along: what a reader needs to see an
# answer in context. A choice of display, made at search time; not the index's rule for which
# sentences get a vector of their own (briefqa.reading.passages.SENTENCE_VECTOR_MIN_WORDS), which
# changes what an index holds. Either may change without the other.
SHORT_HIGHLIGHT_CHARS = 80
MIN_WORDS = 8  # with no word of the query in any sentence, the first of at least this many is the highlight


# Confidence that a passage answers a question: a logistic model of what the passage shares with
# what the question asks (MatchEvidence.features). Fitted by eval/calibrate.py on the tuning halves
# of the answerable and the unanswerable question sets of both corpora; see eval/README.md.
CONFIDENCE_WEIGHTS = (4.72, 5.06, -2.05, -2.08, -5.70)  # similarity, coverage, no figure, before the period; intercept
# At or above this a result is an answer; below it, only the nearest passage (eval/calibrate.py:
# the best worst-side rate on the tuning halves of both corpora).
GOOD_MATCH = 0.13
# A number, in figures or in words: what a passage must hold to answer "how many ...?".
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|trillion|dozen|half|double|doubled|tripled|percent|per cent)\b",
    re.IGNORECASE,
)


def holds_a_number(text: str) -> bool:
    return _NUMBER.search(text) is not None


class MatchEvidence(BaseModel):
    """How closely a passage matches what a question asks, in figures comparable across questions."""

    similarity: float = Field(description="Cosine similarity of the question and the passage (as embedded).")
    coverage: float = Field(
        description="Share of the question's IDF-weighted words the passage (with the question it answers) holds, "
        "0-1; a word no passage of the index holds weighs as the rarest."
    )
    before_period: bool | None = Field(
        default=None,
        description="For a question that names a time: whether the briefing was held before that time began "
        "(it cannot report on it, only forecast); None when the question names none. Held after it is no mark "
        "against: what happened in a period is reported during it and after.",
    )
    figure: bool | None = Field(
        default=None,
        description="For a question that asks for a figure: whether the passage holds a number; None otherwise.",
    )

    def features(self) -> tuple[float, float, float, float]:
        """What the confidence model weighs, in CONFIDENCE_WEIGHTS's order."""
        return (self.similarity, self.coverage, float(self.figure is False), float(self.before_period is True))

    def confidence(self) -> float:
        *weights, intercept = CONFIDENCE_WEIGHTS
        z = math.fsum(w * x for w, x in zip(weights, self.features(), strict=True)) + intercept
        return 1.0 / (1.0 + math.exp(-z))


class QuestionRef(BaseModel):
    """The reporter's question that an answer responds to."""

    outlet: str
    text: str
    turn_index: int


class PassageMatch(BaseModel):
    """Another passage of a result's turn among the question's candidates."""

    passage_id: str
    score: float = Field(description="Its ranking score, on the same scale as the result's.")
    char_start: int = Field(description="Offset of the passage in the briefing's text.")
    char_end: int
    highlight: str = Field(description="Its sentence(s) that best answer the query.")
    highlight_start: int = Field(description="Offset of the highlight in the briefing's text.")
    highlight_end: int


class SearchResult(BaseModel):
    """One result: a turn, cited, with its best passage (and the turn's other matching passages)."""

    rank: int = Field(description="1 for the best result.")
    score: float = Field(description="The ranking score (cosine, BM25, or fused): it orders one result list.")
    confidence: float = Field(
        description="How likely a first result with this passage's similarity and coverage answers the "
        "question, 0-1, comparable across questions (calibrated on the evaluation sets)."
    )
    similarity: float = Field(description="Cosine similarity of the question and the passage.")
    coverage: float = Field(description="Share of the question's IDF-weighted words the passage holds.")
    before_period: bool | None = Field(
        default=None,
        description="For a question that names a time: whether the briefing was held before it began.",
    )
    holds_figure: bool | None = Field(
        default=None, description="For a question that asks for a figure: whether the passage holds a number."
    )
    text: str = Field(description="The passage, exactly as in the transcript.")
    highlight: str = Field(description="The sentence(s) in the passage that best answer the query.")
    highlight_start: int = Field(description="Offset of the highlight in the briefing's text.")
    highlight_end: int
    speaker: str = Field(description="Who spoke, as the transcript labels the turn ('PM', 'Ms. Jean-Pierre').")
    speaker_name: str | None = Field(
        default=None, description="Their full name, when the label is not it and the transcript makes it certain."
    )
    speaker_title: str | None = Field(description="The speaker's title, where the transcript gives one.")
    outlet: str | None = Field(default=None, description="A reporter's outlet, when the transcript names it.")
    role: Role
    briefing_id: str
    briefing_title: str
    held_on: date | None
    source_url: str | None = Field(default=None, description="The page the transcript came from, if it says.")
    collection: str = Field(default="", description="The source the briefing belongs to, in an archive of several.")
    language: str = Field(default="en", description="ISO 639-1 code of the briefing's language.")
    turn_index: int = Field(description="Number of the turn in its briefing, from 1.")
    passage_id: str
    char_start: int = Field(description="Offset of the passage in the briefing's text.")
    char_end: int
    question: QuestionRef | None = Field(description="For an answer: the question it answers.")
    citation: str = Field(description="One line: speaker, briefing title (date held), turn.")
    more: list[PassageMatch] = Field(
        default_factory=list,
        description="The turn's other passages among the candidates, best first: where else in this turn the "
        "question is answered (empty in a flat passage list).",
    )


def citation(p: Passage) -> str:
    held = p.held_on.isoformat() if p.held_on else "date unknown"
    return f"{p.speaker}, {p.briefing_title} ({held}), turn {p.turn_index}"


def pick_highlight(
    text: str, score_sentences: Callable[[list[str]], np.ndarray], language: str = "en"
) -> tuple[int, int]:
    """(start, end) within ``text`` of the sentence that best answers the query, as scored by
    ``score_sentences`` (the query's words weighed by IDF), with the next sentence when short."""
    spans = sentence_spans(text, language)
    if len(spans) <= 1:
        return (0, len(text))
    sentences = [text[a:b] for a, b in spans]
    scores = score_sentences(sentences)
    if not np.any(scores > 0):  # no shared word: the first substantial sentence, not "Thank you."
        scores = np.array([len(s.split()) >= MIN_WORDS for s in sentences], dtype=float)
    best = int(np.argmax(scores))
    start, end = spans[best]
    if end - start < SHORT_HIGHLIGHT_CHARS and best + 1 < len(spans):
        end = spans[best + 1][1]
    return start, end


def match(p: Passage, score: float, highlight: tuple[int, int]) -> PassageMatch:
    return PassageMatch(
        passage_id=p.id,
        score=score,
        char_start=p.char_start,
        char_end=p.char_end,
        highlight=p.text[highlight[0] : highlight[1]],
        highlight_start=p.char_start + highlight[0],
        highlight_end=p.char_start + highlight[1],
    )


def cite(
    p: Passage,
    rank: int,
    score: float,
    highlight: tuple[int, int],
    evidence: MatchEvidence,
    person: Person | None = None,
    more: list[PassageMatch] | None = None,
) -> SearchResult:
    h_start, h_end = highlight
    question = (
        QuestionRef(outlet=p.question_outlet, text=p.question_text, turn_index=p.answers_turn)
        if p.answers_turn is not None and p.question_outlet and p.question_text
        else None
    )
    return SearchResult(
        rank=rank,
        score=score,
        confidence=round(evidence.confidence(), 4),
        similarity=round(evidence.similarity, 4),
        coverage=round(evidence.coverage, 4),
        before_period=evidence.before_period,
        holds_figure=evidence.figure,
        text=p.text,
        highlight=p.text[h_start:h_end],
        highlight_start=p.char_start + h_start,
        highlight_end=p.char_start + h_end,
        speaker=p.speaker,
        speaker_name=person.name if person and person.label == p.speaker and person.name != p.speaker else None,
        speaker_title=person.title if person else None,
        outlet=p.outlet,
        role=p.role,
        briefing_id=p.briefing_id,
        briefing_title=p.briefing_title,
        held_on=p.held_on,
        source_url=p.source_url,
        collection=p.collection,
        language=p.language,
        turn_index=p.turn_index,
        passage_id=p.id,
        char_start=p.char_start,
        char_end=p.char_end,
        question=question,
        citation=citation(p),
        more=more or [],
    )


def to_dataframe(results: list[SearchResult]):
    """The results as a pandas DataFrame (needs the optional extra: pip install 'briefqa[pandas]')."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe needs pandas: pip install 'briefqa[pandas]'") from None
    return pd.DataFrame([r.model_dump() for r in results])


class SearchResults(list[SearchResult]):
    """A list of SearchResult, best first."""

    @property
    def good_match(self) -> bool:
        """Whether any result is likely to answer the question (confidence at least GOOD_MATCH).
        False when the best of them is only the best of a bad lot."""
        return any(r.confidence >= GOOD_MATCH for r in self)

    def to_dataframe(self):
        return to_dataframe(self)
