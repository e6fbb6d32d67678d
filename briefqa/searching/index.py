"""Querying an index: load it, rank passages for a question, cite them.

    import briefqa
    index = briefqa.load_index("index")
    results = index.search("exotic pets", k=5)
    results[0].citation, results[0].text

Loading never builds; see ``briefqa.indexing.build`` for that.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from briefqa.indexing.bm25 import Bm25Scorer
from briefqa.indexing.content import CONTENT, ContentStore, DamagedContent, RowFacts
from briefqa.indexing.embed import KNOWN_MODELS, ONNX_MODEL, Embedder, OnnxEncoder, QueryEncoderError, load_embedder
from briefqa.indexing.store import (
    ONNX_DIR,
    IndexLoadError,
    Manifest,
    read_bm25,
    read_content,
    read_manifest,
    read_sentences,
    read_vectors,
)
from briefqa.indexing.vectors import Ranking, SentenceVectors, VectorIndex
from briefqa.options import Filters, SearchOptions
from briefqa.paths import default_index_dir
from briefqa.records import Briefing, Passage
from briefqa.searching.cite import GOOD_MATCH, MatchEvidence, SearchResult, cite, match, pick_highlight, to_dataframe
from briefqa.searching.cues import asks_for_a_figure, read_cues
from briefqa.searching.rankings import FUSIONS, add_best_sentences, adjust, best, bm25_ranking, near

# Fused candidates whose sentences are scored: the best sentence reorders the head of the list.
SENTENCE_CANDIDATES = 50
# Loads that may meet a writer swapping in a new index before one reads a whole index.
LOAD_ATTEMPTS = 3

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _reads_content(method: _Method) -> _Method:
    """A content file that fails to read in the middle of a search (a damaged page, a column gone,
    a passage edited) is an IndexLoadError that names it and the rebuild command, not a crash."""

    @functools.wraps(method)
    def reading(self: Index, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except DamagedContent as err:
            raise self._error(f"{CONTENT} is damaged: {err}") from None
        except sqlite3.DatabaseError:
            raise self._error(f"{CONTENT} is damaged") from None

    return reading  # type: ignore[return-value]


class SearchResults(list[SearchResult]):
    """A list of SearchResult, best first."""

    @property
    def good_match(self) -> bool:
        """Whether any result is likely to answer the question (confidence at least GOOD_MATCH).
        False when the best of them is only the best of a bad lot."""
        return any(r.confidence >= GOOD_MATCH for r in self)

    def to_dataframe(self):
        return to_dataframe(self)


class Index:
    """A loaded index. Use :func:`load_index`."""

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        content: ContentStore,
        vectors: VectorIndex,
        sentences: SentenceVectors,
        bm25: Bm25Scorer,
    ):
        self.path = path
        self.manifest = manifest
        self.content = content
        self.vectors = vectors
        self.sentences = sentences
        self.bm25 = bm25
        self._embedder: Embedder | None = None

    @cached_property
    @_reads_content
    def passages(self) -> list[Passage]:
        """Every passage, in row order: for evaluation and tools (a search reads only its results)."""
        return self.content.all_passages()

    @property
    def embedder(self) -> Embedder:
        """The query encoder for this index's model, loaded on first use: its ONNX export when
        the index has one (no torch import), else a model briefqa knows by name (the packaged one,
        or 'hash'). A model path written in the manifest is never loaded: an index directory must
        not choose what code or weights run; give such a model with :meth:`use_embedder`."""
        if self._embedder is None:
            onnx = self.path / ONNX_DIR
            name = self.manifest.model.name
            if (onnx / ONNX_MODEL).exists():
                try:
                    self._embedder = OnnxEncoder(onnx)
                except QueryEncoderError as err:
                    raise self._error(f"{ONNX_DIR}/{err.name} is damaged") from None
                if self._embedder.name != name or self._embedder.dimension != self.manifest.model.dimension:
                    raise self._error(f"{ONNX_DIR}/ holds an encoder for another model than '{name}'")
            elif name in KNOWN_MODELS:
                self._embedder = load_embedder(name)
            else:
                raise self._error(
                    f"it has no query encoder ({ONNX_DIR}/) and names the model '{name}', which briefqa does not "
                    "load on an index's word; load that model yourself and pass it to Index.use_embedder"
                )
        return self._embedder

    def _error(self, reason: str) -> IndexLoadError:
        return IndexLoadError(self.path, reason, self.manifest.corpus_paths)

    def use_embedder(self, embedder: Embedder) -> None:
        """Encode queries with this embedder (it must be the model the index was built with)."""
        if embedder.name != self.manifest.model.name or embedder.dimension != self.manifest.model.dimension:
            raise IndexLoadError(
                self.path,
                f"it was built with model '{self.manifest.model.name}', not '{embedder.name}'",
                self.manifest.corpus_paths,
            )
        self._embedder = embedder

    @_reads_content
    def why_nothing_matches(self, options: SearchOptions) -> str:
        """For a search that returned nothing: the filters that exclude everything."""
        if not options.filters.active():
            return "no passage of the index matched the question, and no filter was given"
        empty = self.content.filters_matching_nothing(options.filters)
        if empty:
            return "no passage matches " + " and none matches ".join(empty)
        return "each filter matches some passages, but no passage matches them all together"

    @_reads_content
    def briefing(self, briefing_id: str) -> Briefing | None:
        """A briefing as indexed, with its turns (for reading around a citation); None if absent."""
        return self.content.briefing(briefing_id)

    @_reads_content
    def texts(self) -> dict[str, str]:
        """Briefing id -> the transcript text that passages' offsets refer to."""
        return self.content.texts()

    @_reads_content
    def rank(
        self,
        query: str,
        k: int = 5,
        options: SearchOptions | dict | None = None,
        query_vector: np.ndarray | None = None,
    ) -> Ranking:
        """The k best passages as (row, score) pairs, best first: the ranking without citations."""
        query, k, options = _checked(query, k, options)
        return self._candidates(query, k, options, query_vector)[0][:k]

    @_reads_content
    def rank_turns(
        self,
        query: str,
        k: int = 5,
        options: SearchOptions | dict | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Ranking]:
        """The k best turns, each as its candidate passages (row, score), best first; a turn ranks
        by its best passage. Five answers, not three pieces of one."""
        query, k, options = _checked(query, k, options)
        candidates, facts = self._candidates(query, k, options, query_vector)
        if facts is None:
            facts = self.content.facts([row for row, _ in candidates])
        turns: dict[tuple[str, int], Ranking] = {}
        for row, score in candidates:
            turns.setdefault((facts[row].briefing_id, facts[row].turn), []).append((row, score))
        return list(turns.values())[:k]

    def _candidates(
        self, query: str, k: int, options: SearchOptions, query_vector: np.ndarray | None
    ) -> tuple[Ranking, dict[int, RowFacts] | None]:
        """Every candidate passage, best first: at least k, and enough to group into k turns; with
        the candidates' facts when hybrid read them (grouping needs them too)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        allowed = self.content.allowed_rows(options.filters)
        depth = max(3 * k, options.depth)
        if options.mode == "bm25":
            return bm25_ranking(self.bm25.scores(query), depth, allowed), None
        if query_vector is None:
            query_vector = self.embedder.encode([query])[0]
        dense = self.vectors.search(query_vector, depth, allowed)
        if options.mode == "dense":
            return dense, None
        bm25_scores = self.bm25.scores(query)
        bm25 = bm25_ranking(bm25_scores, depth, allowed)
        cues = read_cues(query)
        if not options.date_weight:
            cues = cues._replace(window=None)
        nearby = self._held_near(cues.window, options.filters) if cues.window else None
        if nearby is not None:  # passages held near the question's dates join the candidates
            dense = _joined(dense, self.vectors.search(query_vector, depth, nearby))
            bm25 = _joined(bm25, bm25_ranking(bm25_scores, depth, nearby))
        if options.figure_dense_weight is not None and asks_for_a_figure(query):
            options = options.model_copy(update={"dense_weight": options.figure_dense_weight})
        fused = FUSIONS[options.fusion](dense, bm25, options)
        facts = self.content.facts(list(fused))
        if options.sentence_weight and options.fusion == "weighted":  # a score, on the scale of weighted's
            head = [row for row, _ in best(fused, SENTENCE_CANDIDATES)]
            try:
                best_sentence = dict(zip(head, self.sentences.best(head, query_vector)))
            except ValueError:
                raise self._error("sentences.npy is damaged (vectors that are not numbers)") from None
            fused |= add_best_sentences({row: fused[row] for row in head}, best_sentence, facts, cues, options)
        return best(adjust(fused, facts, cues, options), len(fused)), facts

    def _held_near(self, window: tuple[date, date], filters: Filters) -> np.ndarray | None:
        """Row mask of the passages held near a question's dates that pass the filters; None
        when there are none."""
        first, last = near(window)
        first = max(first, filters.since) if filters.since else first
        last = min(last, filters.until) if filters.until else last
        if first > last:
            return None
        mask = self.content.allowed_rows(filters.model_copy(update={"since": first, "until": last}))
        return mask if mask is not None and mask.any() else None

    @_reads_content
    def search(self, query: str, k: int = 5, options: SearchOptions | dict | None = None) -> SearchResults:
        """The k turns that best answer ``query``, each cited with its best passage and the turn's
        other matching passages (``SearchResult.more``). Filters apply before ranking. ``options``
        may be a dict of SearchOptions' fields. Arguments of the wrong type raise ValueError (or
        pydantic's ValidationError, a ValueError, for options) saying what was expected."""
        query, k, options = _checked(query, k, options)
        query_vector = self._query_vector(query)
        return self._cite(query, query_vector, self.rank_turns(query, k, options, query_vector))

    @_reads_content
    def search_passages(self, query: str, k: int = 5, options: SearchOptions | dict | None = None) -> SearchResults:
        """The flat list: the k best passages, each cited, several of one turn if they rank so."""
        query, k, options = _checked(query, k, options)
        query_vector = self._query_vector(query)
        return self._cite(query, query_vector, [[hit] for hit in self.rank(query, k, options, query_vector)])

    def _query_vector(self, query: str) -> np.ndarray:
        if not query.strip():
            raise ValueError("the query is empty")
        return self.embedder.encode([query])[0]  # for the confidence, whatever the mode

    def _cite(self, query: str, query_vector: np.ndarray, groups: list[Ranking]) -> SearchResults:
        # Highlights weigh the query's words by IDF: encoding every sentence would cost ~300 ms.
        scorer = self.bm25.sentence_scorer(query)
        coverage = self.bm25.coverage(query)
        leads = [group[0][0] for group in groups]
        similarities = self.vectors.vectors(leads) @ query_vector if leads else np.zeros(0)
        if not np.isfinite(similarities).all():
            raise self._error("vectors.faiss is damaged (vectors that are not numbers)")
        rows = [row for group in groups for row, _ in group]
        passages = dict(zip(rows, self.content.passages(rows)))
        if passages:  # what is cited is what was indexed: never a quote edited in the file
            self.content.check_cited(list(passages.values()), self.manifest.corpus)
        titles = self.content.speaker_titles(sorted({passages[row].briefing_id for row in leads}))
        results = SearchResults()
        for rank, (group, similarity) in enumerate(zip(groups, similarities), start=1):
            (row, score), others = group[0], group[1:]
            p = passages[row]
            evidence = MatchEvidence(similarity=float(similarity), coverage=coverage(_own_words(p)))
            more = [match(passages[r], s, pick_highlight(passages[r].text, scorer)) for r, s in others]
            title = titles.get((p.briefing_id, p.speaker))
            results.append(cite(p, rank, score, pick_highlight(p.text, scorer), evidence, title, more))
        return results


