"""BM25 in one place: the tokenizers, the build (bm25s, Lucene variant), its files, the scorer.

bm25s computes the BM25 score of every (word, passage) pair at build time and saves them as a
sparse matrix (JSON and .npy, no pickles). A query's scores are the sum of its words' rows:
reading that matrix with numpy spares the query path bm25s's import (scipy, ~0.3 s).

Each passage is tokenized in its own language: that language's Snowball stemmer (PyStemmer) and
bm25s's stopwords for it; a language without a stemmer here is tokenized as English. The index
records the languages it holds with their stopwords (``languages.json``: ``{"languages": {"en":
[...], "es": [...]}}``; an index built before it has ``stopwords.json``, a plain list of English
stopwords, and is read as English only). A query's language is unknown, so it is tokenized once
in each language the index holds, and its tokens are the union of those lists: a word that two
languages stem alike counts once, a word the query repeats counts again, as in bm25s. For an
English-only index that union is the English tokenization itself, as it was before languages.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from briefqa.reading.language import STEMMER_LANGUAGES

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) default token pattern
PARAMS = "params.index.json"
VOCAB = "vocab.index.json"
LANGUAGES = "languages.json"
STOPWORDS = "stopwords.json"  # indexes built before languages.json: the English stopwords
MATRIX = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")
DEFAULT_LANGUAGE = "en"


def tokenize(text: str, stemmer, stopwords: frozenset[str]) -> list[str]:
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stopwords])


def stemmer(language: str):
    """The Snowball stemmer of an ISO 639-1 code among ``STEMMER_LANGUAGES``."""
    import Stemmer

    return Stemmer.Stemmer(STEMMER_LANGUAGES[language])


def stopword_list(language: str) -> tuple[str, ...]:
    """bm25s's stopwords for a code among ``STEMMER_LANGUAGES`` (its import: build time only)."""
    from bm25s import stopwords

    name = "EN" if language == DEFAULT_LANGUAGE else STEMMER_LANGUAGES[language].upper()
    return tuple(getattr(stopwords, f"STOPWORDS_{name}"))


def build_bm25(texts: list[str], directory: Path, languages: Sequence[str] | None = None) -> None:
    """Index texts with bm25s (Lucene BM25), each in its language (an ISO 639-1 code per text;
    None: all English; a code without a stemmer: English), and save the matrix, the vocabulary
    and the languages with their stopwords."""
    import bm25s

    if languages is None:
        codes = [DEFAULT_LANGUAGE] * len(texts)
    elif len(languages) != len(texts):
        raise ValueError(f"{len(languages)} languages for {len(texts)} texts")
    else:
        codes = [code if code in STEMMER_LANGUAGES else DEFAULT_LANGUAGE for code in languages]
    held = sorted(set(codes)) or [DEFAULT_LANGUAGE]
    tokenizers = {code: (stemmer(code), frozenset(stopword_list(code))) for code in held}
    retriever = bm25s.BM25(method="lucene")
    retriever.index([tokenize(t, *tokenizers[code]) for t, code in zip(texts, codes)], show_progress=False)
    retriever.save(str(directory), show_progress=False)
    stopwords = {code: sorted(words) for code, (_, words) in tokenizers.items()}
    (directory / LANGUAGES).write_text(json.dumps({"languages": stopwords}, ensure_ascii=False), encoding="utf-8")


def read_languages(directory: Path) -> dict[str, frozenset[str]]:
    """The languages of the index in ``directory`` and their stopwords, in the order of its file.

    Raises OSError, ValueError or KeyError for files that are missing or damaged."""
    if (directory / LANGUAGES).exists():
        held = json.loads((directory / LANGUAGES).read_text(encoding="utf-8"))["languages"]
    else:  # built before languages.json: English only
        held = {DEFAULT_LANGUAGE: json.loads((directory / STOPWORDS).read_text(encoding="utf-8"))}
    if not isinstance(held, dict) or not held:
        raise ValueError(f"{directory}: no languages")
    for code, words in held.items():
        if code not in STEMMER_LANGUAGES:
            raise ValueError(f"{directory}: unknown language {code!r}")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"{directory}: the stopwords of {code!r} are not a list of words")
    return {code: frozenset(words) for code, words in held.items()}


