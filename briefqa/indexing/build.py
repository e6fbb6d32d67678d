"""Building an index: parse, chunk, embed, write. Also adding to one, and the freshness check.

Builds are incremental: a vector is reused for any passage or sentence whose embedded text is
unchanged (with the same model), so adding a transcript embeds only its passages and sentences,
and re-adding an unchanged one changes nothing. Nothing here is needed to query an index.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from briefqa.choices import Device
from briefqa.hashing import file_sha256, text_sha256
from briefqa.indexing.checkpoint import BATCH, VectorCheckpoint
from briefqa.indexing.content import CONTENT, ContentStore, embedded_key
from briefqa.indexing.embed import (
    BUILD_THREADS,
    Embedder,
    ModelError,
    Progress,
    SentenceTransformerEmbedder,
    load_embedder,
)
from briefqa.indexing.layout import ONNX_DIR, SENTENCE_STARTS, SENTENCES, VECTORS
from briefqa.indexing.manifest import (
    IndexLoadError,
    Manifest,
    ModelInfo,
    SourceFile,
    changed_files,
    now,
    read_manifest,
    require_model,
)
from briefqa.indexing.onnx_encoder import OnnxEncoder, QueryEncoderError
from briefqa.indexing.store import read_bm25, read_content, read_sentences, read_vectors
from briefqa.indexing.vectors import SentenceVectors, VectorIndex, sound_rows
from briefqa.indexing.writing import IndexWriteError, index_target, record_sources, write_index, write_lock
from briefqa.options import BuildOptions
from briefqa.paths import default_corpus_dir, default_index_dir
from briefqa.reading.corpus import (
    FileReading,
    collections,
    parse_files,
    read_file,
    source_files,
    transcript_files,
)
from briefqa.reading.files import sidecar_path
from briefqa.reading.formats import parser_versions
from briefqa.reading.passages import chunk_briefings, sentence_texts
from briefqa.reading.turns import resolve
from briefqa.records import ParsedTranscript, SkippedFile


class BuildReport(BaseModel):
    """What a build or an add did."""

    index: str
    added: list[str] = Field(default_factory=list, description="Briefings new to the index.")
    replaced: list[str] = Field(default_factory=list, description="Briefings whose text changed.")
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Briefings no longer in the corpus.")
    passages: int = 0
    embedded: int = Field(default=0, description="Passages embedded in this run.")
    reused: int = Field(default=0, description="Passages whose vectors were kept from the old index.")
    sentences: int = Field(
        default=0, description="Sentences indexed (a passage of one sentence has its own vector for it)."
    )
    sentences_embedded: int = Field(default=0, description="Sentences embedded in this run.")
    skipped: list[SkippedFile] = Field(default_factory=list)
    written: bool = Field(default=False, description="False when nothing changed.")
    seconds: float = 0.0


ONNX_BUILD_MIN = 1000  # passages to embed for which an index with a query encoder exports anew

# (stage, done, total): "Reading transcripts", "Splitting turns into passages", "Embedding passages
# and sentences".
BuildProgress = Callable[[str, int, int], None]


def _stage(progress: BuildProgress | None, stage: str) -> Progress | None:
    return (lambda done, total: progress(stage, done, total)) if progress else None


def _offset(progress: Progress | None, start: int, total: int) -> Progress | None:
    """Progress of one batch, reported as progress of the whole (the batch starts at ``start``)."""
    return (lambda done, _: progress(start + done, total)) if progress else None


class BuildRunner(Protocol):
    """Where a build reads its transcripts and embeds its texts: in this process (``LOCAL``), or
    on Ray (``briefqa.indexing.ray_build.RayRunner``). The rest of a build (what to embed, the
    checkpoint it resumes from, the write lock, the index written whole or not at all) is the
    same either way, and so is the index."""

    # Texts to embed from which a build whose old index has a query encoder for the same model
    # exports the model anew to embed them with that export.
    export_min: int
    device: Device  # where texts are embedded: the CPU (the ONNX export), or a GPU (torch with CUDA)

    def read(self, files: list[Path]) -> Iterable[FileReading]:
        """``read_file`` of each file, in their order."""
        ...

    def embed(
        self, encoder: Embedder, export: Path | None, texts: list[str], progress: Progress | None
    ) -> Iterator[tuple[Sequence[int], np.ndarray]]:
        """``texts`` embedded by ``encoder`` (loaded from the ONNX export in ``export``, when it
        was), a batch at a time as each is done: (positions in ``texts``, their vectors). Each
        batch is committed to the build's checkpoint before the next is taken."""
        ...