def _checked(query: object, k: object, options: object) -> tuple[str, int, SearchOptions]:
    """A search's arguments as the types it needs, or a ValueError (pydantic's ValidationError for
    options) that says what was expected. ``options`` may be a dict of SearchOptions' fields."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"query must be a non-empty string, not {query!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k!r}")
    if not isinstance(options, SearchOptions):
        options = SearchOptions() if options is None else SearchOptions.model_validate(options)
    return query, int(k), options


def _joined(ranking: Ranking, more: Ranking) -> Ranking:
    """A ranking with another's rows added (each row once), for fusion's candidates."""
    seen = {row for row, _ in ranking}
    return ranking + [(row, score) for row, score in more if row not in seen]


def _own_words(p: Passage) -> str:
    """What a passage says, with the question it answers; not the briefing's title, which every
    passage of a briefing shares (its words would make a closing 'Goodbye' look on topic)."""
    return f"{p.question_text or ''}\n{p.text}"


def load_index(path: Path | str | None = None, model: str | None = None) -> Index:
    """Load an index directory (default: index/). It must have been built: ``briefqa index build``.

    ``model``, when given, must be the model the index was built with. A writer may swap a new
    index in while this reads: then it reads the new one whole, never parts of both."""
    path = Path(path) if path is not None else default_index_dir()
    attempts = 1
    while True:
        before = _generation(path)
        try:
            index = _load(path, model)
        except IndexLoadError:
            if attempts == LOAD_ATTEMPTS or _generation(path) == before:
                raise
        else:
            if attempts == LOAD_ATTEMPTS or _generation(path) == before:
                return index
            index.content.close()
        attempts += 1


def _generation(path: Path) -> tuple[int, int] | None:
    """Which directory ``path`` is now: a build swaps in a new one (a new inode) in one rename."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _load(path: Path, model: str | None) -> Index:
    manifest = read_manifest(path)
    if model is not None and model != manifest.model.name:
        raise IndexLoadError(
            path, f"it was built with model '{manifest.model.name}', not '{model}'", manifest.corpus_paths
        )
    return Index(
        path,
        manifest,
        read_content(path, manifest),
        read_vectors(path, manifest),
        read_sentences(path, manifest),
        read_bm25(path, manifest),
    )
