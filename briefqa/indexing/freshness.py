"""Whether an index is out of date with the files it was built from, and the default index's
policy: index/ is built from corpus/ on first use and rebuilt when a file there changed, never
replaced when a user built it from other files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from briefqa.hashing import file_sha256
from briefqa.indexing.build import absolute_paths
from briefqa.indexing.layout import MANIFEST
from briefqa.indexing.manifest import IndexLoadError, Manifest, read_manifest
from briefqa.options import BuildOptions
from briefqa.reading.corpus import source_files
from briefqa.reading.formats import parser_versions


def changed_sources(manifest: Manifest) -> list[str]:
    """Files under the index's corpus paths that were added, removed or changed since it was built.

    One pass of stat calls; a file is hashed only when its size or mtime differ from the record."""
    recorded = {s.path: s for s in manifest.sources}
    try:
        current = {str(p) for p in source_files(manifest.corpus_paths)}
    except FileNotFoundError as err:
        return [str(err)]
    changed = sorted(set(recorded) ^ current)
    for name in sorted(current & set(recorded)):
        stat, before = os.stat(name), recorded[name]
        if (stat.st_size, stat.st_mtime_ns) == (before.size, before.mtime_ns):
            continue
        if stat.st_size != before.size or file_sha256(Path(name)) != before.sha256:
            changed.append(name)
    return changed


@dataclass
class DefaultIndexBuild:
    """Why the default index is to be built, and how (as it was built before, or the defaults)."""

    reason: str
    options: BuildOptions


def default_index_build(index: Path, corpus: Path) -> DefaultIndexBuild | None:
    """Whether the default index should be (re)built from the default corpus: None when not.

    Only an index that is missing, or that was built from ``corpus`` alone and is out of date, is
    rebuilt: an index a user built there from other files is never replaced unasked. A damaged
    index raises IndexLoadError (with the command that rebuilds it)."""
    if not (index / MANIFEST).exists():
        return DefaultIndexBuild("first use", BuildOptions())
    try:
        manifest = read_manifest(index)
    except IndexLoadError as err:
        if err.corpus_paths == absolute_paths([corpus]):  # ours to rebuild: made from corpus/ alone
            return DefaultIndexBuild(err.reason, BuildOptions())
        raise
    if manifest.corpus_paths != absolute_paths([corpus]):
        return None
    if manifest.parsers != parser_versions():
        return DefaultIndexBuild("briefqa reads transcripts differently now", manifest.build_options())
    changed = changed_sources(manifest)
    if not changed:
        return None
    return DefaultIndexBuild(f"{len(changed)} file(s) in {corpus} changed", manifest.build_options())
