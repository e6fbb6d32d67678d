"""The library's front: build an index from transcripts, add to it, load it, search it.

    import briefqa
    index = briefqa.load_index()                 # the default index (built on first use)
    results = index.search("exotic pets", k=5, mode="hybrid")
    results[0].citation, results[0].text

Builds are incremental: a vector is reused for any passage whose embedded text is unchanged, so
adding a transcript embeds only its passages and re-adding an unchanged one changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from briefqa.chunk import chunk_briefings
from briefqa.cite import SearchResult, cite, pick_highlight, to_dataframe
from briefqa.corpus import parse_files, transcript_files
from briefqa.embed import DEFAULT_MODEL, ONNX_MODEL, Embedder, OnnxEncoder, Progress, load_embedder
from briefqa.models import ChunkSettings, ParsedTranscript, Passage, Role, SkippedFile
from briefqa.search import (
    DEFAULT_FUSION,
    DEFAULT_MODE,
    DENSE_WEIGHT,
    FUSION_DEPTH,
    Filters,
    Fusion,
    Mode,
    bm25_ranking,
    build_bm25_matrix,
    dense_ranking,
    fuse,
)
from briefqa.settings import default_corpus_dir, default_index_dir
from briefqa.store import (
    ONNX_DIR,
    IndexLoadError,
    Manifest,
    ModelInfo,
    make_faiss_index,
    now,
    read_bm25,
    read_faiss,
    read_manifest,
    read_passages,
    read_transcripts,
    text_sha256,
    write_index,
)
from briefqa.turns import resolve

FAISS_QUERY_THREADS = 1  # one query at a time: on 2 cores, 2 FAISS threads were ~20x slower


class BuildReport(BaseModel):
    """What a build or an add did."""

    index: str
    added: list[str] = Field(default_factory=list, description="Briefings new to the index.")
    replaced: list[str] = Field(default_factory=list, description="Briefings whose text changed.")
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Briefings no longer in the corpus.")
    passages: int = 0
    embedded: int = Field(default=0, description="Passages embedded in this run.")
    reused: int = Field(default=0, description="Passages whose vectors were kept from the old index.")
    skipped: list[SkippedFile] = Field(default_factory=list)
    written: bool = Field(default=False, description="False when nothing changed.")
    seconds: float = 0.0


class SearchResults(list[SearchResult]):
    """A list of SearchResult, best first."""

    def to_dataframe(self):
        return to_dataframe(self)


# --- building ---------------------------------------------------------------------------------


def _key(p: Passage) -> str:
    return hashlib.sha256(p.embedded_text.encode()).hexdigest()


@dataclass
class _Existing:
    manifest: Manifest | None = None
    transcripts: list[ParsedTranscript] = field(default_factory=list)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


def _read_existing(path: Path, model: str, chunking: ChunkSettings, faiss_kind: str) -> _Existing:
    """An index already at ``path`` built the same way, for its vectors; empty otherwise."""
    try:
        manifest = read_manifest(path)
    except IndexLoadError:
        return _Existing()
    if manifest.model.name != model or manifest.chunking != chunking or manifest.faiss_index != faiss_kind:
        return _Existing(manifest)
    try:
        passages = read_passages(path, manifest)
        index = read_faiss(path, manifest)
        transcripts = read_transcripts(path)
    except IndexLoadError:
        return _Existing(manifest)
    vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), "float32")
    return _Existing(manifest, transcripts, {_key(p): v for p, v in zip(passages, vectors)})


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write(
    out: Path,
    transcripts: list[ParsedTranscript],
    existing: _Existing,
    embedder: Embedder,
    chunking: ChunkSettings,
    faiss_kind: str,
    report: BuildReport,
    progress: Progress | None,
) -> BuildReport:
    corpus = {t.id: text_sha256(t.text) for t in transcripts}
    model = ModelInfo(name=embedder.name, sha256=embedder.sha256, dimension=embedder.dimension)
    manifest = Manifest(model=model, chunking=chunking, faiss_index=faiss_kind, corpus=corpus, passages=0,
                        created_at=now())
    old = existing.manifest
    if old and old.model == model and old.chunking == chunking and old.faiss_index == faiss_kind \
            and old.corpus == corpus:
        report.passages = old.passages
        return report  # nothing changed: leave the index exactly as it is

    passages = chunk_briefings(resolve(transcripts), chunking, embedder.count_tokens)
    if not passages:
        raise ValueError("no passages to index: every transcript was skipped or empty")
    keys = [_key(p) for p in passages]
    missing = [i for i, k in enumerate(keys) if k not in existing.vectors]
    fresh = embedder.encode([passages[i].embedded_text for i in missing], progress=progress) if missing else None
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    for row, key in enumerate(keys):
        if key in existing.vectors:
            vectors[row] = existing.vectors[key]
    if fresh is not None:
        vectors[missing] = fresh
    manifest.passages = len(passages)
    export = None
    old_encoder = out / ONNX_DIR
    if old and old.model == model and (old_encoder / ONNX_MODEL).exists():
        # Same model, same export: link the files (never modified in place) instead of ~1.5 s
        # of exporting again on every `index add`.
        export = lambda directory: shutil.copytree(old_encoder, directory, copy_function=_link_or_copy)  # noqa: E731
    elif hasattr(embedder, "model"):  # a sentence-transformers model: export its query encoder
        from briefqa.embed import export_onnx

        export = lambda directory: export_onnx(embedder, directory)  # noqa: E731
    texts = [p.embedded_text for p in passages]
    write_index(out, manifest, transcripts, passages, make_faiss_index(vectors, faiss_kind),
                lambda directory: build_bm25_matrix(texts, directory), export)
    report.passages, report.embedded, report.reused = len(passages), len(missing), len(passages) - len(missing)
    report.written = True
    return report


def build_index(
    corpus: Iterable[Path | str] | None = None,
    out: Path | str | None = None,
    model: str = DEFAULT_MODEL,
    chunking: ChunkSettings | None = None,
    faiss_index: str = "flat",
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Index the transcripts in ``corpus`` (files or directories; default corpus/) into ``out``
    (default index/). Vectors of unchanged passages already in ``out`` are reused."""
    started = time.perf_counter()
    out = Path(out) if out else default_index_dir()
    chunking = chunking or ChunkSettings()
    transcripts, skipped = parse_files(transcript_files(corpus or [default_corpus_dir()]))
    embedder = embedder or load_embedder(model)
    existing = _read_existing(out, embedder.name, chunking, faiss_index)
    report = BuildReport(index=str(out), skipped=skipped)
    old = existing.manifest.corpus if existing.manifest else {}
    for t in transcripts:
        sha = text_sha256(t.text)
        (report.unchanged if old.get(t.id) == sha else report.replaced if t.id in old else report.added).append(t.id)
    report.removed = sorted(set(old) - {t.id for t in transcripts})
    _write(out, transcripts, existing, embedder, chunking, faiss_index, report, progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def add_to_index(
    files: Iterable[Path | str],
    index: Path | str | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Add transcripts to an existing index (a changed one replaces its old passages), embedding
    only passages that are new."""
    started = time.perf_counter()
    path = Path(index) if index else default_index_dir()
    manifest = read_manifest(path)
    new, skipped = parse_files(transcript_files(files))
    embedder = embedder or load_embedder(manifest.model.name)
    if embedder.name != manifest.model.name:
        raise IndexLoadError(path, f"it was built with model '{manifest.model.name}', not '{embedder.name}'")
    existing = _read_existing(path, manifest.model.name, manifest.chunking, manifest.faiss_index)
    transcripts = {t.id: t for t in existing.transcripts}
    report = BuildReport(index=str(path), skipped=skipped)
    for t in new:
        if t.id not in transcripts:
            report.added.append(t.id)
        elif text_sha256(transcripts[t.id].text) != text_sha256(t.text):
            report.replaced.append(t.id)
        else:
            report.unchanged.append(t.id)
        transcripts[t.id] = t
    _write(path, list(transcripts.values()), existing, embedder, manifest.chunking, manifest.faiss_index,
           report, progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# --- loading and searching --------------------------------------------------------------------


class Index:
    """A loaded index. Use :func:`load_index`."""

    def __init__(self, path: Path, manifest: Manifest, passages: list[Passage], faiss_index, bm25):
        self.path = path
        self.manifest = manifest
        self.passages = passages
        self._faiss = faiss_index
        self._bm25 = bm25
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        """The query encoder for this index's model, loaded on first use: its ONNX export when
        the index has one (no torch import), else the model itself."""
        if self._embedder is None:
            onnx = self.path / ONNX_DIR
            if (onnx / ONNX_MODEL).exists():
                self._embedder = OnnxEncoder(onnx)
            else:
                self._embedder = load_embedder(self.manifest.model.name)
        return self._embedder

    def use_embedder(self, embedder: Embedder) -> None:
        """Encode queries with this embedder (it must be the model the index was built with)."""
        if embedder.name != self.manifest.model.name or embedder.dimension != self.manifest.model.dimension:
            raise IndexLoadError(
                self.path, f"it was built with model '{self.manifest.model.name}', not '{embedder.name}'"
            )
        self._embedder = embedder

    def rank(self, query: str, k: int = 5, mode: Mode = DEFAULT_MODE, filters: Filters | None = None,
             fusion: Fusion = DEFAULT_FUSION, dense_weight: float = DENSE_WEIGHT) -> list[tuple[int, float]]:
        """(passage row, score) pairs, best first: the ranking without citations."""
        allowed = (filters or Filters()).mask(self.passages)
        depth = max(k, FUSION_DEPTH) if mode == "hybrid" else k
        dense = bm25 = []
        if mode in ("dense", "hybrid"):
            dense = dense_ranking(self._faiss, self.embedder.encode([query])[0], depth, allowed)
        if mode in ("bm25", "hybrid"):
            bm25 = bm25_ranking(self._bm25.scores(query), depth, allowed)
        if mode == "dense":
            return dense
        if mode == "bm25":
            return bm25
        return fuse(dense, bm25, k, fusion, dense_weight)

    def search(
        self,
        query: str,
        k: int = 5,
        mode: Mode = DEFAULT_MODE,
        speaker: str | None = None,
        role: Role | None = None,
        outlet: str | None = None,
        briefing: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        fusion: Fusion = DEFAULT_FUSION,
    ) -> SearchResults:
        """The k passages that best answer ``query``, each cited. Filters apply before ranking."""
        if not query.strip():
            raise ValueError("the query is empty")
        if k < 1:
            raise ValueError("k must be at least 1")
        filters = Filters(speaker=speaker, role=role, outlet=outlet, briefing=briefing, since=since, until=until)
        ranking = self.rank(query, k, mode, filters, fusion)
        passages = [self.passages[row] for row, _ in ranking]
        # Highlights weigh the query's words by IDF: encoding every sentence would cost ~300 ms.
        scorer = self._bm25.sentence_scorer(query)
        return SearchResults(
            cite(p, rank, score, pick_highlight(p.text, query, scorer))
            for rank, (p, (_, score)) in enumerate(zip(passages, ranking), start=1)
        )


def load_index(path: Path | str | None = None, model: str | None = None) -> Index:
    """Load an index directory (default: index/, built from corpus/ on first use).

    ``model``, when given, must be the model the index was built with."""
    import faiss

    faiss.omp_set_num_threads(FAISS_QUERY_THREADS)
    if path is None:
        path = ensure_default_index()
    path = Path(path)
    manifest = read_manifest(path)
    if model is not None and model != manifest.model.name:
        raise IndexLoadError(path, f"it was built with model '{manifest.model.name}', not '{model}'")
    return Index(path, manifest, read_passages(path, manifest), read_faiss(path, manifest), read_bm25(path))


def default_index_is_current(path: Path | None = None, corpus: Path | None = None) -> bool:
    """Whether the default index exists and was built from the corpus as it is now."""
    path, corpus = path or default_index_dir(), corpus or default_corpus_dir()
    try:
        manifest = read_manifest(path)
    except IndexLoadError:
        return False
    transcripts, _ = parse_files(transcript_files([corpus])) if corpus.exists() else ([], [])
    return manifest.corpus == {t.id: text_sha256(t.text) for t in transcripts}


def ensure_default_index(progress: Progress | None = None) -> Path:
    """The default index, built (or brought up to date) from the default corpus when needed."""
    path = default_index_dir()
    if not default_index_is_current(path):
        build_index([default_corpus_dir()], path, progress=progress)
    return path
