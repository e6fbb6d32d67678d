"""Rank passages for a query: dense (FAISS), BM25 (bm25s), or a fusion of both.

Filters select the passages first and ranking happens among them only, so a search returns k
results whenever k passages match.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from briefqa.models import Passage, Role

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
Fusion = Literal["rrf", "weighted"]
RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of top ranks
FUSION_DEPTH = 50  # candidates taken from each ranker before fusing


class Filters(BaseModel):
    """Which passages may be returned. Text filters match case-insensitively, on any part."""

    speaker: str | None = Field(default=None, description="Part of the speaker's name or outlet.")
    role: Role | None = None
    outlet: str | None = Field(default=None, description="Part of an outlet: its questions and their answers.")
    briefing: str | None = Field(default=None, description="A briefing id.")
    since: date | None = Field(default=None, description="Held on or after this day.")
    until: date | None = Field(default=None, description="Held on or before this day.")

    def active(self) -> bool:
        return any(v is not None for v in self.model_dump().values())

    def matches(self, p: Passage) -> bool:
        if self.speaker and self.speaker.casefold() not in p.speaker.casefold():
            return False
        if self.role and p.role != self.role:
            return False
        if self.outlet:
            outlet = p.speaker if p.role == "reporter" else p.question_outlet
            if not outlet or self.outlet.casefold() not in outlet.casefold():
                return False
        if self.briefing and p.briefing_id != self.briefing:
            return False
        if self.since and (p.held_on is None or p.held_on < self.since):
            return False
        if self.until and (p.held_on is None or p.held_on > self.until):
            return False
        return True

    def mask(self, passages: list[Passage]) -> np.ndarray | None:
        """Boolean row mask of the passages that match, or None when nothing is filtered."""
        if not self.active():
            return None
        return np.fromiter((self.matches(p) for p in passages), dtype=bool, count=len(passages))


Ranking = list[tuple[int, float]]  # (passage row, score), best first


def dense_ranking(faiss_index, query_vector: np.ndarray, k: int, allowed: np.ndarray | None) -> Ranking:
    import faiss

    query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        k = min(k, faiss_index.ntotal)
        scores, rows = faiss_index.search(query, k)
    else:
        ids = np.flatnonzero(allowed).astype(np.int64)
        k = min(k, len(ids))
        if k == 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        scores, rows = faiss_index.search(query, k, params=params)
        if (rows[0] < 0).any():  # approximate indexes may miss inside a small subset: go exact
            vectors = faiss_index.reconstruct_batch(ids)
            exact = vectors @ query[0]
            top = np.argsort(-exact)[:k]
            return [(int(ids[i]), float(exact[i])) for i in top]
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]


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


def fuse(dense: Ranking, bm25: Ranking, k: int, how: Fusion = "rrf", dense_weight: float = 0.5) -> Ranking:
    """Combine two rankings. 'rrf': reciprocal rank fusion; 'weighted': min-max normalised
    scores mixed with ``dense_weight``."""
    fused: dict[int, float] = {}
    if how == "rrf":
        for ranking in (dense, bm25):
            for rank, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
    else:
        for ranking, weight in ((dense, dense_weight), (bm25, 1.0 - dense_weight)):
            if not ranking:
                continue
            values = np.array([s for _, s in ranking])
            low, span = values.min(), values.max() - values.min()
            for row, score in ranking:
                fused[row] = fused.get(row, 0.0) + weight * ((score - low) / span if span > 0 else 1.0)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