class LocalRunner:
    """Reads and embeds in this process, one batch of ``BATCH`` texts after another."""

    export_min = ONNX_BUILD_MIN

    def __init__(self, device: Device = "cpu"):
        self.device = device

    def read(self, files: list[Path]) -> Iterable[FileReading]:
        return map(read_file, files)

    def embed(
        self, encoder: Embedder, export: Path | None, texts: list[str], progress: Progress | None
    ) -> Iterator[tuple[Sequence[int], np.ndarray]]:
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            yield range(start, start + len(batch)), encoder.encode(batch, progress=_offset(progress, start, len(texts)))


LOCAL = LocalRunner()


@dataclass
class _OldIndex:
    """What an index already at the target offers a new build."""

    manifest: Manifest | None = None
    transcripts: list[ParsedTranscript] | None = None  # None: none there, or unreadable
    # Every part loads and is what the manifest's digests record: a build that changes nothing
    # may leave it as it is.
    intact: bool = False
    # The parts whose vectors a build may reuse (None: absent, damaged, or no content to key them).
    content: ContentStore | None = None
    vectors: VectorIndex | None = None
    sentences: SentenceVectors | None = None

    def reusable(self, model: ModelInfo) -> dict[str, np.ndarray]:
        """Embedded text's hash -> vector, for every sound passage and sentence vector (finite, unit
        length), when the index was built with ``model``. Read only by a build that embeds: on the
        archive it takes ~5 s and 1.5 GB."""
        if not (self.content and self.manifest and self.manifest.model == model):
            return {}
        found: dict[str, np.ndarray] = {}
        if self.vectors:
            vectors = self.vectors.all_vectors()
            sound = sound_rows(vectors)
            found |= {k: v for k, v, ok in zip(self.content.embedded_keys(), vectors, sound) if ok}
        if self.sentences:
            # The format version changes with the sentence splitter: these texts are the ones embedded.
            for passage, block in zip(self.content.all_passages(), self.sentences.blocks()):
                if len(block) == 1:  # a passage of one sentence: its vector is the passage's, above
                    continue
                sound = sound_rows(block)
                found.update((k, v) for k, v, ok in zip(map(text_sha256, sentence_texts(passage)), block, sound) if ok)
        return found


def _source(path: Path) -> SourceFile:
    stat = path.stat()
    return SourceFile(path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=file_sha256(path))


