"""A question's path through an index, top to bottom: the ranking pipeline.

    question = read_question(text, options, encode)   the question's cues, read once
    1. candidates      each ranker's best passages within the filters; for a question that names
                       a time, hybrid adds the passages held near it
    2. fuse            hybrid: one score per candidate (a figure question weighs BM25 more)
    3. best sentence   hybrid: the head of the fused list gains by its best sentence
    4. preferences     hybrid: the question's dates; answers over reporters (reporters when asked
                       about, the outlet named most); content over filler
    5. one per turn    candidates grouped by turn, each turn ranked by its best passage
    6. cite            each result cited with its best passage, a confidence and a highlight

``rank`` runs steps 1 to 5 and ``search`` all six. Each step is a function of what the one before
produced and of the question (its words, its vector, its cues); each number it uses is a field of
``SearchOptions``. The pure steps are in ``briefqa.searching.rankings``, the question's cues in
``briefqa.searching.cues``, the results in ``briefqa.searching.cite``; ``briefqa.searching.index``
is the API that calls this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from briefqa.indexing.content import RowFacts
from briefqa.indexing.vectors import Ranking, sound_rows
from briefqa.options import SearchOptions
from briefqa.records import Passage
from briefqa.searching.cite import MatchEvidence, SearchResults, cite, holds_a_number, match, pick_highlight
from briefqa.searching.cues import QuestionCues, read_cues
from briefqa.searching.rankings import (
    FILLER_MAX_CHARS,
    add_best_sentences,
    adjust,
    best,
    bm25_ranking,
    fuse,
    is_filler,
    near,
    one_per_turn,
)

if TYPE_CHECKING:
    from briefqa.searching.index import Index


class Question:
    """A question as every step reads it: its words, its cues (read once), and its vector (encoded
    once, when a step first needs it: a BM25 ranking needs none)."""

    def __init__(
        self,
        text: str,
        cues: QuestionCues,
        encode: Callable[[str], np.ndarray],
        vector: np.ndarray | None = None,
    ):
        self.text, self.cues = text, cues
        self._encode, self._vector = encode, vector

    @property
    def vector(self) -> np.ndarray:
        if self._vector is None:
            self._vector = self._encode(self.text)
        return self._vector


def read_question(
    text: str, options: SearchOptions, encode: Callable[[str], np.ndarray], vector: np.ndarray | None = None
) -> Question:
    """The question with its cues, as ``options.question`` allows. A time that no preference would
    weigh (``date_weight`` 0) is not read: no passage held near it joins the candidates either."""
    rules = options.question
    if not options.date_weight:
        rules = rules.model_copy(update={"dates": False})
    return Question(text, read_cues(text, rules), encode, vector)


def search(index: Index, question: Question, k: int, options: SearchOptions, per_turn: bool = True) -> SearchResults:
    """The k best answers, cited: steps 1 to 5 (``rank``), then 6."""
    return cited(index, question, rank(index, question, k, options, per_turn), options)  # 6. cite


def rank(index: Index, question: Question, k: int, options: SearchOptions, per_turn: bool = True) -> list[Ranking]:
    """The k best turns, each as its candidate passages (row, score), best first; or, not
    ``per_turn``, the k best passages, each alone. Dense and BM25 modes rank by their one
    ranker's scores: no fusion, no preferences."""
    dense, bm25 = candidates(index, question, k, options)  # 1. candidates
    facts: Mapping[int, RowFacts] | None = None
    if options.mode == "hybrid":
        fused = fuse(dense, bm25, question.cues, options)  # 2. fuse
        facts = index.content.facts(list(fused))
        fused = with_best_sentences(index, question, fused, facts, options)  # 3. best sentence
        filler = fillers(index, [row for row, _ in best(fused, FILLER_CANDIDATES)]) if options.filler_weight else set()
        ranking = best(adjust(fused, facts, question.cues, options, filler), len(fused))  # 4. preferences
    else:
        ranking = dense if options.mode == "dense" else bm25
    if not per_turn:
        return [[hit] for hit in ranking[:k]]
    if facts is None:
        facts = index.content.facts([row for row, _ in ranking])
    return one_per_turn(ranking, facts, k)  # 5. one per turn


def candidates(index: Index, question: Question, k: int, options: SearchOptions) -> tuple[Ranking, Ranking]:
    """Step 1: the dense and the BM25 candidates within the filters, ``options.depth`` of each (or
    ``depth_per_result`` per result asked for, when more); a ranker the mode does not use gives
    none. For a question that names a time, hybrid adds those held within ``near_days`` of it."""
    allowed = index.content.allowed_rows(options.filters)
    depth = max(options.depth_per_result * k, options.depth)
    if options.mode == "bm25":
        return [], bm25_ranking(index.bm25.scores(question.text), depth, allowed)
    dense = index.vectors.search(question.vector, depth, allowed)
    if options.mode == "dense":
        return dense, []
    bm25_scores = index.bm25.scores(question.text)
    bm25 = bm25_ranking(bm25_scores, depth, allowed)
    nearby = held_near(index, question.cues.window, options) if question.cues.window else None
    if nearby is not None:  # passages held near the question's dates join the candidates
        dense = _joined(dense, index.vectors.search(question.vector, depth, nearby))
        bm25 = _joined(bm25, bm25_ranking(bm25_scores, depth, nearby))
    return dense, bm25


