"""Writing an index directory safely: only one briefqa made (``index_target``), one writer at a
time (``write_lock``), everything written beside it and swapped in atomically (``write_index``),
the machine's refusals named (``IndexWriteError``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from briefqa.hashing import file_sha256
from briefqa.indexing.bm25 import build_bm25
from briefqa.indexing.content import CONTENT, write_content
from briefqa.indexing.layout import (
    _GITIGNORE,
    _GITIGNORE_MARK,
    BM25_DIR,
    INDEX_ENTRIES,
    MANIFEST,
    ONNX_DIR,
    SENTENCE_STARTS,
    SENTENCES,
    VECTORS,
)
from briefqa.indexing.manifest import Manifest
from briefqa.indexing.vectors import SentenceVectors, VectorIndex
from briefqa.records import Briefing, ParsedTranscript, Passage
from briefqa.terminal_text import command

log = logging.getLogger("briefqa")


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
        build_bm25([p.embedded_text for p in passages], tmp / BM25_DIR, [p.language for p in passages])
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
        for leftover in out.parent.glob(f".{out.name}.*"):
            if not _LEFTOVER.fullmatch(leftover.name.removeprefix(f".{out.name}")):
                continue
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
            "only a new or empty directory or an index it built. Move those files out, or choose another "
            f"directory, e.g. {command(str(out / 'index'))}",
        )
    return out


# The names of what a killed build leaves beside an index: mkdtemp's directory (.NAME.tmp-XXXXXXXX),
# the ONNX export (.NAME.tmp-encoder-PID) and a swapped-out index (.NAME.old-PID). Nothing else of
# that shape is removed: a user's '.index.old-keep' is theirs.
_LEFTOVER = re.compile(r"\.(tmp-[a-z0-9_]{8}|tmp-encoder-\d+|old-\d+)")


def foreign_entries(path: Path) -> list[str]:
    """The entries of an index directory that a build did not write there (sorted): at its top,
    any name a build does not use; below (bm25/, onnx/), when the manifest can be read, any file
    it does not list."""
    found = [p.name for p in path.iterdir() if p.name not in INDEX_ENTRIES]
    listed = _listed_files(path)
    if listed is not None:
        for folder in (BM25_DIR, ONNX_DIR):
            if (path / folder).is_dir() and not (path / folder).is_symlink():
                found += [
                    str(p.relative_to(path))
                    for p in (path / folder).rglob("*")
                    if (p.is_symlink() or not p.is_dir()) and str(p.relative_to(path)) not in listed
                ]
    return sorted(found)


def _listed_files(path: Path) -> set[str] | None:
    """The files the manifest at ``path`` lists; None when it cannot be read."""
    try:
        raw = json.loads((path / MANIFEST).read_text("utf-8"))
        return set(raw["files"]) if isinstance(raw, dict) and isinstance(raw.get("files"), dict) else None
    except (OSError, ValueError, KeyError):
        return None


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
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """``write_text_atomically`` for bytes (a chart's PNG or SVG)."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "wb", dir=path.parent, prefix=f".{path.name}.tmp-", delete=False
    )
    tmp = Path(handle.name)
    try:
        with handle:
            handle.write(data)
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