def absolute_paths(paths: Iterable[Path | str] | Path | str) -> list[str]:
    """Transcript paths as absolute strings; one path may be given alone. Anything else is a
    ValueError that says what was expected (a string is not walked character by character)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    try:
        items = list(paths)
    except TypeError:
        raise ValueError(f"expected a path or a list of paths to transcripts, not {paths!r}") from None
    if not items or not all(isinstance(p, str | os.PathLike) for p in items):
        raise ValueError(f"expected a path or a list of paths to transcripts, not {paths!r}")
    return [str(Path(p).absolute()) for p in items]


def _read_old(path: Path) -> _OldIndex:
    """An index already at ``path``: its transcripts, whether it is intact (every part loads and
    has the digest the manifest records), and the parts whose vectors can be reused (read by
    ``_OldIndex.reusable``). A damaged part is only rebuilt; what is sound is kept."""
    try:
        # The files are checked by their digests below: a part missing loses only its own vectors.
        manifest = read_manifest(path, earlier_format=True, check_files=False)
        content = read_content(path, manifest)
        transcripts = content.transcripts()
    except (IndexLoadError, sqlite3.DatabaseError, ValueError, OSError):
        return _OldIndex()
    old = _OldIndex(manifest=manifest, transcripts=transcripts)
    changed = set(changed_files(path, manifest)) if manifest.digests else None  # None: none recorded
    if changed is not None and CONTENT in changed:
        return old  # its rows no longer say which vector is whose
    old.content = content

    def sound(*names: str) -> bool:
        return changed is None or not changed.intersection(names)

    with suppress(IndexLoadError):
        old.vectors = read_vectors(path, manifest) if sound(VECTORS) else None
    with suppress(IndexLoadError):
        old.sentences = read_sentences(path, manifest) if sound(SENTENCES, SENTENCE_STARTS) else None
    try:
        read_bm25(path, manifest)
        if (path / ONNX_DIR).is_dir():
            OnnxEncoder(path / ONNX_DIR)  # loads, or names the damaged file
    except (IndexLoadError, QueryEncoderError):
        return old
    # Digests prove the files are as written; vectors that are not unit vectors were damaged before
    # (a killed write, an edit with its digest recorded again): then it is not kept as it is.
    old.intact = (
        changed == set()
        and old.vectors is not None
        and old.sentences is not None
        and not len(old.vectors.unsound_rows())
        and not len(old.sentences.unsound_passages())
    )
    return old


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _linked_query_encoder(old_dir: Path, old: _OldIndex, model: ModelInfo) -> Callable[[Path], object] | None:
    """The old index's query encoder, linked into the new index, when it has one for the same
    model (files are never modified in place); None when the encoder must be exported."""
    if old.intact and old.manifest and old.manifest.model == model and (old_dir / ONNX_DIR).is_dir():
        return lambda directory: shutil.copytree(old_dir / ONNX_DIR, directory, copy_function=_link_or_copy)
    return None


def _passage_encoder(directory: Path, embedder: Embedder, device: Device) -> tuple[Embedder, Callable[[Path], object]]:
    """The encoder that embeds a build's passages, and how the index gets its query encoder. On
    the CPU, the model's fused ONNX export when it has one (2.3x torch's rate here, same vectors
    to 1e-6), else the embedder itself; on a GPU, torch on that device. The query encoder is the
    ONNX export either way: queries are encoded on the CPU."""
    shutil.rmtree(directory, ignore_errors=True)
    exported = embedder.export_query_encoder(directory)
    export = (
        (lambda target: shutil.copytree(directory, target, copy_function=_link_or_copy))
        if exported
        else embedder.export_query_encoder
    )
    if device != "cpu":
        if not isinstance(embedder, SentenceTransformerEmbedder):
            raise ModelError(f"--device {device} needs a sentence-transformers model, not '{embedder.name}'")
        return embedder.on_device(device), export
    if not exported:
        return embedder, export
    # Batches side by side, one thread each: 7-9% faster than each batch on every core (2 cores,
    # 250 White House passages and their 862 sentences, median of 3; docs/performance.md).
    return OnnxEncoder(directory, threads=1, workers=BUILD_THREADS), export


def _write(
    out: Path,
    transcripts: list[ParsedTranscript],
    manifest: Manifest,
    old: _OldIndex,
    embedder: Embedder,
    report: BuildReport,
    progress: BuildProgress | None,
    runner: BuildRunner,
) -> None:
    # The passages are the old index's when nothing else changed (auto's choice of vector index depends on them).
    unchanged = old.manifest and manifest.model_copy(update={"passages": old.manifest.passages})
    if old.intact and old.manifest and unchanged and old.manifest.fingerprint == unchanged.compute_fingerprint():
        # Nothing that shapes the index changed: keep every file, and record where the
        # transcripts now are (paths, mtimes) so that the freshness check stays one stat pass.
        report.passages = old.manifest.passages
        if (old.manifest.corpus_paths, old.manifest.sources) != (manifest.corpus_paths, manifest.sources):
            record_sources(
                out,
                old.manifest.model_copy(update={"corpus_paths": manifest.corpus_paths, "sources": manifest.sources}),
            )
        return

    briefings = resolve(transcripts)
    passages = []
    splitting = _stage(progress, "Splitting turns into passages")
    for done, briefing in enumerate(briefings, start=1):
        passages += chunk_briefings([briefing], manifest.chunking, embedder.count_tokens)
        if splitting:
            splitting(done, len(briefings))
    keys = [embedded_key(p) for p in passages]
    sentence_keys = []  # per passage
    texts = dict(zip(keys, (p.embedded_text for p in passages)))  # key -> text to embed, each once
    for p, key in zip(passages, keys):
        sentences = sentence_texts(p)
        if len(sentences) == 1:
            # The passage's own vector stands for its one sentence: 28% of the White House passages,
            # 7.6% of the texts a build embeds, and every eval result identical on both question sets.
            sentence_keys.append([key])
            continue
        sentence_keys.append([text_sha256(s) for s in sentences])
        texts.update(zip(sentence_keys[-1], sentences))
    checkpoint = VectorCheckpoint(out, manifest.model.model_dump_json(), embedder.dimension)
    # The model's ONNX export, made once: it embeds the passages and becomes the query encoder.
    # Beside the index with the name of a build's leftovers, which the next writer removes.
    exported = out.parent / f".{out.name}.tmp-encoder-{os.getpid()}"
    encoder: Embedder = embedder
    try:
        reusable = old.reusable(manifest.model)
        found = {key: reusable[key] for key in texts if key in reusable}
        del reusable  # the whole old index, as float32
        found |= checkpoint.get(key for key in texts if key not in found)
        missing = [key for key in texts if key not in found]
        linked = _linked_query_encoder(out, old, manifest.model)
        export = linked or embedder.export_query_encoder
        # Exporting and fusing take ~3 s, what torch spends on ~150 passages: worth it for a first
        # build (the export is needed anyway) or for many passages.
        if missing and (linked is None or len(missing) >= runner.export_min or runner.device != "cpu"):
            encoder, export = _passage_encoder(exported, embedder, runner.device)
        embedding = _stage(progress, "Embedding passages and sentences")
        from_export = exported if isinstance(encoder, OnnxEncoder) else None
        for rows, batch_vectors in runner.embed(encoder, from_export, [texts[k] for k in missing], embedding):
            batch = [missing[i] for i in rows]
            checkpoint.put(batch, batch_vectors)
            found.update(zip(batch, batch_vectors))
        manifest.passages = len(passages)
        write_index(
            out,
            manifest,
            transcripts,
            briefings,
            passages,
            VectorIndex.build(
                np.array([found[k] for k in keys], dtype=np.float32).reshape(-1, embedder.dimension),
                manifest.faiss_index,
            ),
            SentenceVectors.build([np.array([found[k] for k in ks]) for ks in sentence_keys], embedder.dimension),
            export,
        )
    except BaseException:
        checkpoint.close()  # kept: the next run of this build takes its vectors
        raise
    finally:
        shutil.rmtree(exported, ignore_errors=True)
    checkpoint.remove()
    embedded = set(missing)
    report.passages, report.embedded = len(passages), sum(key in embedded for key in keys)
    report.reused = len(passages) - report.embedded
    report.sentences = sum(map(len, sentence_keys))
    report.sentences_embedded = len({k for ks in sentence_keys for k in ks if k in embedded} - set(keys))
    report.written = True


def _embedder_for(options: BuildOptions, embedder: Embedder | None) -> Embedder:
    if embedder is None:
        return load_embedder(options.model)
    if embedder.name != options.model:
        raise ValueError(f"the embedder given is '{embedder.name}', but the options name model '{options.model}'")
    return embedder


def _model_info(embedder: Embedder) -> ModelInfo:
    return ModelInfo(name=embedder.name, sha256=embedder.sha256, dimension=embedder.dimension, window=embedder.window)


def build_index(
    corpus: Iterable[Path | str] | Path | str | None = None,
    out: Path | str | None = None,
    options: BuildOptions | dict | None = None,
    *,
    embedder: Embedder | None = None,
    progress: BuildProgress | None = None,
    runner: BuildRunner | None = None,
) -> BuildReport:
    """Index the transcripts in ``corpus`` (files or directories; default corpus/) into ``out``
    (default index/). Vectors of unchanged passages already in ``out`` are reused.

    ``embedder``: an already loaded embedder for ``options.model``, to share one between builds.
    ``runner``: where transcripts are read and texts embedded; default this process (``LOCAL``),
    or Ray (``briefqa.indexing.ray_build.RayRunner``, docs/scale.md). The index is the same."""
    runner = runner or LOCAL
    started = time.perf_counter()
    out = index_target(out or default_index_dir())
    if not isinstance(options, BuildOptions):
        options = BuildOptions() if options is None else BuildOptions.model_validate(options)
    corpus_paths = absolute_paths(corpus if corpus is not None else [default_corpus_dir()])
    sources = [_source(p) for p in source_files(corpus_paths)]
    files = transcript_files(corpus_paths)
    transcripts, skipped = parse_files(
        files, _stage(progress, "Reading transcripts"), collections(corpus_paths), runner.read(files)
    )
    _require_transcripts(transcripts, skipped)
    embedder = _embedder_for(options, embedder)
    model = _model_info(embedder)
    with _machine_errors(out), write_lock(out):
        out = index_target(out)  # again, holding the lock: another writer may have made it
        old = _read_old(out)
        report = BuildReport(index=str(out), skipped=skipped)
        before = old.manifest.readings if old.manifest else {}
        # Each transcript records the reader (and version) that parsed it, in what its reading digest
        # covers: a changed reader replaces only the transcripts it reads. An index from before
        # transcripts recorded their reader has only its parsers' versions to go by.
        reparsed = old.manifest is not None and old.manifest.parsers != parser_versions()
        recorded = {t.id for t in old.transcripts or [] if t.reader}
        for t in transcripts:
            _sort(report, t, before.get(t.id), reparsed and t.id not in recorded)
        report.removed = sorted(set(old.manifest.corpus if old.manifest else {}) - {t.id for t in transcripts})
        manifest = Manifest(
            model=model,
            chunking=options.chunking,
            faiss_index=options.faiss_index,
            corpus={t.id: text_sha256(t.text) for t in transcripts},
            readings={t.id: reading_digest(t) for t in transcripts},
            corpus_paths=corpus_paths,
            sources=sources,
            parsers=parser_versions(),
            passages=0,
            created_at=now(),
        )
        _write(out, transcripts, manifest, old, embedder, report, progress, runner)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def add_to_index(
    files: Iterable[Path | str] | Path | str,
    index: Path | str | None = None,
    *,
    embedder: Embedder | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Add transcripts to an existing index (a changed one replaces its old passages), embedding
    only passages that are new. A transcript whose text is already in the index under another
    id is skipped: every hit would show twice."""
    started = time.perf_counter()
    path = index_target(index or default_index_dir())
    new_paths = absolute_paths(files)
    new_sources = [_source(p) for p in source_files(new_paths)]
    new, skipped = parse_files(
        transcript_files(new_paths), _stage(progress, "Reading transcripts"), collections(new_paths)
    )
    _require_transcripts(new, skipped)
    with _machine_errors(path), write_lock(path):
        manifest = read_manifest(path)
        embedder = _embedder_for(manifest.build_options(), embedder)
        require_model(path, manifest, _model_info(embedder))
        old = _read_old(path)
        if old.transcripts is None:  # what it holds cannot be read: only its sources can rebuild it
            raise IndexLoadError(path, "content.sqlite is damaged", manifest.corpus_paths)
        transcripts = {t.id: t for t in old.transcripts or []}
        by_text = {text_sha256(t.text): t.id for t in transcripts.values()}
        report = BuildReport(index=str(path), skipped=skipped)
        for t in new:
            sha = text_sha256(t.text)
            if by_text.get(sha, t.id) != t.id:
                report.skipped.append(
                    SkippedFile(
                        path=t.source, reason=f"repeats briefing '{by_text[sha]}', already in the index, word for word"
                    )
                )
                continue
            if (clash := _another_file_with_this_id(transcripts.get(t.id), t, manifest)) is not None:
                report.skipped.append(SkippedFile(path=t.source, reason=clash))
                continue
            _sort(report, t, reading_digest(transcripts[t.id]) if t.id in transcripts else None)
            transcripts[t.id] = t
        if not (report.added or report.replaced or report.unchanged):
            raise NothingToIndex(report.skipped)
        # The files read that are now in the index (a skipped one is not its source), with their sidecars.
        taken = [Path(t.source).absolute() for t in new if transcripts.get(t.id) is t]
        read = {str(p) for p in taken} | {str(sidecar_path(p)) for p in taken}
        new_sources = [s for s in new_sources if s.path in read]
        replaced_sources = {s.path for s in new_sources}
        updated = manifest.model_copy(
            update={
                "corpus": {t.id: text_sha256(t.text) for t in transcripts.values()},
                "readings": {t.id: reading_digest(t) for t in transcripts.values()},
                "corpus_paths": list(dict.fromkeys(manifest.corpus_paths + new_paths)),
                "sources": [s for s in manifest.sources if s.path not in replaced_sources] + new_sources,
                "created_at": now(),
            }
        )
        _write(path, list(transcripts.values()), updated, old, embedder, report, progress, LOCAL)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _another_file_with_this_id(
    indexed: ParsedTranscript | None, new: ParsedTranscript, manifest: Manifest
) -> str | None:
    """Why ``new`` may not replace the briefing ``indexed`` of the same id (ids come from file
    names): another file of that name was indexed (read, or recorded since it moved) and is still
    there. A file that moved, or a changed version of the same file, replaces it. None when it may."""
    if indexed is None or indexed.text == new.text:
        return None
    new_path = Path(new.source).absolute()
    named_alike = [Path(s.path) for s in manifest.sources if Path(s.path).stem == new.id]
    for old_path in dict.fromkeys([Path(indexed.source).absolute(), *named_alike]):
        if old_path != new_path and old_path.suffix == new_path.suffix and old_path.is_file():
            return (
                f"has the same briefing id '{new.id}' as {old_path}, which is already in the index and is another "
                "file; rename one of them (the id is the file name), or rebuild the index if it replaces that one"
            )
    return None


