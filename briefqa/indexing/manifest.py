"""An index's manifest: what built it (model, settings, sources, each file's size and sha256)
and its fingerprint; reading it back, checked; the error that names a damaged index and the
command that rebuilds it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from briefqa import __version__
from briefqa.hashing import file_sha256, text_sha256
from briefqa.indexing.layout import FORMAT_VERSION, MANIFEST, REUSABLE_FORMATS
from briefqa.options import BuildOptions, ChunkSettings, FaissKind
from briefqa.terminal_text import command


def rebuild_command(path: Path | str, corpus_paths: list[str] | None = None) -> str:
    """The command line that rebuilds the index at ``path``, quoted for a shell."""
    return command("briefqa", "index", "build", *(corpus_paths or []), "--out", str(path))


class IndexLoadError(Exception):
    """An index that cannot be used as it is; the message says how to rebuild it."""

    def __init__(self, path: Path | str, reason: str, corpus_paths: list[str] | None = None, rebuildable: bool = True):
        self.path, self.reason, self.corpus_paths, self.rebuildable = str(path), reason, corpus_paths, rebuildable
        rebuild = f" Rebuild it with: {rebuild_command(path, corpus_paths)}" if rebuildable else ""
        super().__init__(f"{path}: {reason}.{rebuild}")


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
        from briefqa.indexing.vectors import kind_for

        shaping = {
            "format_version": self.format_version,
            "model": self.model.model_dump(),
            "chunking": self.chunking.model_dump(),
            # The kind of file built: "auto" and the kind it chose for these passages are the same index.
            "faiss_index": kind_for(self.passages) if self.faiss_index == "auto" else self.faiss_index,
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


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
