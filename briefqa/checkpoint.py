"""Vectors saved while a build embeds, so that a stopped build resumes where it was.

A build embeds in batches of ``BATCH`` texts (passages and sentences) and commits each batch here before the next;
rerunning the same build takes every vector already here and embeds only the rest (at most the
batch that was cut short is done again). The file is SQLite, beside the index
(``.NAME.vectors.sqlite``), keyed by the model and the hash of the embedded text, and removed once
the new index is in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from briefqa.hashing import text_sha256

BATCH = 512  # texts embedded between two commits: ~15 s of work on 2 cores


def checkpoint_path(out: Path) -> Path:
    out = Path(out).absolute()
    return out.with_name(f".{out.name}.vectors.sqlite")


class VectorCheckpoint:
    """Embedded-text key -> vector, for one model (``model`` is any string that identifies it)."""

    def __init__(self, out: Path, model: str, dimension: int):
        self.path = checkpoint_path(out)
        self.model = text_sha256(model)[:16]
        self.dimension = dimension
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        try:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model, key))"
            )
        except sqlite3.DatabaseError:  # a damaged checkpoint is only lost work: start it again
            self._db.close()
            self.path.unlink()
            self._db = sqlite3.connect(self.path)
            self._db.execute(
                "CREATE TABLE vectors (model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model, key))"
            )

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = set(keys)
        found = {}
        try:
            for key, blob in self._db.execute("SELECT key, vector FROM vectors WHERE model = ?", (self.model,)):
                if key in wanted and len(blob) == 4 * self.dimension:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError:
            return {}
        return found

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        rows = [(self.model, key, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for key, v in zip(keys, vectors)]
        with self._db:  # one transaction: a batch is in whole or not at all
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def remove(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()
