"""Rank passages for a query: dense (FAISS), BM25 (bm25s), or a fusion of both.

Filters select the passages first and ranking happens among them only, so a search returns k
results whenever k passages match.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from briefqa.models import Passage, Role

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
Fusion = Literal["rrf", "weighted"]
# Defaults chosen by the evaluation: see the table in eval/README.md (eval/compare.py).
DEFAULT_MODE: Mode = "hybrid"
DEFAULT_FUSION: Fusion = "weighted"
RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of top ranks
FUSION_DEPTH = 50  # candidates taken from each ranker before fusing
DENSE_WEIGHT = 0.5  # weighted fusion: the dense score's share (0.3 and 0.7 scored lower)


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


def fuse(dense: Ranking, bm25: Ranking, k: int, how: Fusion = DEFAULT_FUSION,
         dense_weight: float = DENSE_WEIGHT) -> Ranking:
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


# --- BM25 at query time -----------------------------------------------------------------------
# bm25s computes the BM25 score of every (word, passage) pair at build time and saves them as a
# sparse matrix. A query's scores are the sum of its words' rows: reading that matrix with numpy
# spares the query path bm25s's import (scipy, ~0.3 s). Index and query share one tokenizer.

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) default token pattern
BM25_STOPWORDS = "stopwords.json"


def bm25_tokenize(text: str, stemmer, stopwords: frozenset[str]) -> list[str]:
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stopwords])


def english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class Bm25Scorer:
    """Scores a query against the BM25 matrix that bm25s saved in ``directory``."""

    def __init__(self, directory: Path):
        params = json.loads((directory / "params.index.json").read_text())
        if params.get("method") != "lucene" or (directory / "nonoccurrence_array.index.npy").exists():
            raise ValueError(f"{directory}: only Lucene BM25 indexes are supported")
        self.num_docs = int(params["num_docs"])
        self.vocab: dict[str, int] = json.loads((directory / "vocab.index.json").read_text())
        self.stopwords = frozenset(json.loads((directory / BM25_STOPWORDS).read_text()))
        self.data = np.load(directory / "data.csc.index.npy", allow_pickle=False)
        self.indices = np.load(directory / "indices.csc.index.npy", allow_pickle=False)
        self.indptr = np.load(directory / "indptr.csc.index.npy", allow_pickle=False)
        self.stemmer = english_stemmer()

    def tokens(self, text: str) -> list[str]:
        return bm25_tokenize(text, self.stemmer, self.stopwords)

    def scores(self, query: str) -> np.ndarray:
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for token in self.tokens(query):  # a repeated word counts again, as in bm25s
            column = self.vocab.get(token)
            if column is not None:
                start, end = self.indptr[column], self.indptr[column + 1]
                scores[self.indices[start:end]] += self.data[start:end]
        return scores

    def idf(self, token: str) -> float:
        """log(N / document frequency); 0 for a word the index never saw."""
        column = self.vocab.get(token)
        if column is None:
            return 0.0
        frequency = int(self.indptr[column + 1] - self.indptr[column])
        return float(np.log(self.num_docs / frequency)) if frequency else 0.0

    def sentence_scorer(self, query: str):
        """Scores sentences by the IDF-weighted query words they contain (for highlights)."""
        weights = {t: self.idf(t) for t in set(self.tokens(query))}

        def score(sentences: list[str]) -> np.ndarray:
            return np.array([sum(weights.get(t, 0.0) for t in set(self.tokens(s))) for s in sentences])

        return score


def build_bm25_matrix(texts: list[str], directory: Path) -> None:
    """Index texts with bm25s (Lucene BM25) and save its matrix, vocabulary and stopwords."""
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN

    stemmer, stopwords = english_stemmer(), frozenset(STOPWORDS_EN)
    retriever = bm25s.BM25(method="lucene")
    retriever.index([bm25_tokenize(t, stemmer, stopwords) for t in texts], show_progress=False)
    retriever.save(str(directory), show_progress=False)
    (directory / BM25_STOPWORDS).write_text(json.dumps(sorted(stopwords)))
