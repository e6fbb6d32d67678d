"""The passages' vectors: FAISS behind the few operations briefqa needs.

Vectors are unit length, so inner product is cosine. Row i is passage i of the index. They are
stored in half precision: on the White House archive (102,891 passages) that halved the file and
the memory of a cold ask (158 -> 79 MB) and left every evaluation metric unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from briefqa.choices import FaissKind

Ranking = list[tuple[int, float]]  # (passage row, score), best first
# HNSW's breadth of search per query, saved in the index file. Chosen with `python -m briefqa.bench
# --scale`: recall@10 against flat vs latency at 10k-100k passages (README, Performance).
HNSW_EF_SEARCH = 128
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
QUERY_THREADS = 1  # one query at a time: on 2 cores, 2 FAISS threads were ~20x slower


class VectorIndex:
    """A FAISS index of the passages' vectors. Build with :meth:`build`, or :meth:`load` a file."""

    def __init__(self, faiss_index):
        self._faiss = faiss_index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: FaissKind = "flat") -> VectorIndex:
        import faiss

        dimension = vectors.shape[1]
        index: Any
        half = faiss.ScalarQuantizer.QT_fp16
        if kind == "flat":
            index = faiss.IndexScalarQuantizer(dimension, half, faiss.METRIC_INNER_PRODUCT)
        else:
            # the type stubs take the quantizer's enum for a class
            index = faiss.IndexHNSWSQ(dimension, half, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, file: Path) -> VectorIndex:
        """Raises RuntimeError for a damaged file."""
        import faiss

        faiss.omp_set_num_threads(QUERY_THREADS)
        return cls(faiss.read_index(str(file)))

    def save(self, file: Path) -> None:
        import faiss

        faiss.write_index(self._faiss, str(file))

    @property
    def count(self) -> int:
        return int(self._faiss.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._faiss.d)

    def all_vectors(self) -> np.ndarray:
        if not self.count:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._faiss.reconstruct_n(0, self.count)

    def vectors(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of these rows."""
        return self._faiss.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def search(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Ranking:
        """The k rows nearest the query; with a boolean mask ``allowed``, among those rows only."""
        import faiss

        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            k = min(k, self.count)
            if k == 0:
                return []
            scores, rows = self._faiss.search(query, k)
        else:
            ids = np.flatnonzero(allowed).astype(np.int64)
            k = min(k, len(ids))
            if k == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))  # type: ignore[call-arg]
            scores, rows = self._faiss.search(query, k, params=params)
            if (rows[0] < 0).any():  # approximate indexes may miss inside a small subset: go exact
                exact = self._faiss.reconstruct_batch(ids) @ query[0]
                top = np.argsort(-exact, kind="stable")[:k]
                return [(int(ids[i]), float(exact[i])) for i in top]
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
