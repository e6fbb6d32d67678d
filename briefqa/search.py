"""Rank passages for a query: filters first, then dense, BM25, or a fusion of both.

Filters select the passages first and ranking happens among them only, so a search returns k
results whenever k passages match. Each fusion is one pure function, picked by its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from briefqa.models import Passage
from briefqa.options import Filters, Fusion, SearchOptions
from briefqa.vectors import Ranking

RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of top ranks


def name_matches(query: str, name: str) -> bool:
    """Whether ``query`` stands in ``name`` from the start of a word, case-insensitively: 'li'
    and 'li kuiwen' match 'Li Kuiwen', 'li' does not match 'Zhao Zenglian'."""
    words = query.split()
    if not words:
        return False
    pattern = r"\b" + r"\s+".join(map(re.escape, words))
    return re.search(pattern, name, re.IGNORECASE) is not None


def passage_matches(filters: Filters, p: Passage) -> bool:
    """Whether a passage passes every filter that is set."""
    if filters.speaker and not name_matches(filters.speaker, p.speaker):
        return False
    if filters.role and p.role != filters.role:
        return False
    if filters.outlet:
        outlet = p.speaker if p.role == "reporter" else p.question_outlet
        if not outlet or not name_matches(filters.outlet, outlet):
            return False
    if filters.briefing and p.briefing_id != filters.briefing:
        return False
    if filters.since and (p.held_on is None or p.held_on < filters.since):
        return False
    if filters.until and (p.held_on is None or p.held_on > filters.until):
        return False
    return True


def filters_matching_nothing(filters: Filters, passages: list[Passage]) -> list[str]:
    """The filters that on their own match no passage, as 'name=value'; empty when each matches
    some passage (then only their combination excludes everything)."""
    empty = []
    for name, value in filters.model_dump(exclude_none=True).items():
        alone = Filters.model_validate({name: value})
        if not any(passage_matches(alone, p) for p in passages):
            empty.append(f"{name}={value}")
    return empty


def allowed_rows(filters: Filters, passages: list[Passage]) -> np.ndarray | None:
    """Boolean row mask of the passages that match, or None when nothing is filtered."""
    if not filters.active():
        return None
    return np.fromiter((passage_matches(filters, p) for p in passages), dtype=bool, count=len(passages))


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


def weighted_fusion(dense: Ranking, bm25: Ranking, options: SearchOptions) -> dict[int, float]:
    """Min-max normalised scores, mixed with ``options.dense_weight``."""
    fused: dict[int, float] = {}
    for ranking, weight in ((dense, options.dense_weight), (bm25, 1.0 - options.dense_weight)):
        if not ranking:
            continue
        values = np.array([s for _, s in ranking])
        low, span = values.min(), values.max() - values.min()
        for row, score in ranking:
            fused[row] = fused.get(row, 0.0) + weight * ((score - low) / span if span > 0 else 1.0)
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


def fuse(dense: Ranking, bm25: Ranking, k: int, options: SearchOptions) -> Ranking:
    """Combine two rankings with the fusion ``options.fusion`` names; the k best, ties by row."""
    fused = FUSIONS[options.fusion](dense, bm25, options)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
