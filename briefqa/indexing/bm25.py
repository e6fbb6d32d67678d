"""BM25 in one place: the tokenizer, the build (bm25s, Lucene variant), its files, the scorer.

bm25s computes the BM25 score of every (word, passage) pair at build time and saves them as a
sparse matrix (JSON and .npy, no pickles). A query's scores are the sum of its words' rows:
reading that matrix with numpy spares the query path bm25s's import (scipy, ~0.3 s). Index and
query share one tokenizer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) default token pattern
PARAMS = "params.index.json"
VOCAB = "vocab.index.json"
STOPWORDS = "stopwords.json"
MATRIX = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")


def tokenize(text: str, stemmer, stopwords: frozenset[str]) -> list[str]:
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stopwords])


def english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def build_bm25(texts: list[str], directory: Path) -> None:
    """Index texts with bm25s (Lucene BM25) and save its matrix, vocabulary and stopwords."""
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN

    stemmer, stopwords = english_stemmer(), frozenset(STOPWORDS_EN)
    retriever = bm25s.BM25(method="lucene")
    retriever.index([tokenize(t, stemmer, stopwords) for t in texts], show_progress=False)
    retriever.save(str(directory), show_progress=False)
    (directory / STOPWORDS).write_text(json.dumps(sorted(stopwords)))


class Bm25Scorer:
    """Scores a query against the BM25 matrix saved in ``directory`` by :func:`build_bm25`.

    Raises OSError, ValueError or KeyError for a directory that is missing or damaged."""

    def __init__(self, directory: Path):
        params = json.loads((directory / PARAMS).read_text())
        if params.get("method") != "lucene" or (directory / "nonoccurrence_array.index.npy").exists():
            raise ValueError(f"{directory}: only Lucene BM25 indexes are supported")
        self.num_docs = int(params["num_docs"])
        self.vocab: dict[str, int] = json.loads((directory / VOCAB).read_text())
        self.stopwords = frozenset(json.loads((directory / STOPWORDS).read_text()))
        # Memory-mapped: a query reads the columns of its own words, never the whole matrix.
        self.data, self.indices, self.indptr = (
            np.load(directory / name, mmap_mode="r", allow_pickle=False) for name in MATRIX
        )
        self.stemmer = english_stemmer()

    def tokens(self, text: str) -> list[str]:
        return tokenize(text, self.stemmer, self.stopwords)

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

    def coverage(self, query: str) -> Callable[[str], float]:
        """The share of the query's IDF weight that a text holds: 1.0 when it has every word of
        the query (rare words weigh most), 0.0 when it shares none. Comparable across queries."""
        weights = {t: self.idf(t) for t in set(self.tokens(query))}
        total = math.fsum(weights.values())

        def share(text: str) -> float:
            if total <= 0:
                return 0.0
            return math.fsum(weights[t] for t in set(self.tokens(text)) if t in weights) / total

        return share

    def sentence_scorer(self, query: str) -> Callable[[list[str]], np.ndarray]:
        """Scores sentences by the IDF-weighted query words they contain (for highlights)."""
        weights = {t: self.idf(t) for t in set(self.tokens(query))}

        def score(sentences: list[str]) -> np.ndarray:
            # fsum: exact whatever the set's order, which changes with each process's string hashing;
            # a plain sum broke ties between sentences differently from run to run.
            return np.array([math.fsum(weights.get(t, 0.0) for t in set(self.tokens(s))) for s in sentences])

        return score