@contextmanager
def _machine_errors(path: Path) -> Iterator[None]:
    """What the machine refuses while an index is written (disk full, read-only, permissions)
    becomes an IndexWriteError that names the file and what to do."""
    try:
        yield
    except OSError as err:
        raise IndexWriteError.from_os_error(err, path) from None
    except sqlite3.OperationalError as err:
        raise IndexWriteError.from_os_error(err, path) from None


def reading_digest(transcript: ParsedTranscript) -> str:
    """sha256 of what was read of a transcript: its text and everything parsed from it and its
    sidecar (a sidecar's new title is a change), but not where the file is (a move is not; nor is
    the collection, by default the name of the folder it was found in)."""
    parsed = transcript.model_dump_json(exclude={"source", "collection"})
    return text_sha256(f"{text_sha256(transcript.text)}\n{parsed}")


def _sort(report: BuildReport, transcript: ParsedTranscript, indexed: str | None, reparsed: bool = False) -> None:
    """File a transcript under added, replaced or unchanged, by the digest of what was read of it
    (``reading_digest``; all are replaced when the index was parsed by other parser versions)."""
    if indexed is None:
        report.added.append(transcript.id)
    elif indexed == reading_digest(transcript) and not reparsed:
        report.unchanged.append(transcript.id)
    else:
        report.replaced.append(transcript.id)


class NothingToIndex(ValueError):
    """Every transcript given was skipped; the message lists them with their reasons."""

    def __init__(self, skipped: list[SkippedFile]):
        self.skipped = skipped
        if not skipped:
            super().__init__(
                "nothing to index: no transcript files (.txt, .md, .html, .pdf, .vtt, .srt or .json) in the paths given"
            )
            return
        lines = "".join(f"\n  {s.message()}" for s in skipped)
        super().__init__(f"nothing to index: every file was skipped ({len(skipped)}){lines}")


def _require_transcripts(transcripts: list[ParsedTranscript], skipped: list[SkippedFile]) -> None:
    if not transcripts:
        raise NothingToIndex(skipped)
