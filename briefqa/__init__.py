"""briefqa: cited answers from press-conference transcripts.

    import briefqa
    briefqa.build_index(["corpus/"], "index")
    index = briefqa.load_index("index")
    results = index.search("What did customs say about exotic pets?", k=5)

    index = briefqa.open_index()  # as `briefqa ask` does: index/, built from corpus/ when missing or stale

The names below are imported on first use, so that ``import briefqa`` (and ``briefqa --help``)
stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_index": "briefqa.searching.index",
    "open_index": "briefqa.default_index",
    "Index": "briefqa.searching.index",
    "SearchResults": "briefqa.searching.index",
    "build_index": "briefqa.indexing.build",
    "add_to_index": "briefqa.indexing.build",
    "BuildReport": "briefqa.indexing.build",
    "SearchResult": "briefqa.searching.cite",
    "PassageMatch": "briefqa.searching.cite",
    "load_corpus": "briefqa.reading.corpus",
    "inspect_file": "briefqa.reading.inspect",
    "Inspection": "briefqa.reading.inspect",
    "Briefing": "briefqa.records",
    "BriefingSummary": "briefqa.records",
    "SpeakerSummary": "briefqa.records",
    "Turn": "briefqa.records",
    "Passage": "briefqa.records",
    "BuildOptions": "briefqa.options",
    "ChunkSettings": "briefqa.options",
    "Filters": "briefqa.options",
    "QuestionRules": "briefqa.options",
    "SearchOptions": "briefqa.options",
    "IndexLoadError": "briefqa.indexing.manifest",
    "ModelError": "briefqa.indexing.embed",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'briefqa' has no attribute {name!r}")
