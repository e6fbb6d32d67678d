"""Opening an index the way ``briefqa ask`` does: the one named, or the default one kept fresh.

    import briefqa
    index = briefqa.open_index()          # index/, built from corpus/ first when needed
    index = briefqa.open_index("other")   # an index named: loaded as it is, never built

``load_index`` only loads; this adds the default index's policy (``default_index_build``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefqa.indexing.build import BuildProgress
    from briefqa.searching.index import Index


def open_index(
    path: Path | str | None = None,
    *,
    progress: BuildProgress | None = None,
    notify: Callable[[str], None] | None = None,
) -> Index:
    """The index at ``path``, loaded (as ``load_index`` does: never built).

    With no ``path``, the default index (index/, or $BRIEFQA_INDEX): built from the default corpus
    (corpus/, or $BRIEFQA_CORPUS) first when it is missing, and rebuilt, with the options it was
    built with, when it was built from that corpus alone and a file there changed, or briefqa now
    reads transcripts differently, or its manifest is damaged or of an older format. An index built there from other
    files is used as it is, never replaced unasked. A build that reads no transcript raises
    ValueError (``NothingToIndex``); a damaged index that is not briefqa's to rebuild raises
    ``IndexLoadError`` with the command that rebuilds it.

    ``progress``: a build's progress, as ``build_index`` reports it (stage, done, total).
    ``notify``: told, in a sentence, that a build starts and why (with the real model a build
    takes minutes), and which files it skipped."""
    from briefqa.searching.index import load_index

    if path is not None:
        return load_index(path)
    from briefqa.indexing.build import build_index
    from briefqa.indexing.freshness import default_index_build
    from briefqa.paths import default_corpus_dir, default_index_dir

    index, corpus = default_index_dir(), default_corpus_dir()
    plan = default_index_build(index, corpus)
    if plan:
        if notify:
            notify(f"Building the index in {index}/ from {corpus}/ ({plan.reason})...")
        report = build_index([corpus], index, plan.options, progress=progress)
        if notify and report.skipped:
            notify(f"Skipped {len(report.skipped)} file(s):\n" + "\n".join(f"  {s.message()}" for s in report.skipped))
    return load_index(index)
