"""Vectors saved while a build embeds, so that a stopped build resumes where it was.

A build embeds in batches of ``BATCH`` texts (passages and sentences) and commits each batch here before the next;
rerunning the same build takes every vector already here and embeds only the rest (at most the
batch that was cut short is done again). The file is SQLite, beside the index
(``.NAME.vectors.sqlite``), keyed by the model and the hash of the embedded text, and removed once
the new index is in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from briefqa.hashing import text_sha256
from briefqa.indexing.vectors import sound_rows
from briefqa.indexing.writing import IndexWriteError

BATCH = 512  # texts embedded between two commits: ~15 s of work on 2 cores


def checkpoint_path(out: Path) -> Path:
    out = Path(out).absolute()
    return out.with_name(f".{out.name}.vectors.sqlite")


_COLUMNS = ["model", "key", "vector"]
_CREATE = (
    "CREATE TABLE vectors (model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))"
)


class VectorCheckpoint:
    """Embedded-text key -> vector, for one model (``model`` is any string that identifies it).

    The file is briefqa's own (its name says so): one that is damaged or of another schema is only
    lost work, and is started again. What the machine refuses (disk full, read-only) raises
    IndexWriteError naming the file."""

    def __init__(self, out: Path, model: str, dimension: int):
        self.path = checkpoint_path(out)
        self.model = text_sha256(model)[:16]
        self.dimension = dimension
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
                raise IndexWriteError(self.path, "is not briefqa's checkpoint file; remove it and run the build again")
            self._db = sqlite3.connect(self.path)
            if not self._usable():
                self._db.close()
                self.path.unlink()
                self._db = sqlite3.connect(self.path)
                self._db.execute(_CREATE)

    def _usable(self) -> bool:
        """Whether the file is a checkpoint of this schema, creating the table in a new file."""
        try:
            columns = [r[1] for r in self._db.execute("PRAGMA table_info(vectors)")]
            if not columns:
                self._db.execute(_CREATE)
                return True
            return columns == _COLUMNS
        except sqlite3.DatabaseError:
            return False

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.OperationalError) as err:
            raise IndexWriteError.from_os_error(err, self.path) from None

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The vectors saved for these keys; a vector that is not finite and of unit length (a
        damaged file) is left out, to be embedded again."""
        wanted = set(keys)
        found = {}
        try:
            for key, blob in self._db.execute("SELECT key, vector FROM vectors WHERE model = ?", (self.model,)):
                if key in wanted and isinstance(blob, bytes) and len(blob) == 4 * self.dimension:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError:
            return {}
        if not found:
            return {}
        sound = sound_rows(np.stack(list(found.values())))
        return {key: vector for (key, vector), ok in zip(found.items(), sound) if ok}

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        rows = [(self.model, key, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for key, v in zip(keys, vectors)]
        with self._errors(), self._db:  # one transaction: a batch is in whole or not at all
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def remove(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()
