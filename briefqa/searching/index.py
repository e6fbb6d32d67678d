"""The query API: ``load_index`` and ``Index``, whose ``search``, ``search_passages``, ``rank`` and
``rank_turns`` check their arguments and hand the question to the ranking pipeline
(``briefqa.searching.pipeline``, where the steps are listed in order).

    import briefqa
    index = briefqa.load_index("index")
    results = index.search("exotic pets", k=5)
    results = index.search("exotic pets", k=3, mode="bm25", speaker="li")
    results[0].citation, results[0].text

Loading never builds; see ``briefqa.indexing.build`` for that.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from briefqa.choices import Role
from briefqa.hashing import text_sha256
from briefqa.indexing.bm25 import Bm25Scorer
from briefqa.indexing.content import CONTENT, ContentStore, DamagedContent
from briefqa.indexing.embed import KNOWN_MODELS, Embedder, load_embedder
from briefqa.indexing.layout import ONNX_DIR
from briefqa.indexing.manifest import IndexLoadError, Manifest, read_manifest, require_model
from briefqa.indexing.onnx_encoder import ONNX_MODEL, OnnxEncoder, QueryEncoderError
from briefqa.indexing.store import read_bm25, read_content, read_sentences, read_vectors
from briefqa.indexing.vectors import Ranking, SentenceVectors, VectorIndex
from briefqa.options import Filters, SearchOptions
from briefqa.paths import default_index_dir
from briefqa.records import Briefing, BriefingSummary, Passage, SpeakerSummary
from briefqa.searching import pipeline
from briefqa.searching.cite import SearchResults

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
                    encoder = OnnxEncoder(onnx)
                except QueryEncoderError as err:
                    raise self._error(f"{ONNX_DIR}/{err.name} is damaged") from None
                require_model(self.path, self.manifest, encoder.name, encoder.dimension, held_in=f"{ONNX_DIR}/")
                self._embedder = encoder
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
        require_model(self.path, self.manifest, embedder.name, embedder.dimension)
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
        """A briefing as indexed, with its turns (for reading around a citation); None if absent.
        Its text is checked against the hash the manifest records: an edited one is never shown."""
        found = self.content.briefing(briefing_id)
        if found is not None and text_sha256(found.text) != self.manifest.corpus.get(briefing_id):
            raise DamagedContent(f"the transcript of briefing '{briefing_id}' is not the one indexed")
        return found

    @_reads_content
    def briefings(self) -> list[BriefingSummary]:
        """Every briefing the index holds, without its turns and text, in the order built."""
        return self.content.briefing_summaries()

    @_reads_content
    def speakers(self, role: Role | None = None) -> list[SpeakerSummary]:
        """Each name turns are given to, per role, with its turns and briefings: the values that
        ``Filters.speaker`` finds (and, for reporters, ``Filters.outlet``). Only ``role``'s when given."""
        return self.content.speakers(role)

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
        **settings: Any,
    ) -> Ranking:
        """The k best passages as (row, score) pairs, best first: the ranking without citations.
        Options as in :meth:`search`."""
        query, k, options = _checked(query, k, options, settings)
        question = self._question(query, options, query_vector)
        return [group[0] for group in pipeline.rank(self, question, k, options, per_turn=False)]

    @_reads_content
    def rank_turns(
        self,
        query: str,
        k: int = 5,
        options: SearchOptions | dict | None = None,
        query_vector: np.ndarray | None = None,
        **settings: Any,
    ) -> list[Ranking]:
        """The k best turns, each as its candidate passages (row, score), best first; a turn ranks
        by its best passage. Five answers, not three pieces of one. Options as in :meth:`search`."""
        query, k, options = _checked(query, k, options, settings)
        return pipeline.rank(self, self._question(query, options, query_vector), k, options)

    @_reads_content
    def search(
        self, query: str, k: int = 5, options: SearchOptions | dict | None = None, **settings: Any
    ) -> SearchResults:
        """The k turns that best answer ``query``, each cited with its best passage and the turn's
        other matching passages (``SearchResult.more``). Filters apply before ranking.

        ``options`` is a SearchOptions or a dict of its fields; ``settings`` are the same as keywords,
        each replacing that field of ``options``: ``index.search(q, k=3, mode="bm25")``. A filter
        may be given as a keyword of its own (``speaker="li"``, ``since="2023-01-01"``: Filters'
        fields), on top of ``filters=`` or the options' filters. An unknown keyword raises ValueError
        naming it; arguments of the wrong type raise ValueError (pydantic's ValidationError, a
        ValueError, for options) saying what was expected."""
        query, k, options = _checked(query, k, options, settings)
        question = self._question(query, options, self._encode(query))  # the confidence needs it, whatever the mode
        return pipeline.search(self, question, k, options)

    @_reads_content
    def search_passages(
        self, query: str, k: int = 5, options: SearchOptions | dict | None = None, **settings: Any
    ) -> SearchResults:
        """The flat list: the k best passages, each cited, several of one turn if they rank so.
        Options as in :meth:`search`."""
        query, k, options = _checked(query, k, options, settings)
        question = self._question(query, options, self._encode(query))
        return pipeline.search(self, question, k, options, per_turn=False)

    def _question(self, query: str, options: SearchOptions, vector: np.ndarray | None) -> pipeline.Question:
        return pipeline.read_question(query, options, self._encode, vector)

    def _encode(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]


def _checked(
    query: object, k: object, options: object, settings: dict[str, Any] | None = None
) -> tuple[str, int, SearchOptions]:
    """A search's arguments as the types it needs, or a ValueError (pydantic's ValidationError for
    options) that says what was expected. ``options`` may be a dict of SearchOptions' fields;
    ``settings``, keywords of SearchOptions' or Filters' fields, replace or add to them."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"query must be a non-empty string, not {query!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k!r}")
    if not isinstance(options, SearchOptions):
        options = SearchOptions() if options is None else SearchOptions.model_validate(options)
    if settings:
        options = _with_settings(options, settings)
    return query, int(k), options


def _with_settings(options: SearchOptions, settings: dict[str, Any]) -> SearchOptions:
    """``options`` with keyword settings: SearchOptions' fields replace its own, Filters' fields
    are added to its filters (or to ``filters=``, when given)."""
    searching, filtering = set(SearchOptions.model_fields), set(Filters.model_fields)
    unknown = sorted(set(settings) - searching - filtering)
    if unknown:
        raise ValueError(
            f"unknown search option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            f"expected SearchOptions' fields ({', '.join(SearchOptions.model_fields)}) or filters "
            f"({', '.join(Filters.model_fields)})"
        )
    data = options.model_dump() | {key: value for key, value in settings.items() if key in searching}
    if isinstance(data["filters"], Filters):
        data["filters"] = data["filters"].model_dump()
    filters = {key: value for key, value in settings.items() if key in filtering}
    if filters and isinstance(data["filters"], dict):
        data["filters"] = data["filters"] | filters
    return SearchOptions.model_validate(data)


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
    if model is not None:
        require_model(path, manifest, model)
    return Index(
        path,
        manifest,
        read_content(path, manifest),
        read_vectors(path, manifest),
        read_sentences(path, manifest),
        read_bm25(path, manifest),
    )
