"""Rankings of passage rows: BM25's top k among allowed rows, and fusions of two rankings.

Each fusion is one pure function, picked by its name. (Filters are answered by the content store,
``briefqa.indexing.content``, before any ranking.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta

import numpy as np

from briefqa.indexing.content import RowFacts
from briefqa.indexing.vectors import Ranking
from briefqa.options import Fusion, SearchOptions
from briefqa.searching.cues import QuestionCues

RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of top ranks
# A date preference halves about every three weeks away from the question's window; passages
# within NEAR_DAYS of it (more than half the preference) join the candidates.
DATE_DECAY_DAYS = 30
NEAR_DAYS = 21


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
    """Reciprocal rank fusion: each ranking adds 1 / (RRF_K + rank)."""
    fused: dict[int, float] = {}
    for ranking in (dense, bm25):
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
    return fused


FUSIONS: dict[Fusion, Callable[[Ranking, Ranking, SearchOptions], dict[int, float]]] = {
    "weighted": weighted_fusion,
    "rrf": rrf_fusion,
}


def near(window: tuple[date, date]) -> tuple[date, date]:
    """The days whose passages join a dated question's candidates."""
    return window[0] - timedelta(days=NEAR_DAYS), window[1] + timedelta(days=NEAR_DAYS)


def date_closeness(held_on: date | None, window: tuple[date, date]) -> float:
    """1 inside the window, decaying with the days outside it; 0 for an undated briefing."""
    if held_on is None:
        return 0.0
    days = max((window[0] - held_on).days, (held_on - window[1]).days, 0)
    return float(np.exp(-days / DATE_DECAY_DAYS))


def adjust(
    fused: dict[int, float], facts: Mapping[int, RowFacts], cues: QuestionCues, options: SearchOptions
) -> dict[int, float]:
    """Hybrid's soft preferences on fused scores: the question's dates; answers over reporters'
    restatements, or reporters' questions when that is what the question asks about, the outlet
    it names most ("What did Yicai.com ask ...")."""
    adjusted = {}
    for row, score in fused.items():
        fact = facts[row]
        if cues.window is not None:
            score += options.date_weight * date_closeness(fact.held_on, cues.window)
        if fact.role == "reporter" and not cues.asks_what_was_asked:
            score -= options.reporter_weight
        elif fact.role == "reporter":  # asked about: half the weight; the outlet it names, all of it
            score += options.reporter_weight if cues.names(fact.speaker) else options.reporter_weight / 2
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
