"""The passages' vectors: FAISS behind the few operations briefqa needs.

Vectors are unit length, so inner product is cosine. Row i is passage i of the index. They are
stored in half precision: on the White House archive (102,891 passages) that halved the file and
the memory of a cold ask (158 -> 79 MB) and left every evaluation metric unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from briefqa.choices import BuiltKind, FaissKind

Ranking = list[tuple[int, float]]  # (passage row, score), best first
RowReader = Callable[[int, int], np.ndarray]
# HNSW's breadth of search per query, saved in the index file. Chosen with `python -m briefqa.evaluation.bench
# --scale`: recall@10 against flat vs latency at 10k-100k passages (README, Performance).
HNSW_EF_SEARCH = 128
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
QUERY_THREADS = 1  # one query at a time: on 2 cores, 2 FAISS threads were ~20x slower
# "auto" (the default) builds flat, exact search, below this many passages and LARGE_KIND from
# there: see kind_for, and the measurements in docs/performance.md (At a million passages).
AUTO_THRESHOLD = 200_000
LARGE_KIND: BuiltKind = "ivf"
# IVF: lists probed per query (saved in the index file), and training vectors per list.
IVF_NPROBE = 16
IVF_TRAIN_PER_LIST = 40
# An approximate index searches a filter that leaves at most this many rows exactly (HNSW: ivf
# decides by the share of its probed lists), reading their vectors this many at a time.
EXACT_ROWS = 20_000
EXACT_CHUNK = 16_384
ADD_CHUNK = 65_536


# How far from unit length a stored vector may be: half precision keeps ~3 decimal digits.
UNIT_TOLERANCE = 1e-2


def sound_rows(vectors: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows that are vectors an encoder could have made: finite, unit length.
    NaN, infinite or zero rows (a damaged file, a killed write) are not."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not len(vectors):
        return np.zeros(0, dtype=bool)
    vectors = vectors.reshape(len(vectors), -1)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(vectors, axis=1)
        return np.isfinite(vectors).all(axis=1) & (np.abs(norms - 1) <= UNIT_TOLERANCE)


def kind_for(count: int) -> BuiltKind:
    """The kind of index "auto" builds for this many passages: exact (flat) below ``AUTO_THRESHOLD``,
    ``LARGE_KIND`` from there."""
    return "flat" if count < AUTO_THRESHOLD else LARGE_KIND


def ivf_lists(count: int) -> int:
    """IVF's number of lists for this many vectors: about sqrt(n), a power of two (1,024 at a
    million), and at least 39 training vectors a list (FAISS's k-means asks for that many)."""
    lists = 1 << max(0, round(np.log2(max(1.0, np.sqrt(count)))))
    return int(max(1, min(lists, count // 39)))


def _bitmap_selector(allowed: np.ndarray) -> tuple[Any, np.ndarray]:
    """A FAISS selector of the rows a boolean mask allows (a bitmap: one bit a row, built in
    microseconds even for a million rows, where an id batch builds a hash set), and the bitmap,
    which must outlive the search."""
    import faiss

    bits = np.packbits(allowed, bitorder="little")
    return faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits)), bits


class VectorIndex:
    """A FAISS index of the passages' vectors. Build with :meth:`build`, or :meth:`load` a file."""

    def __init__(self, faiss_index):
        self._faiss = faiss_index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: FaissKind = "auto") -> VectorIndex:
        """``kind``: flat (exact), hnsw or ivf (approximate), or auto: ``kind_for`` the count."""
        import faiss

        count, dimension = vectors.shape
        built = kind_for(count) if kind == "auto" else kind
        index: Any
        half = faiss.ScalarQuantizer.QT_fp16
        if built == "flat":
            index = faiss.IndexScalarQuantizer(dimension, half, faiss.METRIC_INNER_PRODUCT)
        elif built == "hnsw":
            # the type stubs take the quantizer's enum for a class
            index = faiss.IndexHNSWSQ(dimension, half, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            lists = ivf_lists(count)
            quantizer = faiss.IndexFlatIP(dimension)
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, half, faiss.METRIC_INNER_PRODUCT)
            index.nprobe = min(IVF_NPROBE, lists)
            index.by_residual = False  # codes of the vectors themselves: the scores a flat index gives
            # k-means on a sample (the same one each build: a seeded choice of rows)
            rng = np.random.default_rng(0)
            sample = np.sort(rng.choice(count, min(count, IVF_TRAIN_PER_LIST * lists), replace=False))
            index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        for start in range(0, count, ADD_CHUNK):  # a chunk at a time: never a float32 copy of them all
            index.add(np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32))
        if built == "ivf":
            index.make_direct_map()  # a row's vector by its row: citations and the exact fallback read them
        return cls(index)

    @classmethod
    def load(cls, file: Path) -> VectorIndex:
        """Memory-mapped, not read: a search reads the pages it scans (all of them for a flat index,
        the lists it probes for IVF), and a cold ask over a million passages loads in milliseconds.
        Raises RuntimeError for a damaged file."""
        import faiss

        faiss.omp_set_num_threads(QUERY_THREADS)
        with open(file, "rb") as handle:
            ivf = handle.read(2) == b"Iw"  # the file's first four bytes name its kind: IwSq for IVF
        # IO_FLAG_MMAP maps IVF's lists (its quantizer is read: a few MB); IO_FLAG_MMAP_IFC, flat codes
        # (a flat index's, HNSW's storage). FAISS takes one or the other.
        return cls(faiss.read_index(str(file), faiss.IO_FLAG_MMAP if ivf else faiss.IO_FLAG_MMAP_IFC))

    def save(self, file: Path) -> None:
        import faiss

        faiss.write_index(self._faiss, str(file))

    @property
    def count(self) -> int:
        return int(self._faiss.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._faiss.d)

    @cached_property
    def kind(self) -> BuiltKind:
        """What the file holds: flat, hnsw or ivf."""
        import faiss

        if isinstance(self._faiss, faiss.IndexHNSW):
            return "hnsw"
        return "ivf" if isinstance(self._faiss, faiss.IndexIVF) else "flat"

    def all_vectors(self) -> np.ndarray:
        if not self.count:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._faiss.reconstruct_n(0, self.count)

    def unsound_rows(self, chunk: int = 8192) -> np.ndarray:
        """The rows whose vectors are not finite unit vectors (``sound_rows``), read a chunk at a
        time: a damaged file, found without holding every vector at once."""
        bad = [
            start + np.flatnonzero(~sound_rows(self._faiss.reconstruct_n(start, min(chunk, self.count - start))))
            for start in range(0, self.count, chunk)
        ]
        return np.concatenate([np.zeros(0, dtype=np.int64), *bad])

    def vectors(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of these rows."""
        return self._faiss.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def search(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Ranking:
        """The k rows nearest the query; with a boolean mask ``allowed``, among those rows only.

        On an approximate index, a filter that leaves few rows is searched exactly over them (the
        lists IVF probes, or the graph HNSW walks, would hold too few of them), as is any search
        that finds fewer than k allowed rows."""
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            k = min(k, self.count)
            if k == 0:
                return []
            scores, rows = self._faiss.search(query, k)
            if self.kind != "flat" and (rows[0] < 0).any():
                return self._exact(np.arange(self.count, dtype=np.int64), query[0], k)
            return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        ids = np.flatnonzero(allowed).astype(np.int64)
        k = min(k, len(ids))
        if k == 0:
            return []
        if self.kind != "flat" and self._few(len(ids), k):
            return self._exact(ids, query[0], k)
        selector, _bits = _bitmap_selector(allowed)
        scores, rows = self._faiss.search(query, k, params=self._params(selector))
        if (rows[0] < 0).any():  # an approximate index may miss inside a subset: go exact
            return self._exact(ids, query[0], k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0])]

    def _few(self, allowed: int, k: int) -> bool:
        """Whether an approximate search restricted to ``allowed`` rows would likely find fewer than k."""
        if self.kind == "ivf":  # the probed lists hold about nprobe/nlist of the rows
            return allowed * min(self._faiss.nprobe, self._faiss.nlist) / self._faiss.nlist < 2 * k
        return allowed <= EXACT_ROWS

    def _params(self, selector: Any) -> Any:
        import faiss

        if self.kind == "ivf":
            return faiss.SearchParametersIVF(sel=selector, nprobe=self._faiss.nprobe)  # type: ignore[call-arg]
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self._faiss.hnsw.efSearch)  # type: ignore[attr-defined]
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]

    def _exact(self, ids: np.ndarray, query: np.ndarray, k: int) -> Ranking:
        """The k of ``ids`` nearest the query, by their stored vectors read a chunk at a time."""
        scores = np.empty(len(ids), dtype=np.float32)
        for start in range(0, len(ids), EXACT_CHUNK):
            part = ids[start : start + EXACT_CHUNK]
            scores[start : start + len(part)] = self._faiss.reconstruct_batch(part) @ query
        top = np.sort(np.argpartition(-scores, k - 1)[:k]) if k < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-scores[top], kind="stable")]  # ties: the lower row first
        return [(int(ids[i]), float(scores[i])) for i in top]


class SentenceVectors:
    """The vectors of every passage's sentences (``briefqa.reading.passages.sentence_texts``), for scoring a
    passage by its best sentence: passage row r owns sentences ``starts[r]`` to ``starts[r + 1]``.

    A plain half-precision matrix (.npy). A loaded one is read a passage's rows at a time: on the
    White House archive the file is 266 MB, and even memory-mapped, reading 180 scattered rows
    brought 205 MB into the process (the page cache hands over whole large folios)."""

    def __init__(self, starts: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, rows: RowReader):
        self._starts = starts
        self._shape = shape
        self._dtype = dtype
        self._rows = rows  # (first, stop) -> those rows of the matrix

    @classmethod
    def build(cls, blocks: list[np.ndarray], dimension: int) -> SentenceVectors:
        """From one (sentences x dimension) array per passage, in row order; none may be empty."""
        starts = np.concatenate([[0], np.cumsum([len(b) for b in blocks])]).astype(np.int64)
        matrix = np.concatenate([np.zeros((0, dimension)), *blocks]).astype(np.float16)
        return cls(starts, matrix.shape, matrix.dtype, lambda first, stop: matrix[first:stop])

    @classmethod
    def load(cls, file: Path, starts_file: Path) -> SentenceVectors:
        """Raises OSError or ValueError for a damaged file."""
        starts = np.load(starts_file, allow_pickle=False)
        handle = open(file, "rb")  # noqa: SIM115 - open for the index's life, closed with it
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            offset = handle.tell()
            if fortran or len(shape) != 2 or file.stat().st_size != offset + int(np.prod(shape)) * dtype.itemsize:
                raise ValueError(f"{file}: not a matrix of the size its header gives")
        except BaseException:
            handle.close()
            raise
        width = shape[1] * dtype.itemsize

        def rows(first: int, stop: int) -> np.ndarray:
            data = os.pread(handle.fileno(), (stop - first) * width, offset + first * width)
            return np.frombuffer(data, dtype=dtype).reshape(-1, shape[1])

        return cls(starts, shape, dtype, rows)

    def save(self, file: Path, starts_file: Path) -> None:
        for path, array in ((file, self._rows(0, self._shape[0])), (starts_file, self._starts)):
            with open(path, "wb") as handle:
                np.save(handle, array, allow_pickle=False)

    @property
    def passages(self) -> int:
        return len(self._starts) - 1

    @property
    def count(self) -> int:
        """Sentences stored."""
        return int(self._shape[0])

    @property
    def dimension(self) -> int:
        return int(self._shape[1])

    @property
    def consistent(self) -> bool:
        """Whether the starts partition the stored sentences (a damaged or mismatched pair does not)."""
        starts = self._starts
        return (
            self._dtype == np.float16
            and np.issubdtype(starts.dtype, np.integer)
            and starts.ndim == 1
            and len(starts) >= 1
            and starts[0] == 0
            and bool(np.all(np.diff(starts) > 0))
            and int(starts[-1]) == self._shape[0]
        )

    def unsound_passages(self, chunk: int = 65536) -> np.ndarray:
        """The passage rows any of whose sentence vectors is not a finite unit vector, read a chunk
        of sentences at a time."""
        total = self._shape[0]
        bad = [
            start + np.flatnonzero(~sound_rows(self._rows(start, min(start + chunk, total))))
            for start in range(0, total, chunk)
        ]
        sentences = np.concatenate([np.zeros(0, dtype=np.int64), *bad])
        return np.unique(np.searchsorted(self._starts, sentences, side="right") - 1)

    def blocks(self) -> list[np.ndarray]:
        """Every passage's sentence vectors, in row order (for a build to reuse)."""
        return np.split(self._rows(0, self._shape[0]).astype(np.float32), self._starts[1:-1])

    def best(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        """Each row's best sentence: its highest cosine similarity to the query."""
        if not rows:
            return np.zeros(0)
        blocks = [self._rows(int(self._starts[row]), int(self._starts[row + 1])) for row in rows]
        stacked = np.concatenate(blocks).astype(np.float32)
        if not sound_rows(stacked).all():
            raise ValueError("sentence vectors that are not finite unit vectors")
        similarities = stacked @ query_vector
        return np.maximum.reduceat(similarities, np.cumsum([0] + [len(b) for b in blocks[:-1]]))