# Filler is looked for among the best fused candidates only: only they could lead an answer, and
# reading a short passage's text costs a slice of its briefing's (8 ms a question for all ~200).
FILLER_CANDIDATES = 30


def fillers(index: Index, rows: list[int]) -> set[int]:
    """The rows among ``rows`` whose passages carry no content (``rankings.is_filler``)."""
    short = index.content.short_texts(rows, FILLER_MAX_CHARS)
    return {row for row, text in short.items() if is_filler(text, index.bm25.tokens)}


def held_near(index: Index, window: tuple[date, date], options: SearchOptions) -> np.ndarray | None:
    """Row mask of the passages held within ``options.near_days`` of a question's dates that pass
    the filters; None when there are none."""
    filters = options.filters
    first, last = near(window, options.near_days)
    first = max(first, filters.since) if filters.since else first
    last = min(last, filters.until) if filters.until else last
    if first > last:
        return None
    mask = index.content.allowed_rows(filters.model_copy(update={"since": first, "until": last}))
    return mask if mask is not None and mask.any() else None


def _joined(ranking: Ranking, more: Ranking) -> Ranking:
    """A ranking with another's rows added (each row once), for fusion's candidates."""
    seen = {row for row, _ in ranking}
    return ranking + [(row, score) for row, score in more if row not in seen]


def with_best_sentences(
    index: Index, question: Question, fused: dict[int, float], facts: Mapping[int, RowFacts], options: SearchOptions
) -> dict[int, float]:
    """Step 3 (``sentence_weight`` not 0): the ``sentence_candidates`` best fused candidates gain by
    their best sentence's similarity to the question (on the 0-1 scale of either fusion's
    scores); the rest keep their fused scores."""
    if not options.sentence_weight:
        return fused
    head = [row for row, _ in best(fused, options.sentence_candidates)]
    try:
        best_sentence = dict(zip(head, index.sentences.best(head, question.vector)))
    except ValueError:
        raise index._error("sentences.npy is damaged (vectors that are not finite unit vectors)") from None
    return fused | add_best_sentences({row: fused[row] for row in head}, best_sentence, facts, question.cues, options)


def cited(index: Index, question: Question, groups: list[Ranking], options: SearchOptions) -> SearchResults:
    """Step 6: each group (a turn's candidate passages, best first) cited with its first passage,
    a confidence from the question's similarity and word coverage, and a highlight; its other
    passages as ``more``."""
    # Highlights weigh the query's words by IDF: encoding every sentence would cost ~300 ms.
    scorer = index.bm25.sentence_scorer(question.text)
    coverage = index.bm25.coverage(question.text)
    window = question.cues.window
    leads = [group[0][0] for group in groups]
    lead_vectors = index.vectors.vectors(leads) if leads else np.zeros((0, len(question.vector)), np.float32)
    if not sound_rows(lead_vectors).all():
        raise index._error("vectors.faiss is damaged (vectors that are not finite unit vectors)")
    similarities = lead_vectors @ question.vector
    rows = [row for group in groups for row, _ in group]
    # Checked as they are read: what is cited is what was indexed, never a quote edited in the file.
    passages = dict(zip(rows, index.content.passages(rows, index.manifest.corpus)))
    people = index.content.speaker_people(sorted({passages[row].briefing_id for row in leads}))
    results = SearchResults()
    for rank, (group, similarity) in enumerate(zip(groups, similarities), start=1):
        (row, score), others = group[0], group[1:]
        p = passages[row]
        evidence = MatchEvidence(
            similarity=float(similarity),
            coverage=coverage(_own_words(p)),
            before_period=(p.held_on < window[0]) if window and p.held_on else None,
            figure=holds_a_number(p.text) if question.cues.asks_for_a_figure else None,
        )
        more = [
            match(passages[r], s, pick_highlight(passages[r].text, scorer, passages[r].language)) for r, s in others
        ]
        person = people.get((p.briefing_id, p.speaker))
        results.append(cite(p, rank, score, pick_highlight(p.text, scorer, p.language), evidence, person, more))
    return results


def _own_words(p: Passage) -> str:
    """What a passage says, with the question it answers; not the briefing's title, which every
    passage of a briefing shares (its words would make a closing 'Goodbye' look on topic)."""
    return f"{p.question_text or ''}\n{p.text}"
