"""Loading the parts of an index, each checked against its manifest: the content store, the
passage and sentence vectors, the BM25 matrix. A damaged part is an IndexLoadError that names it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from briefqa.indexing.bm25 import Bm25Scorer
from briefqa.indexing.content import CONTENT, ContentStore
from briefqa.indexing.layout import BM25_DIR, FORMAT_VERSION, SENTENCE_STARTS, SENTENCES, VECTORS
from briefqa.indexing.manifest import IndexLoadError, Manifest
from briefqa.indexing.vectors import SentenceVectors, VectorIndex


def read_content(path: Path, manifest: Manifest) -> ContentStore:
    try:
        content = ContentStore(Path(path) / CONTENT, earlier_schema=manifest.format_version != FORMAT_VERSION)
        order = content.briefing_order()
    except (sqlite3.DatabaseError, OSError):
        raise IndexLoadError(path, f"{CONTENT} is damaged", manifest.corpus_paths) from None
    if content.count != manifest.passages or order != list(manifest.corpus):
        raise IndexLoadError(path, f"{CONTENT} does not match the manifest", manifest.corpus_paths)
    return content


def read_vectors(path: Path, manifest: Manifest) -> VectorIndex:
    try:
        vectors = VectorIndex.load(Path(path) / VECTORS)
    except (RuntimeError, OSError):
        raise IndexLoadError(path, f"{VECTORS} is damaged", manifest.corpus_paths) from None
    if vectors.count != manifest.passages or vectors.dimension != manifest.model.dimension:
        raise IndexLoadError(path, f"{VECTORS} does not match the manifest", manifest.corpus_paths)
    return vectors


def read_sentences(path: Path, manifest: Manifest) -> SentenceVectors:
    try:
        sentences = SentenceVectors.load(Path(path) / SENTENCES, Path(path) / SENTENCE_STARTS)
    except (OSError, ValueError):
        raise IndexLoadError(path, f"{SENTENCES} or {SENTENCE_STARTS} is damaged", manifest.corpus_paths) from None
    if (
        sentences.passages != manifest.passages
        or sentences.dimension != manifest.model.dimension
        or not sentences.consistent
    ):
        raise IndexLoadError(path, f"{SENTENCES} does not match the manifest", manifest.corpus_paths)
    return sentences


def read_bm25(path: Path, manifest: Manifest) -> Bm25Scorer:
    try:
        return Bm25Scorer(Path(path) / BM25_DIR)
    except (OSError, ValueError, KeyError):
        raise IndexLoadError(path, f"{BM25_DIR}/ is damaged", manifest.corpus_paths) from None
