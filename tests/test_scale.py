"""Indexes of a million passages: the vector index chosen by size, filtered search on the
approximate kinds, memory-mapped loading, the BM25 matrix built in batches, and the synthetic
copies ``bench --growth`` measures them on (all with the hash embedder, tiny sizes)."""

import numpy as np
import pytest

from briefqa.evaluation.bench import synthesize
from briefqa.indexing import vectors as vectors_module
from briefqa.indexing.bm25 import Bm25Scorer, Bm25Writer, build_bm25
from briefqa.indexing.build import build_index
from briefqa.indexing.layout import VECTORS
from briefqa.indexing.vectors import VectorIndex, ivf_lists, kind_for
from briefqa.options import BuildOptions, SearchOptions
from briefqa.searching.index import load_index
from tests.conftest import CORPUS, HASH_SMALL


def unit_vectors(count: int, dimension: int = 24, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    scores = vectors @ query
    rows = np.flatnonzero(allowed) if allowed is not None else np.arange(len(vectors))
    return [int(r) for r in rows[np.argsort(-scores[rows], kind="stable")[:k]]]


def test_auto_builds_flat_below_the_threshold_and_the_large_kind_from_it(monkeypatch):
    monkeypatch.setattr(vectors_module, "AUTO_THRESHOLD", 500)
    assert kind_for(499) == "flat" and kind_for(500) == vectors_module.LARGE_KIND == "ivf"
    assert VectorIndex.build(unit_vectors(499), "auto").kind == "flat"
    assert VectorIndex.build(unit_vectors(500), "auto").kind == "ivf"
    assert VectorIndex.build(unit_vectors(600), "flat").kind == "flat"  # a kind named is a kind built
    assert VectorIndex.build(unit_vectors(100), "hnsw").kind == "hnsw"


def test_the_default_is_auto_and_an_index_below_the_threshold_is_flat(tmp_path):
    assert BuildOptions().faiss_index == "auto"
    out = tmp_path / "index"
    build_index([CORPUS], out, HASH_SMALL.model_copy(update={"faiss_index": "auto"}))
    index = load_index(out)
    assert index.manifest.faiss_index == "auto" and index.vectors.kind == "flat"


def test_ivf_lists_grow_as_the_square_root_and_keep_enough_training_vectors():
    assert ivf_lists(1_000_000) == 1024 and ivf_lists(3_000_000) == 2048
    assert ivf_lists(5220) == 64 and ivf_lists(100) == 2 and ivf_lists(10) == 1


def same_scores(vectors: np.ndarray, query: np.ndarray, found: list, rows: list[int]) -> bool:
    """Whether ``found`` holds rows as near the query as ``rows`` (half precision reorders near ties)."""
    return np.allclose(vectors[[r for r, _ in found]] @ query, vectors[rows] @ query, atol=2e-3)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_filtered_search_returns_only_allowed_rows_on_every_kind(kind):
    vectors = unit_vectors(3000)
    index = VectorIndex.build(vectors, kind)
    rng = np.random.default_rng(1)
    for share in (0.002, 0.05, 0.5):  # a few rows (exact search), some, half (the selector)
        allowed = rng.random(len(vectors)) < share
        for query in vectors[:5]:
            found = index.search(query, 20, allowed)
            assert len(found) == min(20, int(allowed.sum()))
            assert all(allowed[row] for row, _ in found)
            assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
            if kind == "flat" or share == 0.002:  # exact: flat, or a filter that leaves few rows
                assert same_scores(vectors, query, found, exact(vectors, query, 20, allowed))
    assert index.search(vectors[0], 5, np.zeros(len(vectors), dtype=bool)) == []


def test_a_filter_leaving_fewer_rows_than_k_gives_them_all():
    vectors = unit_vectors(2000)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[[5, 700, 1999]] = True
    for kind in ("ivf", "hnsw"):
        found = VectorIndex.build(vectors, kind).search(vectors[700], 10, allowed)
        assert [row for row, _ in found] == exact(vectors, vectors[700], 10, allowed)  # all three: no near ties


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_memory_mapped_loading_returns_what_the_built_index_returns(kind, tmp_path):
    vectors = unit_vectors(2500, seed=3)
    built = VectorIndex.build(vectors, kind)
    built.save(tmp_path / VECTORS)
    loaded = VectorIndex.load(tmp_path / VECTORS)
    assert loaded.kind == kind and loaded.count == 2500
    allowed = np.random.default_rng(2).random(2500) < 0.3
    for query in vectors[:10]:
        assert loaded.search(query, 10) == built.search(query, 10)
        assert loaded.search(query, 10, allowed) == built.search(query, 10, allowed)
    np.testing.assert_array_equal(loaded.vectors([0, 7, 2499]), built.vectors([0, 7, 2499]))
    np.testing.assert_allclose(loaded.vectors([0, 7, 2499]), vectors[[0, 7, 2499]], atol=1e-3)
    assert not len(loaded.unsound_rows())


def test_an_index_built_ivf_by_size_searches_with_filters(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "AUTO_THRESHOLD", 50)
    out = tmp_path / "index"
    build_index([CORPUS], out, HASH_SMALL.model_copy(update={"faiss_index": "auto"}))
    index = load_index(out)
    assert index.vectors.kind == "ivf"
    briefing = index.briefings()[0].id
    for mode in ("dense", "hybrid"):
        results = index.search("exotic pets", k=3, options=SearchOptions(mode=mode), briefing=briefing)
        assert results and all(r.briefing_id == briefing for r in results)


def test_the_batched_bm25_matrix_scores_as_bm25s_does(tmp_path, corpus):
    texts = [t.text for b in corpus.briefings for t in b.turns]
    languages = ["en"] * len(texts)
    (tmp_path / "a").mkdir()
    build_bm25(texts, tmp_path / "a", languages)
    (tmp_path / "b").mkdir()
    writer = Bm25Writer(languages)
    writer.add(texts[:40], languages[:40])
    writer.add(texts[40:], languages[40:])
    writer.save(tmp_path / "b")
    bm25s_scorer, batched = Bm25Scorer(tmp_path / "a"), Bm25Scorer(tmp_path / "b")
    assert batched.num_docs == len(texts)
    for query in ("exotic pets customs", "port security inspection", "tariffs on steel and RCEP"):
        np.testing.assert_allclose(batched.scores(query), bm25s_scorer.scores(query), rtol=1e-5, atol=1e-6)
        assert batched.idf(query.split()[0]) == pytest.approx(bm25s_scorer.idf(query.split()[0]))


def test_synthetic_copies_load_and_search_with_filters(fixture_index, tmp_path):
    archive = load_index(fixture_index)
    out = tmp_path / "synthetic"
    total = synthesize(fixture_index, 3 * archive.manifest.passages, out)
    index = load_index(out)
    assert total == index.manifest.passages >= 3 * archive.manifest.passages
    assert len(index.manifest.corpus) >= 3 * len(archive.manifest.corpus)
    copy = next(b for b in index.manifest.corpus if b.endswith("-x1"))
    results = index.search("port security", k=3, briefing=copy)
    assert results and all(r.briefing_id == copy for r in results)
    # the copies' texts are the archive's with words replaced: the same length, other words
    first = archive.manifest.corpus and next(iter(archive.manifest.corpus))
    original, copied = archive.briefing(first), index.briefing(f"{first}-x1")
    assert len(original.text) == len(copied.text) and original.text != copied.text
