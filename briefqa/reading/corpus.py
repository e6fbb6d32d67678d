"""Find transcript files and load them into briefings, skipping (and reporting) the bad ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from briefqa.hashing import text_sha256
from briefqa.paths import default_corpus_dir
from briefqa.reading.containers import CONTAINER_SUFFIXES
from briefqa.reading.files import SIDECAR_SUFFIX, parse_transcript, read_transcript, sidecar_path
from briefqa.reading.folders import settings_file
from briefqa.reading.formats import TranscriptError
from briefqa.reading.turns import resolve
from briefqa.records import Corpus, ParsedTranscript, SkippedFile

TRANSCRIPT_SUFFIXES = CONTAINER_SUFFIXES | {".rst"}  # reStructuredText: read as plain text


def transcript_files(paths: Iterable[Path | str]) -> list[Path]:
    """The transcript files named, and those found (recursively) in directories named.

    Inside a directory only files of a transcript container count (``.txt``, ``.md``, ``.html``,
    ``.pdf``, ``.vtt``, ``.srt``, ``.json``; a LICENSE or a sidecar ``.meta.toml`` is not a
    transcript); a file named directly is always read."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in TRANSCRIPT_SUFFIXES
                and not p.name.endswith(SIDECAR_SUFFIX)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            files.append(path)
        elif path.is_symlink():
            raise FileNotFoundError(f"{path}: a symbolic link that leads nowhere (a loop, or its target is gone)")
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def source_files(paths: Iterable[Path | str]) -> list[Path]:
    """Every file a load of ``paths`` reads: the transcripts, their sidecars and the briefqa.toml
    files above them."""
    files = []
    folders: set[Path] = set()
    for transcript in transcript_files(paths):
        files.append(transcript)
        if (sidecar := sidecar_path(transcript)).exists():
            files.append(sidecar)
        if (settings := settings_file(transcript)) is not None and settings not in folders:
            folders.add(settings)
            files.append(settings)
    return files


def collections(paths: Iterable[Path | str]) -> dict[Path, str]:
    """Each transcript's collection when no briefqa.toml names one: the name of the folder it was
    found in as named (``index build corpora/whitehouse`` -> 'whitehouse'), or a file's folder."""
    found: dict[Path, str] = {}
    for path in map(Path, paths):
        name = (path if path.is_dir() else path.parent).absolute().name
        for transcript in transcript_files([path]):
            found.setdefault(transcript, name)
    return found


@dataclass(frozen=True)
class FileReading:
    """One file read and parsed on its own, before it is checked against the others (``parse_files``
    skips a file that repeats another's text or briefing id). ``digest``: sha256 of its text, None
    when it could not be read; ``skipped``: why it cannot be indexed, else ``transcript``."""

    path: Path
    digest: str | None = None
    transcript: ParsedTranscript | None = None
    skipped: SkippedFile | None = None


def read_file(path: Path) -> FileReading:
    """Read and parse one transcript file; a bad file gives its reason, never an exception. What
    it parses to does not depend on the other files read, so files may be read in parallel."""
    digest = None
    try:
        read = read_transcript(path)
        digest = text_sha256(read.text)
        return FileReading(path, digest, transcript=parse_transcript(path, read))
    except TranscriptError as err:
        return FileReading(path, digest, skipped=SkippedFile(path=err.path, reason=err.reason, line=err.line))
    except OSError as err:
        return FileReading(path, digest, skipped=SkippedFile(path=str(path), reason=f"cannot be read: {err.strerror}"))


def parse_files(
    files: list[Path],
    progress: Callable[[int, int], None] | None = None,
    collection_of: dict[Path, str] | None = None,
    readings: Iterable[FileReading] | None = None,
) -> tuple[list[ParsedTranscript], list[SkippedFile]]:
    """Parse each file on its own; a bad file is skipped with its reason, never fatal.
    ``progress(done, total)`` is called after each file. ``readings``: ``read_file`` of each of
    ``files``, in their order, when they were read elsewhere (by Ray tasks); None to read them here."""
    parsed: list[ParsedTranscript] = []
    skipped: list[SkippedFile] = []
    seen_content: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for done, (path, reading) in enumerate(zip(files, readings if readings is not None else map(read_file, files)), 1):
        if progress and done > 1:
            progress(done - 1, len(files))
        # A file that repeats another word for word is named so, whatever else is wrong with it.
        if reading.digest is not None and reading.digest in seen_content:
            skipped.append(
                SkippedFile(
                    path=str(path), reason=f"repeats {seen_content[reading.digest]} word for word; remove one of them"
                )
            )
            continue
        transcript = reading.transcript
        if reading.skipped is not None or transcript is None:
            skipped.append(reading.skipped or SkippedFile(path=str(path), reason="cannot be read"))
            continue
        if transcript.id in seen_ids:
            skipped.append(
                SkippedFile(
                    path=str(path),
                    reason=f"has the same briefing id '{transcript.id}' as {seen_ids[transcript.id]}; rename one",
                )
            )
            continue
        if not transcript.collection:
            name = (collection_of or {}).get(path) or path.absolute().parent.name
            transcript = transcript.model_copy(update={"collection": name})
        seen_content[reading.digest or ""] = str(path)
        seen_ids[transcript.id] = str(path)
        parsed.append(transcript)
    if progress and files:
        progress(len(files), len(files))
    return parsed, skipped


def load_corpus(paths: Iterable[Path | str] | None = None) -> Corpus:
    """Parse transcripts (files or directories; default corpus/) into briefings with roles and
    question links."""
    paths = list(paths or [default_corpus_dir()])
    parsed, skipped = parse_files(transcript_files(paths), collection_of=collections(paths))
    return Corpus(briefings=resolve(parsed), skipped=skipped)
