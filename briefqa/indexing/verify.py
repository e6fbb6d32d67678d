"""Check a whole index: every file against the digest its manifest records, every passage
against its digest and its transcript, every vector a unit vector. ``briefqa index verify``.

A search checks only what it cites (``ContentStore.check_cited``) and a build checks the file
digests before it keeps an index as it is; this reads everything, for a user who wants to know.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from briefqa.indexing.content import DamagedContent
from briefqa.indexing.layout import ONNX_DIR
from briefqa.indexing.manifest import IndexLoadError, changed_files, read_manifest, rebuild_command
from briefqa.indexing.onnx_encoder import OnnxEncoder, QueryEncoderError
from briefqa.indexing.store import read_bm25, read_content, read_sentences, read_vectors

PASSAGES_AT_ONCE = 2000  # passages checked per read: the archive's 100k in ~50 reads, little memory


class VerifyReport(BaseModel):
    """What ``verify_index`` found."""

    index: str
    files: int = Field(default=0, description="Files whose digest was checked.")
    passages: int = Field(default=0, description="Passages checked against their digest and transcript.")
    vectors: int = Field(default=0, description="Passage and sentence vectors checked.")
    problems: list[str] = Field(default_factory=list, description="What is wrong; empty for a sound index.")
    rebuild: str | None = Field(default=None, description="The command that rebuilds it, when something is wrong.")

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_index(path: Path | str) -> VerifyReport:
    """Read the whole index at ``path`` and report every part that is not what was built."""
    path = Path(path)
    report = VerifyReport(index=str(path))
    try:
        manifest = read_manifest(path)
    except IndexLoadError as err:
        report.problems.append(err.reason)
        report.rebuild = rebuild_command(path, err.corpus_paths) if err.rebuildable else None
        return report
    report.rebuild = rebuild_command(path, manifest.corpus_paths)
    changed = changed_files(path, manifest)
    report.files = len(manifest.files)
    report.problems += [f"{name}: its bytes are not the ones the manifest records" for name in changed]
    for check in (_check_content, _check_vectors, _check_other_parts):
        try:
            check(path, manifest, report)
        except IndexLoadError as err:
            report.problems.append(err.reason)
        except (sqlite3.DatabaseError, OSError, ValueError) as err:
            report.problems.append(f"{check.__name__.removeprefix('_check_').replace('_', ' ')}: {err}")
    if report.ok:
        report.rebuild = None
    return report


def _check_content(path: Path, manifest, report: VerifyReport) -> None:
    content = read_content(path, manifest)
    try:
        report.problems += [f"content.sqlite: {problem}" for problem in content.integrity_problems()[:10]]
        passages = content.all_passages()
        for start in range(0, len(passages), PASSAGES_AT_ONCE):
            batch = passages[start : start + PASSAGES_AT_ONCE]
            try:
                content.check_cited(batch, manifest.corpus)
            except DamagedContent:  # find each passage that is wrong, one at a time
                for p in batch:
                    try:
                        content.check_cited([p], manifest.corpus)
                    except DamagedContent as err:
                        report.problems.append(f"content.sqlite: {err}")
            report.passages += len(batch)
    finally:
        content.close()


def _check_vectors(path: Path, manifest, report: VerifyReport) -> None:
    vectors = read_vectors(path, manifest)
    bad = vectors.unsound_rows()
    if len(bad):
        report.problems.append(f"vectors.faiss: {len(bad)} vector(s) are not unit vectors (rows {_rows(bad)})")
    sentences = read_sentences(path, manifest)
    bad_passages = sentences.unsound_passages()
    if len(bad_passages):
        report.problems.append(
            f"sentences.npy: the sentence vectors of {len(bad_passages)} passage(s) are not unit vectors "
            f"(rows {_rows(bad_passages)})"
        )
    report.vectors = vectors.count + sentences.count


def _check_other_parts(path: Path, manifest, report: VerifyReport) -> None:
    read_bm25(path, manifest)
    if (path / ONNX_DIR).is_dir():
        try:
            OnnxEncoder(path / ONNX_DIR)
        except QueryEncoderError as err:
            report.problems.append(f"{ONNX_DIR}/{err.name} is damaged")


def _rows(rows: np.ndarray) -> str:
    shown = ", ".join(map(str, rows[:5].tolist()))
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
