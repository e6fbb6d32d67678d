"""The index on disk: a plain directory, written atomically, checked when loaded.

    manifest.json       what built it: briefqa version, model and its sha256, dimension,
                        chunking, FAISS index type, corpus hashes, file sizes, fingerprint
    transcripts.jsonl   the parsed transcripts with their text (so 'index add' needs no corpus)
    passages.jsonl      one passage per line, in vector order
    vectors.faiss       the FAISS index of the passages' embeddings (inner product = cosine)
    bm25/               the bm25s index of the same passages (JSON and .npy, no pickles)
    onnx/               the query encoder: the model exported to ONNX, and its tokenizer

A build writes a new directory beside the target and swaps it in with one atomic rename; a
failed or interrupted build leaves the previous index as it was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from briefqa import __version__
from briefqa.models import ChunkSettings, ParsedTranscript, Passage

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TRANSCRIPTS = "transcripts.jsonl"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
ONNX_DIR = "onnx"
FAISS_KINDS = ("flat", "hnsw")
# HNSW's breadth of search per query, saved in the index file. Chosen with `python -m briefqa.bench
# --scale`: recall@10 against flat vs latency at 10k-100k passages (README, Performance).
HNSW_EF_SEARCH = 128
# A built index is never committed by accident.
_GITIGNORE = "# built by briefqa; rebuild with 'briefqa index build'\n*\n!.gitignore\n"


class IndexLoadError(Exception):
    """An index that cannot be used as it is; the message says how to rebuild it."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        super().__init__(
            f"{path}: {reason}. Rebuild it with: briefqa index build --out {path}"
        )


class ModelInfo(BaseModel):
    name: str = Field(description="sentence-transformers model name or path, or 'hash'.")
    sha256: str | None = Field(description="sha256 of the model's weights, when it has a file.")
    dimension: int


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    briefqa_version: str = __version__
    model: ModelInfo
    chunking: ChunkSettings
    faiss_index: str = Field(default="flat", description="One of: " + ", ".join(FAISS_KINDS))
    corpus: dict[str, str] = Field(description="Briefing id -> sha256 of its transcript text.")
    passages: int
    files: dict[str, int] = Field(default_factory=dict, description="File -> size in bytes.")
    created_at: datetime
    fingerprint: str = ""

    def compute_fingerprint(self) -> str:
        """A hash of everything that shapes the index: model, settings and corpus."""
        shaping = {
            "format_version": self.format_version,
            "model": self.model.model_dump(),
            "chunking": self.chunking.model_dump(),
            "faiss_index": self.faiss_index,
            "corpus": dict(sorted(self.corpus.items())),
        }
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_faiss_index(vectors: np.ndarray, kind: str = "flat"):
    import faiss

    dimension = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown FAISS index type '{kind}'; choose one of {', '.join(FAISS_KINDS)}")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_index(
    out: Path,
    manifest: Manifest,
    transcripts: list[ParsedTranscript],
    passages: list[Passage],
    faiss_index,
    write_bm25,
    export_query_encoder=None,
) -> Manifest:
    """Write every file into a fresh directory beside ``out``, then swap it in atomically."""
    import faiss

    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        with open(tmp / TRANSCRIPTS, "w", encoding="utf-8") as f:
            for t in transcripts:
                f.write(json.dumps(t.model_dump(mode="json") | {"text": t.text}, ensure_ascii=False) + "\n")
        with open(tmp / PASSAGES, "w", encoding="utf-8") as f:
            for p in passages:
                f.write(p.model_dump_json() + "\n")
        faiss.write_index(faiss_index, str(tmp / VECTORS))
        (tmp / BM25_DIR).mkdir()
        write_bm25(tmp / BM25_DIR)
        if export_query_encoder is not None:
            export_query_encoder(tmp / ONNX_DIR)
        (tmp / ".gitignore").write_text(_GITIGNORE)
        manifest.files = {
            str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest.fingerprint = manifest.compute_fingerprint()
        (tmp / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        for p in tmp.rglob("*"):
            if p.is_file():
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_in(new: Path, target: Path) -> None:
    """Make ``new`` the directory at ``target`` in one step, then remove the old one."""
    if not target.exists():
        os.rename(new, target)
        return
    if _rename_exchange(new, target):  # target now holds the new index, new the old one
        shutil.rmtree(new, ignore_errors=True)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): swap two paths atomically. False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


# --- loading ---------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    path = Path(path)
    if not (path / MANIFEST).exists():
        if not path.exists():
            raise IndexLoadError(path, "no index here")
        raise IndexLoadError(path, f"{MANIFEST} is missing, so this is not a briefqa index (or it is damaged)")
    try:
        manifest = Manifest.model_validate_json((path / MANIFEST).read_text(encoding="utf-8"))
    except (ValidationError, ValueError, UnicodeDecodeError):
        raise IndexLoadError(path, f"{MANIFEST} is damaged") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexLoadError(
            path, f"index format {manifest.format_version} is not the format {FORMAT_VERSION} this briefqa reads"
        )
    if manifest.fingerprint != manifest.compute_fingerprint():
        raise IndexLoadError(path, f"{MANIFEST} was changed after the index was built")
    for name, size in manifest.files.items():
        file = path / name
        if not file.exists():
            raise IndexLoadError(path, f"{name} is missing")
        if file.stat().st_size != size:
            raise IndexLoadError(path, f"{name} is damaged (its size is not the one recorded)")
    return manifest


def read_passages(path: Path, manifest: Manifest) -> list[Passage]:
    try:
        with open(Path(path) / PASSAGES, encoding="utf-8") as f:
            passages = [Passage.model_validate_json(line) for line in f]
    except (ValidationError, ValueError, UnicodeDecodeError):
        raise IndexLoadError(path, f"{PASSAGES} is damaged") from None
    if len(passages) != manifest.passages:
        raise IndexLoadError(path, f"{PASSAGES} holds {len(passages)} passages, the manifest {manifest.passages}")
    return passages


def read_transcripts(path: Path) -> list[ParsedTranscript]:
    try:
        with open(Path(path) / TRANSCRIPTS, encoding="utf-8") as f:
            return [ParsedTranscript.model_validate_json(line) for line in f]
    except (ValidationError, ValueError, UnicodeDecodeError, OSError):
        raise IndexLoadError(path, f"{TRANSCRIPTS} is damaged") from None


def read_faiss(path: Path, manifest: Manifest):
    import faiss

    try:
        index = faiss.read_index(str(Path(path) / VECTORS))
    except RuntimeError:
        raise IndexLoadError(path, f"{VECTORS} is damaged") from None
    if index.ntotal != manifest.passages or index.d != manifest.model.dimension:
        raise IndexLoadError(path, f"{VECTORS} does not match the manifest")
    return index


def read_bm25(path: Path):
    from briefqa.search import Bm25Scorer

    try:
        return Bm25Scorer(Path(path) / BM25_DIR)
    except (OSError, ValueError, KeyError):
        raise IndexLoadError(path, f"{BM25_DIR}/ is damaged") from None


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