class Bm25Scorer:
    """Scores a query against the BM25 matrix saved in ``directory`` by :func:`build_bm25`.

    Raises OSError, ValueError or KeyError for a directory that is missing or damaged."""

    def __init__(self, directory: Path):
        params = json.loads((directory / PARAMS).read_text())
        if params.get("method") != "lucene" or (directory / "nonoccurrence_array.index.npy").exists():
            raise ValueError(f"{directory}: only Lucene BM25 indexes are supported")
        self.num_docs = int(params["num_docs"])
        self.vocab: dict[str, int] = json.loads((directory / VOCAB).read_text())
        self.languages = read_languages(directory)
        # Memory-mapped: a query reads the columns of its own words, never the whole matrix.
        self.data, self.indices, self.indptr = (
            np.load(directory / name, mmap_mode="r", allow_pickle=False) for name in MATRIX
        )
        self.tokenizers = [(stemmer(code), stopwords) for code, stopwords in self.languages.items()]

    def tokens(self, text: str) -> list[str]:
        """The text's tokens in each language of the index, as one list: in the order they first
        come, each as many times as the language that repeats it most has it."""
        if len(self.tokenizers) == 1:  # one language: its tokens as they are (highlights call this a lot)
            return tokenize(text, *self.tokenizers[0])
        union: list[str] = []
        counts: Counter[str] = Counter()
        for stemmer_, stopwords in self.tokenizers:
            seen: Counter[str] = Counter()
            for token in tokenize(text, stemmer_, stopwords):
                seen[token] += 1
                if seen[token] > counts[token]:
                    counts[token] += 1
                    union.append(token)
        return union

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
        the query (rare words weigh most), 0.0 when it shares none. Comparable across queries. A
        word no passage holds ("soybeans" in an archive that never mentions them) weighs as the
        rarest: a question about it is not answered by a passage about the rest of its words."""
        rarest = math.log(self.num_docs + 1)
        weights = {t: self.idf(t) if t in self.vocab else rarest for t in set(self.tokens(query))}
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


class Bm25Writer:
    """The matrix of :func:`build_bm25`, built a batch of texts at a time: the same Lucene BM25
    scores, held as numpy arrays of (passage, word, count), about 10 bytes a distinct word of a
    passage, where bm25s holds every token of every text as a Python string (several GB at a
    million passages). For indexes of millions of passages (``python -m briefqa.evaluation.bench
    --growth``'s synthetic ones)."""

    K1, B = 1.5, 0.75  # bm25s's defaults, which build_bm25 uses

    def __init__(self, languages: Sequence[str] = (DEFAULT_LANGUAGE,)):
        held = sorted({code if code in STEMMER_LANGUAGES else DEFAULT_LANGUAGE for code in languages})
        self.tokenizers = {code: (stemmer(code), frozenset(stopword_list(code))) for code in held}
        self.vocab: dict[str, int] = {}
        self._docs: list[np.ndarray] = []
        self._words: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._lengths: list[int] = []

    def add(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> None:
        """Index these texts, after those added before, each in its language (as build_bm25)."""
        codes = languages if languages is not None else [DEFAULT_LANGUAGE] * len(texts)
        tokens: list[str] = []
        lengths = []
        for text, code in zip(texts, codes, strict=True):
            found = tokenize(text, *self.tokenizers[code if code in self.tokenizers else DEFAULT_LANGUAGE])
            tokens += found
            lengths.append(len(found))
        for token in set(tokens).difference(self.vocab):
            self.vocab[token] = len(self.vocab)
        ids = np.fromiter(map(self.vocab.__getitem__, tokens), np.int64, len(tokens))
        first = len(self._lengths)
        docs = np.repeat(np.arange(first, first + len(lengths), dtype=np.int64), lengths)
        # each (passage, word) once, with its count: sorted by passage, then word
        pairs, counts = np.unique(docs << 32 | ids, return_counts=True)
        self._docs.append((pairs >> 32).astype(np.int32))
        self._words.append((pairs & 0xFFFFFFFF).astype(np.int32))
        self._counts.append(counts.astype(np.float32))
        self._lengths += lengths

    def save(self, directory: Path) -> None:
        """Write the files build_bm25 writes (bm25s's names and formats)."""
        num_docs = len(self._lengths)
        docs, words, tf = (np.concatenate([np.zeros(0, d), *a]) for d, a in
                           ((np.int32, self._docs), (np.int32, self._words), (np.float32, self._counts)))  # fmt: skip
        self._docs, self._words, self._counts = [], [], []
        frequency = np.bincount(words, minlength=len(self.vocab))
        idf = np.log(1 + (num_docs - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        lengths = np.asarray(self._lengths, dtype=np.float32)
        norm = self.K1 * ((1 - self.B) + self.B * lengths / max(float(lengths.mean()) if num_docs else 1.0, 1e-9))
        scores = idf[words] * tf / (norm[docs] + tf)
        order = np.argsort(words, kind="stable")  # by word, each word's passages in row order: CSC
        del words, tf
        indptr = np.concatenate([[0], np.cumsum(frequency)]).astype(np.int64)
        for name, array in zip(MATRIX, (scores[order], docs[order], indptr)):
            np.save(directory / name, array, allow_pickle=False)
        (directory / VOCAB).write_text(json.dumps(self.vocab | {"": len(self.vocab)}, ensure_ascii=False))
        params = {"k1": self.K1, "b": self.B, "delta": 0.5, "method": "lucene", "idf_method": "lucene"}
        params |= {"dtype": "float32", "int_dtype": "int32", "num_docs": num_docs, "backend": "numpy"}
        (directory / PARAMS).write_text(json.dumps(params, indent=4))
        stopwords = {code: sorted(words) for code, (_, words) in self.tokenizers.items()}
        (directory / LANGUAGES).write_text(json.dumps({"languages": stopwords}, ensure_ascii=False), encoding="utf-8")
