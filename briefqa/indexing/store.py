"""The index on disk: a plain directory, written atomically, checked when loaded.

    manifest.json       what built it: briefqa version, model and its sha256, dimension,
                        chunking, FAISS index type, the source files and their hashes, corpus
                        hashes, file sizes, and a fingerprint of what shapes the index
    content.sqlite      briefings, turns, passages (in vector order) and the parsed transcripts
                        (briefqa.indexing.content: its schema)
    vectors.faiss       the FAISS index of the passages' embeddings (inner product = cosine)
    sentences.npy       the embeddings of the passages' sentences (half precision), and which
    sentences.starts.npy  are whose (briefqa.indexing.vectors.SentenceVectors)
    bm25/               the BM25 matrix of the same passages (briefqa.indexing.bm25; JSON and .npy)
    onnx/               the query encoder: the model exported to ONNX, and its tokenizer

A build writes a new directory beside the target and swaps it in with one atomic rename; a
failed or interrupted build leaves the previous index as it was. A build only ever replaces an
index briefqa made (or an empty directory): ``index_target`` refuses anything else, and follows
a symbolic link to the directory it names. The manifest records each file's sha256, checked
before a build keeps an index as it is and by ``verify_index``. Nothing here is unpickled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from briefqa import __version__
from briefqa.hashing import file_sha256, text_sha256
from briefqa.indexing.bm25 import Bm25Scorer, build_bm25
from briefqa.indexing.content import CONTENT, ContentStore, write_content
from briefqa.indexing.vectors import SentenceVectors, VectorIndex
from briefqa.options import BuildOptions, ChunkSettings, FaissKind
from briefqa.records import Briefing, ParsedTranscript, Passage
from briefqa.terminal_text import command

FORMAT_VERSION = 5  # 4: sentence vectors; 5: file digests in the manifest, passage digests in content
# A build reuses the vectors of an index of these formats; a search reads only FORMAT_VERSION.
REUSABLE_FORMATS = (4, 5)
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
SENTENCES = "sentences.npy"
SENTENCE_STARTS = "sentences.starts.npy"
BM25_DIR = "bm25"
ONNX_DIR = "onnx"
log = logging.getLogger("briefqa")
# A built index is never committed by accident.
_GITIGNORE_MARK = "# built by briefqa"
_GITIGNORE = f"{_GITIGNORE_MARK}; rebuild with 'briefqa index build'\n*\n!.gitignore\n"


def rebuild_command(path: Path | str, corpus_paths: list[str] | None = None) -> str:
    """The command line that rebuilds the index at ``path``, quoted for a shell."""
    return command("briefqa", "index", "build", *(corpus_paths or []), "--out", str(path))


class IndexLoadError(Exception):
    """An index that cannot be used as it is; the message says how to rebuild it."""

    def __init__(self, path: Path | str, reason: str, corpus_paths: list[str] | None = None, rebuildable: bool = True):
        self.path, self.reason, self.corpus_paths = str(path), reason, corpus_paths
        rebuild = f" Rebuild it with: {rebuild_command(path, corpus_paths)}" if rebuildable else ""
        super().__init__(f"{path}: {reason}.{rebuild}")


class IndexWriteError(Exception):
    """An index that cannot be written where asked: not briefqa's to replace, or the machine
    refused (read-only, disk full, permissions). The message names the file and what to do."""

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")

    @classmethod
    def from_os_error(cls, err: OSError | sqlite3.Error, fallback: Path | str) -> IndexWriteError:
        """The machine's refusal, in words: which file, what happened, what to do. The previous
        index is untouched (a build writes beside it)."""
        path = getattr(err, "filename", None) or fallback
        code = getattr(err, "errno", None)
        text = str(err).lower()
        if code == errno.ENOSPC or "disk is full" in text:
            reason = "the disk is full; free some space and run the command again"
        elif code == errno.EROFS or "readonly" in text or "read-only" in text:
            reason = "the file system is read-only here; write the index to another directory (--out/--index)"
        elif code in (errno.EACCES, errno.EPERM):
            reason = "permission denied; write the index to a directory you may write, or change its permissions"
        elif code == errno.EDQUOT:
            reason = "your disk quota is used up; free some space and run the command again"
        else:
            reason = f"{getattr(err, 'strerror', None) or err}; check the disk and the directory, then run it again"
        return cls(path, f"{reason} (the previous index, if any, is unchanged)")


class ModelInfo(BaseModel):
    name: str = Field(description="sentence-transformers model name or path, or 'hash'.")
    sha256: str | None = Field(description="sha256 of the model's weights, when it has a file.")
    dimension: int
    window: int | None = Field(default=None, description="Longest input in tokens; longer texts were cut.")


class SourceFile(BaseModel):
    """A file the index was built from, as it was then (for a freshness check that parses nothing)."""

    path: str = Field(description="Absolute path.")
    size: int
    mtime_ns: int
    sha256: str = Field(description="sha256 of the file's bytes.")


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    briefqa_version: str = __version__
    model: ModelInfo
    chunking: ChunkSettings
    faiss_index: FaissKind = "flat"
    corpus: dict[str, str] = Field(description="Briefing id -> sha256 of its transcript text.")
    readings: dict[str, str] = Field(
        default_factory=dict,
        description="Briefing id -> sha256 of what was read of it: text, and what was parsed from it and its sidecar.",
    )
    corpus_paths: list[str] = Field(
        default_factory=list, description="The files and directories the index was built from (and added)."
    )
    sources: list[SourceFile] = Field(default_factory=list, description="Transcript and sidecar files read.")
    passages: int
    files: dict[str, int] = Field(default_factory=dict, description="File -> size in bytes.")
    digests: dict[str, str] = Field(default_factory=dict, description="File -> sha256 of its bytes.")
    created_at: datetime
    parsers: dict[str, int] = Field(
        default_factory=dict, description="Transcript format -> the parser version the transcripts were read with."
    )
    fingerprint: str = ""

    def build_options(self) -> BuildOptions:
        return BuildOptions(model=self.model.name, chunking=self.chunking, faiss_index=self.faiss_index)

    def compute_fingerprint(self) -> str:
        """A hash of everything that shapes the index: model, settings and corpus."""
        shaping = {
            "format_version": self.format_version,
            "model": self.model.model_dump(),
            "chunking": self.chunking.model_dump(),
            "faiss_index": self.faiss_index,
            "corpus": dict(sorted(self.corpus.items())),
        }
        if self.parsers:  # absent from indexes built before parsers had versions
            shaping["parsers"] = dict(sorted(self.parsers.items()))
        if self.readings:  # absent before format 5
            shaping["readings"] = dict(sorted(self.readings.items()))
        return text_sha256(json.dumps(shaping, sort_keys=True))


def require_model(
    path: Path | str,
    manifest: Manifest,
    model: str | ModelInfo,
    dimension: int | None = None,
    held_in: str | None = None,
) -> None:
    """The one check that an index was built with a model, else an IndexLoadError "it was built
    with model 'X', not 'Y'": by its name (and its ``dimension``, when given), or, given a
    ModelInfo, by all the manifest records of it (its weights' sha256 too). ``held_in``: the index's
    own file that holds the model (its ONNX encoder), which is then what is wrong."""
    built = manifest.model
    if isinstance(model, ModelInfo):
        same, name = model == built, model.name
    else:
        same, name = model == built.name and dimension in (None, built.dimension), model
    if not same:
        reason = f"it was built with model '{built.name}', not '{name}'"
        if name == built.name:
            reason = f"it was built with another '{name}' (other weights or another dimension)"
        if held_in is not None:
            reason = f"{held_in} holds an encoder for another model than '{built.name}'"
        raise IndexLoadError(path, reason, manifest.corpus_paths)


def write_index(
    out: Path,
    manifest: Manifest,
    transcripts: list[ParsedTranscript],
    briefings: list[Briefing],
    passages: list[Passage],
    vectors: VectorIndex,
    sentences: SentenceVectors,
    export_query_encoder: Callable[[Path], object] | None = None,
) -> Manifest:
    """Write every file into a fresh directory beside ``out``, then swap it in atomically."""
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _keep_owner_and_mode(out, tmp)  # mkdtemp's 700 would replace the user's permissions
        write_content(tmp / CONTENT, transcripts, briefings, passages)
        vectors.save(tmp / VECTORS)
        sentences.save(tmp / SENTENCES, tmp / SENTENCE_STARTS)
        (tmp / BM25_DIR).mkdir()
        build_bm25([p.embedded_text for p in passages], tmp / BM25_DIR)
        if export_query_encoder is not None:
            export_query_encoder(tmp / ONNX_DIR)
        (tmp / ".gitignore").write_text(_GITIGNORE)
        written = sorted(f for f in tmp.rglob("*") if f.is_file())
        manifest.files = {str(f.relative_to(tmp)): f.stat().st_size for f in written}
        manifest.digests = {str(f.relative_to(tmp)): file_sha256(f) for f in written}
        manifest.fingerprint = manifest.compute_fingerprint()
        (tmp / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        for file in [*written, tmp / MANIFEST]:
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


@contextmanager
def write_lock(out: Path) -> Iterator[None]:
    """One writer at a time for the index at ``out``: a second waits until the first is done (or
    killed: the kernel drops a dead process's lock), then reads the index the first one wrote.

    The lock is a plain file beside the index, ``.NAME.lock``, never reached through a link.
    Holding it, the leftovers of builds that were killed (``.NAME.tmp-*``, ``.NAME.old-*``) are
    removed: no writer can be using them."""
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.with_name(f".{out.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise IndexWriteError(
                lock, "is a symbolic link, not briefqa's lock file; remove it and run again"
            ) from None
        if err.errno == errno.EISDIR:
            raise IndexWriteError(lock, "is a directory, not briefqa's lock file; remove it and run again") from None
        raise IndexWriteError.from_os_error(err, lock) from None
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode) or found.st_nlink != 1:
        os.close(fd)
        kind = "has other names (hard links)" if stat.S_ISREG(found.st_mode) else "is not a plain file"
        raise IndexWriteError(lock, f"{kind}, so it is not briefqa's lock file; remove it and run again")
    with open(fd, "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(32).strip() or "?"
            log.warning("waiting for another briefqa writer of %s (pid %s) to finish...", out, holder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        for leftover in [*out.parent.glob(f".{out.name}.tmp-*"), *out.parent.glob(f".{out.name}.old-*")]:
            if leftover.is_symlink() or not leftover.is_dir():
                leftover.unlink(missing_ok=True)
            else:
                shutil.rmtree(leftover, ignore_errors=True)
        yield


def index_target(out: Path | str) -> Path:
    """The directory a build of ``out`` writes: ``out`` itself, or where it leads when it is a
    symbolic link (the link stays). Raises IndexWriteError unless it is new, empty, or an index
    briefqa made (damaged or not): a build replaces the whole directory."""
    out = Path(out).absolute()
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    if not out.exists():
        if out.is_symlink():  # realpath stopped at a loop
            raise IndexWriteError(out, "is a symbolic link that leads nowhere (a loop); remove it or choose another")
        return out
    if not out.is_dir():
        raise IndexWriteError(
            out,
            "is a file, not an index directory; name a new directory to write the index in, or an index briefqa "
            "built (the directory that holds manifest.json)",
        )
    if not is_index_directory(out):
        found = foreign_entries(out) or sorted(p.name for p in out.iterdir())
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        raise IndexWriteError(
            out,
            f"holds files that briefqa did not make ({shown}); a build replaces the whole directory, so it writes "
            "only a new or empty directory or an index it built. Choose another, e.g. "
            f"--out {command(str(out / 'index'))}",
        )
    return out


# What a build writes into an index directory (and nothing else): a directory holding anything
# more holds the user's files too, which a build, replacing the whole directory, would delete.
INDEX_ENTRIES = {MANIFEST, CONTENT, VECTORS, SENTENCES, SENTENCE_STARTS, BM25_DIR, ONNX_DIR, ".gitignore"}


def foreign_entries(path: Path) -> list[str]:
    """The entries of an index directory that a build did not write there (sorted)."""
    return sorted(p.name for p in path.iterdir() if p.name not in INDEX_ENTRIES)


def is_index_directory(path: Path) -> bool:
    """Whether ``path`` is empty or holds an index briefqa made (its marker .gitignore, or a
    manifest with a fingerprint), however damaged the rest is, and nothing else."""
    if not any(path.iterdir()):
        return True
    if foreign_entries(path):
        return False
    marker = path / ".gitignore"
    try:
        if marker.is_file() and not marker.is_symlink() and marker.read_text("utf-8")[:80].startswith(_GITIGNORE_MARK):
            return True
        manifest = path / MANIFEST
        if manifest.is_file() and not manifest.is_symlink() and manifest.stat().st_size < 50_000_000:
            raw = json.loads(manifest.read_text("utf-8"))
            return isinstance(raw, dict) and "fingerprint" in raw and "format_version" in raw
    except (OSError, ValueError):
        return False
    return False


def _keep_owner_and_mode(out: Path, new: Path) -> None:
    """Give ``new`` the permissions and group of the index directory it replaces (a shared
    index's group and setgid bit), before anything is written into it; for a new index, what the
    umask allows."""
    try:
        before = out.stat()
    except OSError:
        os.chmod(new, 0o777 & ~_umask())
        return
    if before.st_gid != new.stat().st_gid:
        with suppress(OSError):  # only the owner or root may: otherwise the parent's group
            os.chown(new, -1, before.st_gid)
    os.chmod(new, stat.S_IMODE(before.st_mode))


def record_sources(path: Path, manifest: Manifest) -> None:
    """Rewrite only the manifest (atomically) after the source files moved or were touched; what
    shapes the index, and so its fingerprint, is unchanged."""
    write_text_atomically(Path(path) / MANIFEST, manifest.model_dump_json(indent=2) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """Write a whole file or leave the old one as it was: a new temporary file beside it, flushed
    to disk, then renamed over it (through a symbolic link, the file it names; its permissions
    kept). Raises OSError."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.tmp-", delete=False
    )
    tmp = Path(handle.name)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


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


def read_manifest(path: Path, earlier_format: bool = False, check_files: bool = True) -> Manifest:
    """The manifest of the index at ``path``, checked against its fingerprint and (``check_files``)
    the files it lists: present, of the recorded size. ``earlier_format``: also read a manifest of
    an earlier format whose vectors a build can reuse."""
    path = Path(path)
    if path.is_file():
        parent = path.parent
        hint = f"; the index is the directory that holds it: {parent}" if (parent / MANIFEST).is_file() else ""
        raise IndexLoadError(path, f"a file, not an index directory{hint}", rebuildable=False)
    if not (path / MANIFEST).exists():
        if path.is_symlink() and not path.exists():
            raise IndexLoadError(
                path, "a symbolic link that leads nowhere (a loop, or its target is gone)", rebuildable=False
            )
        if not path.exists():
            raise IndexLoadError(path, "no index here")
        raise IndexLoadError(path, f"{MANIFEST} is missing, so this is not a briefqa index (or it is damaged)")
    try:
        raw = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise IndexLoadError(path, f"{MANIFEST} is damaged") from None
    except OSError as err:
        raise IndexLoadError(path, f"{MANIFEST} cannot be read ({err.strerror})") from None
    if not isinstance(raw, dict):
        raise IndexLoadError(path, f"{MANIFEST} is damaged")
    corpus_paths = raw.get("corpus_paths") if isinstance(raw.get("corpus_paths"), list) else None
    if corpus_paths is not None and not all(isinstance(c, str) for c in corpus_paths):
        corpus_paths = None
    version = raw.get("format_version")
    readable = REUSABLE_FORMATS if earlier_format else (FORMAT_VERSION,)
    if isinstance(version, int) and version not in readable:
        raise IndexLoadError(
            path,
            f"index format {version} is not the format {FORMAT_VERSION} this briefqa reads",
            corpus_paths,
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError:
        raise IndexLoadError(path, f"{MANIFEST} is damaged", corpus_paths) from None
    if manifest.fingerprint != manifest.compute_fingerprint():
        raise IndexLoadError(path, f"{MANIFEST} was changed after the index was built", manifest.corpus_paths)
    for name, size in manifest.files.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise IndexLoadError(path, f"{MANIFEST} names a file outside the index ({name})", manifest.corpus_paths)
        if not check_files:
            continue
        file = path / name
        if not file.exists():
            raise IndexLoadError(path, f"{name} is missing", manifest.corpus_paths)
        if file.stat().st_size != size:
            raise IndexLoadError(path, f"{name} is damaged (its size is not the one recorded)", manifest.corpus_paths)
    if manifest.format_version == FORMAT_VERSION and set(manifest.digests) != set(manifest.files):
        raise IndexLoadError(path, f"{MANIFEST} does not record a digest of every file", manifest.corpus_paths)
    return manifest


def changed_files(path: Path, manifest: Manifest) -> list[str]:
    """The files of the index whose bytes are not the ones the manifest's digests record (every
    file, for a manifest of a format without digests). Reads the whole index."""
    changed = []
    for name in manifest.files:
        try:
            if file_sha256(Path(path) / name) != manifest.digests.get(name):
                changed.append(name)
        except OSError:
            changed.append(name)
    return changed


def read_content(path: Path, manifest: Manifest) -> ContentStore:
    try:
        content = ContentStore(Path(path) / CONTENT, earlier_schema=manifest.format_version != FORMAT_VERSION)
        order = content.briefing_order()
    except (sqlite3.DatabaseError, OSError):
        raise IndexLoadError(path, f"{CONTENT} is damaged", manifest.corpus_paths) from None
    if content.count != manifest.passages or order != list(manifest.corpus):
        raise IndexLoadError(path, f"{CONTENT} does not match the manifest", manifest.corpus_paths)
    return content


def read_vectors(path: Path, manifest: Manifest) -> VectorIndex:
    try:
        vectors = VectorIndex.load(Path(path) / VECTORS)
    except (RuntimeError, OSError):
        raise IndexLoadError(path, f"{VECTORS} is damaged", manifest.corpus_paths) from None
    if vectors.count != manifest.passages or vectors.dimension != manifest.model.dimension:
        raise IndexLoadError(path, f"{VECTORS} does not match the manifest", manifest.corpus_paths)
    return vectors


def read_sentences(path: Path, manifest: Manifest) -> SentenceVectors:
    try:
        sentences = SentenceVectors.load(Path(path) / SENTENCES, Path(path) / SENTENCE_STARTS)
    except (OSError, ValueError):
        raise IndexLoadError(path, f"{SENTENCES} or {SENTENCE_STARTS} is damaged", manifest.corpus_paths) from None
    if (
        sentences.passages != manifest.passages
        or sentences.dimension != manifest.model.dimension
        or not sentences.consistent
    ):
        raise IndexLoadError(path, f"{SENTENCES} does not match the manifest", manifest.corpus_paths)
    return sentences


def read_bm25(path: Path, manifest: Manifest) -> Bm25Scorer:
    try:
        return Bm25Scorer(Path(path) / BM25_DIR)
    except (OSError, ValueError, KeyError):
        raise IndexLoadError(path, f"{BM25_DIR}/ is damaged", manifest.corpus_paths) from None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
