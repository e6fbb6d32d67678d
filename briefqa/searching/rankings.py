"""The pure steps of ranking, on passage rows and their scores (``briefqa.searching.pipeline``
puts them in order): BM25's top k among allowed rows, fusions of two rankings (one function each,
picked by its name), the best sentence's gain, the question's preferences, one result per turn.

Every weight they use is a field of ``SearchOptions``; what counts as filler is defined here.
(Filters are answered by the content store, ``briefqa.indexing.content``, before any ranking.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta

import numpy as np

from briefqa.indexing.content import RowFacts
from briefqa.indexing.vectors import Ranking
from briefqa.options import Fusion, SearchOptions
from briefqa.searching.cues import QuestionCues


def bm25_ranking(scores: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranking:
    """Top k rows of a BM25 score vector; with filters, matching rows only (zero scores last)."""
    scores = np.asarray(scores, dtype=np.float64)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
        k = min(k, int(allowed.sum()))
    k = min(k, len(scores))
    if k == 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]  # by score, ties by row for determinism
    return [(int(r), float(scores[r])) for r in top]


def min_max(values: np.ndarray) -> np.ndarray:
    """Scores stretched to 0-1 (all 1.0 when they are equal), for mixing scores of other scales."""
    low, span = values.min(), values.max() - values.min()
    return (values - low) / span if span > 0 else np.ones(len(values))


def weighted_fusion(dense: Ranking, bm25: Ranking, options: SearchOptions) -> dict[int, float]:
    """Min-max normalised scores, mixed with ``options.dense_weight``."""
    fused: dict[int, float] = {}
    for ranking, weight in ((dense, options.dense_weight), (bm25, 1.0 - options.dense_weight)):
        if not ranking:
            continue
        for (row, _), score in zip(ranking, min_max(np.array([s for _, s in ranking]))):
            fused[row] = fused.get(row, 0.0) + weight * float(score)
    return fused


def rrf_fusion(dense: Ranking, bm25: Ranking, options: SearchOptions) -> dict[int, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (``options.rrf_k`` + rank); the sums are
    stretched to 0-1, the scale of weighted fusion, so that the steps after fusion (the best
    sentence, the preferences) weigh the same under either (raw sums are at most 2/61: a date
    preference of 0.5 swamped them)."""
    fused: dict[int, float] = {}
    for ranking in (dense, bm25):
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (options.rrf_k + rank)
    return dict(zip(fused, map(float, min_max(np.array(list(fused.values())))))) if fused else fused


FUSIONS: dict[Fusion, Callable[[Ranking, Ranking, SearchOptions], dict[int, float]]] = {
    "weighted": weighted_fusion,
    "rrf": rrf_fusion,
}


def fuse(dense: Ranking, bm25: Ranking, cues: QuestionCues, options: SearchOptions) -> dict[int, float]:
    """Hybrid's one score per candidate, by ``options.fusion``; a question that asks for a figure
    takes ``options.figure_dense_weight`` (when set) as the dense share."""
    if cues.asks_for_a_figure and options.figure_dense_weight is not None:
        options = options.model_copy(update={"dense_weight": options.figure_dense_weight})
    return FUSIONS[options.fusion](dense, bm25, options)


def near(window: tuple[date, date], days: int) -> tuple[date, date]:
    """The days whose passages join a dated question's candidates: the window and ``days`` around it."""
    return window[0] - timedelta(days=days), window[1] + timedelta(days=days)


def date_closeness(held_on: date | None, window: tuple[date, date], decay_days: float) -> float:
    """1 inside the window, falling by 1/e each ``decay_days`` outside it; 0 for an undated briefing."""
    if held_on is None:
        return 0.0
    days = max((window[0] - held_on).days, (held_on - window[1]).days, 0)
    return float(np.exp(-days / decay_days))


# A passage of at most this many characters may be filler; a longer one always says something.
FILLER_MAX_CHARS = 300
# Fewer content words (the index's words: stop words left out) than this is no answer ("Give me one
# second here.", "Thank you, Karine. Go ahead.", "Next question."); an interrupted fragment, one
# ending in a dash or an ellipsis, needs INTERRUPTED_MIN_WORDS.
FILLER_MIN_WORDS = 5
INTERRUPTED_MIN_WORDS = 12
_INTERRUPTED = re.compile(r"(?:—|–|--|-|…|\.\.\.)[\"”’)\]]?\s*$")
_NOTE = re.compile(r"\[[^\]]*\]|\([^)]*\)")  # [inaudible], (laughter): the transcriber's, not the speaker's


def is_filler(text: str, words: Callable[[str], list[str]]) -> bool:
    """Whether a passage carries no content: too few content words (``words``, the index's
    tokenizer) outside the transcriber's notes, or an interrupted fragment."""
    if len(text) > FILLER_MAX_CHARS:
        return False
    count = len(words(_NOTE.sub(" ", text)))
    return count < (INTERRUPTED_MIN_WORDS if _INTERRUPTED.search(text) else FILLER_MIN_WORDS)


def adjust(
    fused: dict[int, float],
    facts: Mapping[int, RowFacts],
    cues: QuestionCues,
    options: SearchOptions,
    filler: set[int] = frozenset(),  # type: ignore[assignment]
) -> dict[int, float]:
    """Hybrid's soft preferences on fused scores: the question's dates; answers over reporters'
    restatements, or reporters' questions when that is what the question asks about, the outlet
    it names most ("What did Yicai.com ask ..."); content over ``filler``."""
    adjusted = {}
    for row, score in fused.items():
        fact = facts[row]
        if row in filler:
            score -= options.filler_weight
        if cues.window is not None:
            score += options.date_weight * date_closeness(fact.held_on, cues.window, options.date_decay_days)
        if fact.role == "reporter" and not cues.asks_what_was_asked:
            score -= options.reporter_weight
        elif fact.role == "reporter":  # asked about: a share of the weight; the outlet it names, all of it
            named = cues.names(fact.speaker)
            score += options.reporter_weight if named else options.reporter_weight * options.asked_reporter_share
        adjusted[row] = score
    return adjusted


def add_best_sentences(
    fused: dict[int, float],
    best_sentence: Mapping[int, float],
    facts: Mapping[int, RowFacts],
    cues: QuestionCues,
    options: SearchOptions,
) -> dict[int, float]:
    """Late interaction, lite: each candidate gains its best sentence's similarity to the question,
    min-max normalised over the candidates and weighted by ``options.sentence_weight``. Not
    reporters' turns unless the question asks what was asked: they restate it, sentence by sentence."""
    if not fused:
        return fused
    added = dict(fused)
    for row, value in zip(fused, min_max(np.array([best_sentence[row] for row in fused]))):
        if facts[row].role != "reporter" or cues.asks_what_was_asked:
            added[row] += options.sentence_weight * float(value)
    return added


def best(scores: dict[int, float], k: int) -> Ranking:
    """The k best rows, ties by row."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


def one_per_turn(ranking: Ranking, facts: Mapping[int, RowFacts], k: int) -> list[Ranking]:
    """The k best turns, each as its candidate passages, best first: a turn ranks by its best
    passage. Five answers, not three pieces of one."""
    turns: dict[tuple[str, int], Ranking] = {}
    for row, score in ranking:
        turns.setdefault((facts[row].briefing_id, facts[row].turn), []).append((row, score))
    return list(turns.values())[:k]
