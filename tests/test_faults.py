"""Faults: kill -9 at several points of a build and an add, two writers at once, damaged files and
crafted index directories. After each, the index that was there answers exactly as before."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from briefqa.indexing.build import build_index
from briefqa.indexing.content import CONTENT
from briefqa.indexing.layout import MANIFEST
from briefqa.indexing.manifest import IndexLoadError
from briefqa.options import SearchOptions
from briefqa.searching.index import load_index
from tests.conftest import CORPUS, FIXTURES, HASH, ROOT, SCIO_FIXTURE

QUERIES = ["exotic animals intercepted", "grid jobs", "smart port Tianjin", "exports"]


def snapshot(index: Path) -> tuple[dict[str, bytes], list]:
    """Every file's bytes, and every mode's top 5 for a few queries."""
    files = {str(p.relative_to(index)): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}
    loaded = load_index(index)
    results = [
        [r.model_dump() for r in loaded.search(q, 5, SearchOptions(mode=mode))]
        for q in QUERIES
        for mode in ("dense", "bm25", "hybrid")
    ]
    return files, results


# A writer in its own process that stops at a named point (signalled by a file) until killed.
WRITER = textwrap.dedent(
    """
    import sys, time, pathlib
    import briefqa.indexing.build as build, briefqa.indexing.writing as store, briefqa.indexing.embed as embed
    point, marker, command, index, *paths = sys.argv[1:]

    def stop_here():
        pathlib.Path(marker).write_text("reached")
        time.sleep(60)

    if point == "embedding":
        encode = embed.HashEmbedder.encode
        def slow_encode(self, texts, batch_size=64, progress=None):
            stop_here()
        embed.HashEmbedder.encode = slow_encode
    elif point == "bm25":
        def slow_bm25(texts, directory, languages=None):
            (directory / "params.index.json").write_text("{half written")
            stop_here()
        store.build_bm25 = slow_bm25
    elif point == "swap":
        def slow_swap(new, target):
            stop_here()
        store._swap_in = slow_swap
    elif point == "sources":
        def slow_record(path, manifest):
            stop_here()
        build.record_sources = slow_record
    from briefqa.options import BuildOptions
    if command == "build":
        build.build_index(paths, index, BuildOptions(model="hash"))
    else:
        build.add_to_index(paths, index)
    pathlib.Path(marker).write_text("finished")
    """
)


def start_writer(tmp_path: Path, point: str, command: str, index: Path, *paths: Path) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"marker-{point}-{time.monotonic_ns()}"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, point, str(marker), command, str(index), *map(str, paths)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, marker


def wait_for(marker: Path, process: subprocess.Popen, what: str = "reached", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text() == what:
            return
        if process.poll() is not None and what == "reached":
            raise AssertionError(f"writer ended before its stop: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError(f"the writer did not reach '{what}' in {seconds} s")


@pytest.mark.parametrize("point", ["embedding", "bm25", "swap"])
@pytest.mark.parametrize("command", ["build", "add"])
def test_kill_9_leaves_the_previous_index_answering_as_before(tmp_path, fixture_index, command, point):
    before = snapshot(fixture_index)
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(CORPUS / "scio-2022-01-14-import-export-2021.txt", new)
    paths = [FIXTURES, new] if command == "build" else [new]
    process, marker = start_writer(tmp_path, point, command, fixture_index, *paths)
    wait_for(marker, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot(fixture_index) == before
    # the next writer takes over: leftovers of the killed one go, the new briefing comes in
    assert list(tmp_path.glob(".index.tmp-*")) or point == "embedding"
    report = build_index(paths, fixture_index, HASH) if command == "build" else None
    if command == "add":
        from briefqa.indexing.build import add_to_index

        report = add_to_index(paths, fixture_index)
    assert report is not None and report.added == ["scio-2022-01-14-import-export-2021"]
    assert not list(tmp_path.glob(".index.tmp-*")) and not list(tmp_path.glob(".index.old-*"))
    assert len(load_index(fixture_index).manifest.corpus) == 3


def test_kill_9_while_only_the_manifest_is_rewritten(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SCIO_FIXTURE, corpus)
    index = tmp_path / "index"
    build_index([corpus], index, HASH)
    before = snapshot(index)
    os.utime(corpus / SCIO_FIXTURE.name, (1, 1))  # touched, not changed: only the manifest's record moves
    process, marker = start_writer(tmp_path, "sources", "build", index, corpus)
    wait_for(marker, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot(index) == before


def test_two_writers_at_once_lose_nothing(tmp_path, fixture_index):
    """The first writer holds the index (stopped while embedding); the second waits for it, then
    adds its own briefing to what the first wrote."""
    first_file, second_file = tmp_path / "one", tmp_path / "two"
    for folder, name in (
        (first_file, "scio-2022-01-14-import-export-2021.txt"),
        (second_file, "scio-2021-07-13-import-export-h1-2021.txt"),
    ):
        folder.mkdir()
        shutil.copy(CORPUS / name, folder)
    # The first holds the lock until the second says it is waiting (however slowly it starts).
    slow = textwrap.dedent(
        """
        import sys, time, pathlib
        import briefqa.indexing.embed as embed, briefqa.indexing.build as build
        encode = embed.HashEmbedder.encode
        def slow(self, texts, batch_size=64, progress=None):
            pathlib.Path(sys.argv[1]).write_text("reached")
            release = pathlib.Path(sys.argv[1] + ".go")
            for _ in range(1200):
                if release.exists():
                    break
                time.sleep(0.1)
            return encode(self, texts, batch_size, progress)
        embed.HashEmbedder.encode = slow
        build.add_to_index([sys.argv[3]], sys.argv[2])
        """
    )
    marker = tmp_path / "first-embedding"
    first = subprocess.Popen(
        [sys.executable, "-c", slow, str(marker), str(fixture_index), str(first_file)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(marker, first)
    second = subprocess.Popen(
        [sys.executable, "-m", "briefqa.cli", "index", "add", str(second_file), "--index", str(fixture_index)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert second.stderr is not None
    said = []
    for line in second.stderr:  # until the second writer reports that it waits (or ends)
        said.append(line)
        if "waiting for another briefqa writer" in line:
            break
    (tmp_path / "first-embedding.go").write_text("go")
    said += second.stderr.readlines()
    assert first.wait(timeout=60) == 0, first.stderr.read() if first.stderr else ""
    assert second.wait(timeout=120) == 0, "".join(said)
    assert any("waiting for another briefqa writer" in line for line in said), "".join(said)
    corpus = load_index(fixture_index).manifest.corpus
    assert {"scio-2022-01-14-import-export-2021", "scio-2021-07-13-import-export-h1-2021"} <= set(corpus)


def damaged(tmp_path: Path, index: Path, change) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(index, copy)
    change(copy)
    return copy


def same_size_garbage(path: Path) -> None:
    path.write_bytes(bytes((i * 7 + 3) % 256 for i in range(path.stat().st_size)))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: same_size_garbage(d / "vectors.faiss"), "vectors.faiss is damaged"),
        (lambda d: same_size_garbage(d / "bm25" / "vocab.index.json"), "bm25/ is damaged"),
        (lambda d: same_size_garbage(d / "bm25" / "data.csc.index.npy"), "bm25/ is damaged"),
        (lambda d: same_size_garbage(d / CONTENT), "content.sqlite is damaged"),
        (lambda d: (d / "bm25" / "params.index.json").unlink(), "bm25/params.index.json is missing"),
    ],
)
def test_damaged_parts_name_the_file_and_the_rebuild_command(tmp_path, fixture_index, change, message):
    copy = damaged(tmp_path, fixture_index, change)
    with pytest.raises(IndexLoadError, match=message) as err:
        load_index(copy).search("exports", 3)
    assert f"Rebuild it with: briefqa index build {FIXTURES} --out {copy}" in str(err.value)
    # and that command does rebuild it (a damaged index is not 'unchanged'), reusing the vectors
    # of the parts that are sound
    report = build_index([FIXTURES], copy, HASH)
    vectors_lost = message.startswith(("vectors.faiss", "content.sqlite"))
    assert report.written and report.embedded == (report.passages if vectors_lost else 0)
    assert snapshot(copy)[1] == snapshot(fixture_index)[1]


def test_content_whose_rows_do_not_match_its_vectors_is_found(tmp_path, fixture_index):
    """Passages renumbered (and the manifest's size record made to agree, as a crafted index would):
    the rows no longer run 0..n-1 beside the vectors, so a citation could name the wrong passage."""
    import sqlite3

    from briefqa.indexing.manifest import Manifest

    def renumber(d: Path) -> None:
        db = sqlite3.connect(d / CONTENT)
        db.execute("UPDATE passages SET row = row + 100000")  # above every existing row: no clash
        db.commit()
        db.close()
        files = Manifest.model_validate_json((d / MANIFEST).read_text()).files
        rewrite_manifest(d, files=files | {CONTENT: (d / CONTENT).stat().st_size})

    with pytest.raises(IndexLoadError, match="content.sqlite is damaged"):
        load_index(damaged(tmp_path, fixture_index, renumber))


def rewrite_manifest(d: Path, **changes) -> None:
    from briefqa.indexing.manifest import Manifest

    manifest = Manifest.model_validate_json((d / MANIFEST).read_text())
    manifest = manifest.model_copy(update=changes)
    manifest.fingerprint = manifest.compute_fingerprint()
    (d / MANIFEST).write_text(manifest.model_dump_json())


def test_crafted_manifest_cannot_name_files_outside_the_index(tmp_path, fixture_index):
    copy = damaged(tmp_path, fixture_index, lambda d: rewrite_manifest(d, files={"../../etc/passwd": 10}))
    with pytest.raises(IndexLoadError, match=r"names a file outside the index \(../../etc/passwd\)"):
        load_index(copy)


def test_crafted_index_cannot_choose_a_model_to_load(tmp_path, fixture_index):
    """An index naming a model directory whose modules.json points at code in it: briefqa never
    loads a model on an index's word, so the code never runs."""
    from briefqa.indexing.manifest import ModelInfo

    evil = tmp_path / "evil-model"
    evil.mkdir()
    ran = tmp_path / "code-ran"
    (evil / "custom.py").write_text(f"import pathlib\npathlib.Path({str(ran)!r}).write_text('ran')\nclass M: pass\n")
    (evil / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "custom.M"}]))
    copy = damaged(
        tmp_path,
        fixture_index,
        lambda d: rewrite_manifest(d, model=ModelInfo(name=str(evil), sha256=None, dimension=256)),
    )
    index = load_index(copy)
    with pytest.raises(IndexLoadError, match="which briefqa does not load on an index's word"):
        index.search("exports", 3)
    assert not ran.exists()


def test_pickled_arrays_are_never_loaded(tmp_path, fixture_index):
    """A pickled .npy (and a manifest that records its size, as a crafted index would) is refused
    by numpy's allow_pickle=False, before anything in it runs."""
    import numpy as np

    from briefqa.indexing.manifest import Manifest

    def pickle_it(d: Path) -> None:
        target = d / "bm25" / "indptr.csc.index.npy"
        np.save(target, np.array([object()], dtype=object), allow_pickle=True)
        files = Manifest.model_validate_json((d / MANIFEST).read_text()).files
        rewrite_manifest(d, files=files | {"bm25/indptr.csc.index.npy": target.stat().st_size})

    with pytest.raises(IndexLoadError, match="bm25/ is damaged"):
        load_index(damaged(tmp_path, fixture_index, pickle_it))


def test_a_killed_build_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """Killed while embedding its third batch, a build loses only that batch: run again, it takes
    the two batches it had saved and embeds the rest."""
    script = textwrap.dedent(
        """
        import sys, time, pathlib
        import briefqa.indexing.build as build, briefqa.indexing.embed as embed
        from briefqa.options import BuildOptions
        build.BATCH = 5
        encode, calls = embed.HashEmbedder.encode, []
        def counting(self, texts, batch_size=64, progress=None):
            calls.append(len(texts))
            if len(calls) == 3:
                pathlib.Path(sys.argv[1]).write_text("reached")
                time.sleep(60)
            return encode(self, texts, batch_size, progress)
        embed.HashEmbedder.encode = counting
        build.build_index([sys.argv[3]], sys.argv[2], BuildOptions(model="hash"))
        """
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "scio-2023-03-20-customs-safeguard-borders.txt", corpus)
    out = tmp_path / "resumed"
    marker = tmp_path / "third-batch"
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(marker), str(out), str(corpus)], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    wait_for(marker, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not out.exists() and (tmp_path / ".resumed.vectors.sqlite").exists()
    import briefqa.indexing.build

    monkeypatch.setattr(briefqa.indexing.build, "BATCH", 5)
    report = build_index([corpus], out, HASH)
    assert report.reused == 10 and report.embedded == report.passages - 10
    assert not (tmp_path / ".resumed.vectors.sqlite").exists()
    fresh = tmp_path / "fresh"
    build_index([corpus], fresh, HASH)
    assert snapshot(out)[1] == snapshot(fresh)[1]  # resumed or not, the same index


def test_adding_to_an_index_with_a_damaged_part_keeps_every_briefing(tmp_path, fixture_index):
    """Damaged BM25 files: an add rebuilds the damaged part and keeps what still reads (the old
    briefings), rather than writing an index of the new file alone."""
    from briefqa.indexing.build import add_to_index

    same_size_garbage(fixture_index / "bm25" / "vocab.index.json")
    new = tmp_path / "new"
    new.mkdir()
    shutil.copy(CORPUS / "scio-2022-01-14-import-export-2021.txt", new)
    report = add_to_index([new], fixture_index)
    assert report.written and report.added == ["scio-2022-01-14-import-export-2021"]
    corpus = load_index(fixture_index).manifest.corpus
    assert len(corpus) == 3 and SCIO_FIXTURE.stem in corpus
    assert load_index(fixture_index).search("smart port Tianjin", 1)[0].briefing_id == SCIO_FIXTURE.stem


def test_adding_to_an_index_whose_transcripts_are_damaged_is_refused(tmp_path, fixture_index):
    from briefqa.indexing.build import add_to_index

    before = (fixture_index / MANIFEST).read_bytes()
    same_size_garbage(fixture_index / CONTENT)
    with pytest.raises(IndexLoadError, match="content.sqlite is damaged. Rebuild it with: briefqa index build"):
        add_to_index([SCIO_FIXTURE], fixture_index)
    assert (fixture_index / MANIFEST).read_bytes() == before


# --- a write only ever replaces an index briefqa made ----------------------------------------


def tree(root: Path) -> dict[str, bytes | str]:
    """Everything under ``root``: files' bytes, links' targets, folders."""
    found: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        name = str(p.relative_to(root))
        found[name] = f"-> {os.readlink(p)}" if p.is_symlink() else p.read_bytes() if p.is_file() else "dir"
    return found


@pytest.mark.parametrize("target", [".", "thesis", "notes.txt", "index/content.sqlite"])
def test_out_that_is_not_a_briefqa_index_is_refused_and_nothing_is_touched(tmp_path, fixture_index, target):
    from typer.testing import CliRunner

    from briefqa.cli import app

    thesis = tmp_path / "thesis"
    thesis.mkdir()
    shutil.copy(SCIO_FIXTURE, thesis / "t.txt")
    (tmp_path / "notes.txt").write_text("my notes\n")
    before = tree(tmp_path)
    out = tmp_path / target
    result = CliRunner().invoke(app, ["index", "build", str(thesis / "t.txt"), "--out", str(out), "--model", "hash"])
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert str(out.resolve()) in said
    assert ("is a file, not an index directory" if out.is_file() else "holds files that briefqa did not make") in said
    assert tree(tmp_path) == before


def test_a_file_inside_an_index_is_not_offered_as_a_place_to_rebuild(fixture_index):
    with pytest.raises(IndexLoadError) as err:
        load_index(fixture_index / CONTENT)
    message = str(err.value)
    assert f"the index is the directory that holds it: {fixture_index}" in message
    assert "Rebuild it with" not in message


def test_an_empty_directory_and_a_damaged_index_are_briefqas_to_write(tmp_path, fixture_index):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_index([FIXTURES], empty, HASH).written
    (fixture_index / MANIFEST).write_text("{damaged")
    assert build_index([FIXTURES], fixture_index, HASH).written
    assert snapshot(fixture_index)[1] == snapshot(empty)[1]


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_a_lock_that_is_not_a_plain_file_is_refused_and_what_it_points_at_kept(tmp_path, fixture_index, kind):
    from briefqa.indexing.build import add_to_index
    from briefqa.indexing.writing import IndexWriteError

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = tmp_path / ".index.lock"
    lock.unlink(missing_ok=True)
    {"symlink": lambda: lock.symlink_to(victim), "directory": lock.mkdir, "fifo": lambda: os.mkfifo(lock)}[kind]()
    before = snapshot(fixture_index)
    with pytest.raises(IndexWriteError, match=r"\.index\.lock: is .*remove it and run again"):
        add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], fixture_index)
    assert victim.read_text() == "precious\n"
    assert snapshot(fixture_index) == before


def test_an_index_reached_through_a_symlink_is_written_where_it_points(tmp_path, fixture_index):
    from briefqa.indexing.build import add_to_index

    link = tmp_path / "link"
    link.symlink_to(fixture_index)
    report = add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], link)
    assert report.added == ["scio-2022-01-14-import-export-2021"]
    assert link.is_symlink() and link.resolve() == fixture_index.resolve()
    assert "scio-2022-01-14-import-export-2021" in load_index(fixture_index).manifest.corpus
    assert not list(tmp_path.glob(".*.tmp-*")) and not list(tmp_path.glob(".*.old-*"))


def test_the_index_directory_keeps_its_permissions(tmp_path, fixture_index):
    from briefqa.indexing.build import add_to_index

    fixture_index.chmod(0o750)
    add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], fixture_index)
    assert fixture_index.stat().st_mode & 0o777 == 0o750
    fresh = tmp_path / "fresh"
    build_index([FIXTURES], fresh, HASH)
    assert fresh.stat().st_mode & 0o777 == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_another_file_with_the_same_name_does_not_replace_a_briefing(tmp_path, fixture_index):
    from briefqa.indexing.build import NothingToIndex, add_to_index

    other = tmp_path / "b" / SCIO_FIXTURE.name
    other.parent.mkdir()
    other.write_text(SCIO_FIXTURE.read_text() + "\nCCTV:\n\nOne more question?\n")
    before = snapshot(fixture_index)
    with pytest.raises(NothingToIndex, match=f"has the same briefing id '{SCIO_FIXTURE.stem}' as {SCIO_FIXTURE}"):
        add_to_index([other], fixture_index)
    assert snapshot(fixture_index) == before


def test_a_moved_file_replaces_its_briefing(tmp_path):
    from briefqa.indexing.build import add_to_index

    first = tmp_path / "a" / SCIO_FIXTURE.name
    first.parent.mkdir()
    shutil.copy(SCIO_FIXTURE, first)
    build_index([first], tmp_path / "index", HASH)
    moved = tmp_path / "b" / SCIO_FIXTURE.name
    moved.parent.mkdir()
    moved.write_text(first.read_text() + "\nCCTV:\n\nOne more question?\n")
    first.unlink()
    assert add_to_index([moved], tmp_path / "index").replaced == [SCIO_FIXTURE.stem]


# --- tampering: found by the digests, never served, and rebuilt -------------------------------


def edit_passage(d: Path, column: str = "char_start") -> str:
    """A same-size edit in the content file of one passage's column, or of the transcript text its
    offsets slice ("transcript"); what a search then names as not the one indexed."""
    import sqlite3

    db = sqlite3.connect(d / CONTENT)
    pid, bid = db.execute("SELECT id, briefing_id FROM passage_texts WHERE text LIKE '%Tianjin%' LIMIT 1").fetchone()
    if column == "transcript":  # the passage's text is its slice of it
        db.execute("UPDATE briefings SET text = replace(text, 'Tianjin', 'Tianjjn') WHERE id = ?", (bid,))
        damaged = f"the transcript of briefing '{bid}'"
    elif column == "char_start":  # the passage's text is another slice
        db.execute("UPDATE passages SET char_start = char_start + 1 WHERE id = ?", (pid,))
        damaged = f"passage {pid}"
    else:
        (value,) = db.execute(f"SELECT {column} FROM passages WHERE id = ?", (pid,)).fetchone()
        db.execute(f"UPDATE passages SET {column} = ? WHERE id = ?", (value[::-1], pid))
        damaged = f"passage {pid}"
    db.commit()
    db.close()
    return damaged


@pytest.mark.parametrize("column", ["transcript", "char_start", "speaker"])
def test_a_tampered_passage_is_never_cited_and_a_rebuild_restores_it(tmp_path, fixture_index, column):
    from briefqa.indexing.verify import verify_index

    before = snapshot(fixture_index)[1]
    damaged = edit_passage(fixture_index, column)
    with pytest.raises(IndexLoadError, match=f"content.sqlite is damaged: {damaged} is not the one indexed"):
        load_index(fixture_index).search("smart port Tianjin", 5)
    report = verify_index(fixture_index)
    assert "content.sqlite: its bytes are not the ones the manifest records" in report.problems
    assert f"content.sqlite: {damaged} is not the one indexed" in report.problems
    rebuilt = build_index([FIXTURES], fixture_index, HASH)
    assert rebuilt.written  # not "unchanged"
    assert snapshot(fixture_index)[1] == before and verify_index(fixture_index).ok


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0])
def test_bad_sentence_vectors_are_found_and_rebuilt(tmp_path, fixture_index, value):
    import numpy as np

    from briefqa.indexing.verify import verify_index

    before = snapshot(fixture_index)[1]
    matrix = np.load(fixture_index / "sentences.npy")
    matrix[:] = value
    np.save(fixture_index / "sentences.npy", matrix)
    if value != 0.0:  # not numbers: a search refuses them; zeros only score nothing
        with pytest.raises(IndexLoadError, match="sentences.npy is damaged"):
            load_index(fixture_index).search("smart port Tianjin", 5)
    problems = verify_index(fixture_index).problems
    assert any(p.startswith("sentences.npy: the sentence vectors of") for p in problems)
    report = build_index([FIXTURES], fixture_index, HASH)
    blocks = np.diff(np.load(fixture_index / "sentences.starts.npy"))  # sentences per passage
    # None reused; a passage of one sentence needs none (its vector is the passage's).
    assert report.written and report.sentences_embedded == blocks[blocks > 1].sum() > 0
    assert snapshot(fixture_index)[1] == before


def test_bad_vectors_in_a_checkpoint_are_embedded_again(tmp_path):
    """A killed build's checkpoint holding NaN and zero vectors: they are not reused."""
    import numpy as np

    from briefqa.indexing.checkpoint import VectorCheckpoint
    from briefqa.indexing.content import embedded_key
    from briefqa.indexing.embed import HashEmbedder

    fresh = tmp_path / "fresh"
    build_index([FIXTURES], fresh, HASH)
    out = tmp_path / "index"
    passages = load_index(fresh).passages
    model = load_index(fresh).manifest.model.model_dump_json()
    checkpoint = VectorCheckpoint(out, model, HashEmbedder().dimension)
    bad = np.zeros((len(passages), HashEmbedder().dimension), dtype=np.float32)
    bad[::2] = np.nan
    checkpoint.put([embedded_key(p) for p in passages], bad)
    checkpoint.close()
    report = build_index([FIXTURES], out, HASH)
    assert report.embedded == report.passages
    assert snapshot(out)[1] == snapshot(fresh)[1]


def test_a_checkpoint_of_another_schema_is_started_again(tmp_path):
    import sqlite3

    out = tmp_path / "index"
    db = sqlite3.connect(tmp_path / ".index.vectors.sqlite")
    db.execute("CREATE TABLE vectors (a TEXT, b BLOB)")
    db.commit()
    db.close()
    assert build_index([FIXTURES], out, HASH).written
    assert not (tmp_path / ".index.vectors.sqlite").exists()


@pytest.mark.parametrize("damage", ["page", "column"])
def test_a_damaged_content_file_is_a_message_and_a_rebuild_recovers(tmp_path, fixture_index, damage):
    import sqlite3

    before = snapshot(fixture_index)[1]
    passages_before = [p.model_dump() for p in load_index(fixture_index).passages]
    file = fixture_index / CONTENT
    if damage == "page":  # a 4 KB page in the middle overwritten
        data = bytearray(file.read_bytes())
        page = len(data) // 4096 // 2 * 4096
        data[page : page + 4096] = bytes((i * 13 + 5) % 256 for i in range(4096))
        file.write_bytes(bytes(data))
    else:
        db = sqlite3.connect(file)
        db.executescript("DROP VIEW passage_texts; ALTER TABLE passages DROP COLUMN part")  # the view reads it
        db.commit()
        db.close()
    # Whatever a search reads of it is either what was indexed or an IndexLoadError naming it
    try:
        index = load_index(fixture_index)
        for q, mode in zip(QUERIES * 3, ["dense", "bm25", "hybrid"] * 4):
            index.search(q, 5, SearchOptions(mode=mode))
        assert [p.model_dump() for p in index.passages] == passages_before
        for briefing_id in index.manifest.corpus:
            index.briefing(briefing_id)
    except IndexLoadError as err:
        assert "content.sqlite is damaged" in str(err)
    from briefqa.indexing.verify import verify_index

    assert "content.sqlite" in " ".join(verify_index(fixture_index).problems)
    report = build_index([FIXTURES], fixture_index, HASH)
    assert report.written
    assert snapshot(fixture_index)[1] == before


def test_verify_through_the_cli(tmp_path, fixture_index):
    from typer.testing import CliRunner

    from briefqa.cli import app

    sound = CliRunner().invoke(app, ["index", "verify", "--index", str(fixture_index)])
    assert sound.exit_code == 0 and "sound (" in sound.output
    same_size_garbage(fixture_index / "bm25" / "vocab.index.json")
    found = CliRunner().invoke(app, ["index", "verify", "--index", str(fixture_index)])
    assert found.exit_code == 1
    assert "bm25/vocab.index.json: its bytes are not the ones the manifest records" in found.output
    assert f"Rebuild it with: briefqa index build {FIXTURES} --out {fixture_index}" in found.output


# --- the machine refuses: a message that names the file, not "a bug" ----------------------------


@pytest.mark.parametrize(
    "code, words", [(28, "the disk is full"), (30, "read-only"), (13, "permission denied"), (5, "Input/output error")]
)
def test_a_refused_write_names_the_file_and_what_to_do(tmp_path, fixture_index, monkeypatch, code, words):
    from typer.testing import CliRunner

    import briefqa.indexing.writing
    from briefqa.cli import app

    before = snapshot(fixture_index)

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(fixture_index.parent / ".index.tmp-x"))

    monkeypatch.setattr(briefqa.indexing.writing.tempfile, "mkdtemp", refuse)
    new = CORPUS / "scio-2022-01-14-import-export-2021.txt"
    result = CliRunner().invoke(app, ["index", "add", str(new), "--index", str(fixture_index)])
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert f"Error: {fixture_index.parent / '.index.tmp-x'}: " in said and words in said
    assert "bug" not in said and "the previous index, if any, is unchanged" in said
    monkeypatch.undo()
    assert snapshot(fixture_index) == before


def test_a_full_disk_while_checkpointing_names_the_checkpoint(tmp_path, monkeypatch):
    import sqlite3

    import briefqa.indexing.checkpoint
    from briefqa.indexing.writing import IndexWriteError

    class FullDisk:
        def __init__(self, db):
            self.db = db

        def executemany(self, *args):
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name):
            return getattr(self.db, name)

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

    connect = sqlite3.connect
    monkeypatch.setattr(briefqa.indexing.checkpoint.sqlite3, "connect", lambda *a, **k: FullDisk(connect(*a, **k)))
    with pytest.raises(IndexWriteError, match=r"\.index\.vectors\.sqlite: the disk is full; free some space"):
        build_index([FIXTURES], tmp_path / "index", HASH)


# --- readers while a writer swaps ---------------------------------------------------------------


def test_a_reader_during_a_swap_reads_one_index_whole(tmp_path, fixture_index, monkeypatch):
    """A writer swaps a new index in after the reader read the old manifest and content: the
    reader notices and reads the new one, never a 'damaged' mix of both."""
    import briefqa.searching.index
    from briefqa.indexing.writing import _swap_in

    bigger = tmp_path / "bigger"
    build_index([FIXTURES, CORPUS / "scio-2022-01-14-import-export-2021.txt"], bigger, HASH)
    expected = snapshot(bigger)[1]
    read_content, swapped = briefqa.searching.index.read_content, []

    def read_then_swap(path, manifest):
        content = read_content(path, manifest)
        if not swapped:
            swapped.append(True)
            _swap_in(bigger, fixture_index)
        return content

    monkeypatch.setattr(briefqa.searching.index, "read_content", read_then_swap)
    loaded = load_index(fixture_index)
    assert swapped and len(loaded.manifest.corpus) == 3
    monkeypatch.undo()
    assert snapshot(fixture_index)[1] == expected


# --- the second audit's cases ---------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["mynotes.txt", "drafts"])
def test_an_index_holding_the_users_files_is_not_replaced(tmp_path, fixture_index, extra):
    from briefqa.indexing.writing import IndexWriteError

    (fixture_index / extra).mkdir() if extra == "drafts" else (fixture_index / extra).write_text("mine\n")
    before = tree(fixture_index)
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / SCIO_FIXTURE.name).write_text(SCIO_FIXTURE.read_text().replace("Tianjin", "Harbin"))
    with pytest.raises(IndexWriteError, match=f"holds files that briefqa did not make \\({extra}\\)"):
        build_index([changed], fixture_index, HASH)
    assert tree(fixture_index) == before


def test_a_lock_with_other_names_is_refused_and_they_are_kept(tmp_path, fixture_index):
    from briefqa.indexing.build import add_to_index
    from briefqa.indexing.writing import IndexWriteError

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / ".index.lock").unlink(missing_ok=True)
    os.link(victim, tmp_path / ".index.lock")
    with pytest.raises(IndexWriteError, match="has other names \\(hard links\\)"):
        add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], fixture_index)
    assert victim.read_text() == "precious\n"


def test_the_index_directory_keeps_its_group_and_setgid_bit(tmp_path, fixture_index):
    import grp

    from briefqa.indexing.build import add_to_index

    other = next((g.gr_gid for g in grp.getgrall() if g.gr_gid != os.getgid()), None)
    if other is None or os.geteuid() != 0:
        pytest.skip("needs root and a second group to give the index")
    os.chown(fixture_index, -1, other)
    fixture_index.chmod(0o2775)
    add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], fixture_index)
    assert fixture_index.stat().st_gid == other and fixture_index.stat().st_mode & 0o7777 == 0o2775
    assert (fixture_index / MANIFEST).stat().st_gid == other  # setgid: what is written inside too


def test_an_index_path_that_loops_says_so(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(IndexLoadError, match="a symbolic link that leads nowhere") as err:
        load_index(tmp_path / "a")
    assert "Rebuild it with" not in str(err.value)


def test_a_changed_sidecar_is_a_change(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SCIO_FIXTURE, corpus)
    build_index([corpus], tmp_path / "index", HASH)
    (corpus / f"{SCIO_FIXTURE.stem}.meta.toml").write_text('title = "Renamed by its sidecar"\n')
    report = build_index([corpus], tmp_path / "index", HASH)
    assert report.replaced == [SCIO_FIXTURE.stem]  # (its passages are embedded with the new title)
    assert load_index(tmp_path / "index").search("port", 1)[0].briefing_title == "Renamed by its sidecar"


def test_a_moved_file_is_still_the_one_whose_name_is_taken(tmp_path):
    from briefqa.indexing.build import NothingToIndex, add_to_index

    (tmp_path / "a").mkdir()
    shutil.copy(SCIO_FIXTURE, tmp_path / "a")
    build_index([tmp_path / "a"], tmp_path / "index", HASH)
    (tmp_path / "a").rename(tmp_path / "a_moved")
    assert add_to_index([tmp_path / "a_moved" / SCIO_FIXTURE.name], tmp_path / "index").unchanged
    other = tmp_path / "b" / SCIO_FIXTURE.name
    other.parent.mkdir()
    other.write_text(SCIO_FIXTURE.read_text() + "\nCCTV:\n\nOne more question?\n")
    with pytest.raises(NothingToIndex, match=f"as {tmp_path / 'a_moved' / SCIO_FIXTURE.name}"):
        add_to_index([other], tmp_path / "index")


def test_zero_sentence_vectors_are_refused_by_a_search(fixture_index):
    import numpy as np

    matrix = np.load(fixture_index / "sentences.npy")
    matrix[:] = 0
    np.save(fixture_index / "sentences.npy", matrix)
    with pytest.raises(IndexLoadError, match="sentences.npy is damaged"):
        load_index(fixture_index).search("smart port Tianjin", 5)


def test_bad_vectors_with_their_digest_recorded_again_are_rebuilt(fixture_index):
    """The digests say the files are as written; the vectors say otherwise: not 'unchanged'."""
    import numpy as np

    from briefqa.hashing import file_sha256
    from briefqa.indexing.manifest import Manifest

    before = snapshot(fixture_index)[1]
    matrix = np.load(fixture_index / "sentences.npy")
    matrix[5] = np.nan
    np.save(fixture_index / "sentences.npy", matrix)
    manifest = Manifest.model_validate_json((fixture_index / MANIFEST).read_text())
    manifest.digests["sentences.npy"] = file_sha256(fixture_index / "sentences.npy")
    (fixture_index / MANIFEST).write_text(manifest.model_dump_json())
    report = build_index([FIXTURES], fixture_index, HASH)
    assert report.written and report.sentences_embedded == 1  # the damaged one; the sound ones reused
    assert snapshot(fixture_index)[1] == before


def test_show_of_a_damaged_index_is_a_message(fixture_index):
    import sqlite3

    from typer.testing import CliRunner

    from briefqa.cli import app

    db = sqlite3.connect(fixture_index / CONTENT)
    db.execute("UPDATE briefings SET text = replace(text, 'Tianjin', 'Tianjjn')")
    db.commit()
    db.close()
    result = CliRunner().invoke(app, ["show", SCIO_FIXTURE.stem, "--index", str(fixture_index)])
    assert result.exit_code == 1, result.output
    assert "content.sqlite is damaged" in result.output and "bug" not in result.output


@pytest.mark.parametrize(
    "corpus, options",
    [("CORPUS", "HASH"), ("Path", "HASH"), ("list", {"model": "hash"})],
)
def test_the_library_takes_one_path_and_options_as_a_dict(tmp_path, corpus, options):
    given = {"CORPUS": str(SCIO_FIXTURE), "Path": SCIO_FIXTURE, "list": [SCIO_FIXTURE]}[corpus]
    report = build_index(given, tmp_path / "index", HASH if options == "HASH" else options)
    assert report.added == [SCIO_FIXTURE.stem]


@pytest.mark.parametrize("given", [42, [SCIO_FIXTURE, 3], []])
def test_the_library_refuses_what_is_not_a_path(tmp_path, given):
    with pytest.raises(ValueError, match="expected a path or a list of paths to transcripts"):
        build_index(given, tmp_path / "index", HASH)


def test_default_corpus_and_index_are_found_together(tmp_path, monkeypatch):
    from briefqa.paths import default_corpus_dir, default_index_dir

    monkeypatch.delenv("BRIEFQA_CORPUS", raising=False)
    monkeypatch.delenv("BRIEFQA_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)
    assert (default_corpus_dir(), default_index_dir()) == (ROOT / "corpus", ROOT / "index")
    (tmp_path / "corpus").mkdir()  # a project of one's own: its corpus goes into its own index
    assert (default_corpus_dir().absolute(), default_index_dir().absolute()) == (
        tmp_path / "corpus",
        tmp_path / "index",
    )


@pytest.mark.parametrize("target", ["questions", "index file", "other file"])
def test_eval_never_writes_a_report_over_what_it_did_not_write(tmp_path, fixture_index, target):
    from typer.testing import CliRunner

    from briefqa.cli import app

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "Where is the smart port?",
                "briefing": SCIO_FIXTURE.stem,
                "evidence": [{"quote": "cleared goods worth 85 billion yuan in 2024", "speaker": "Wang Lin"}],
            }
        )
        + "\n"
    )
    other = tmp_path / "notes.txt"
    other.write_text("mine\n")
    path = {"questions": questions, "index file": fixture_index / CONTENT, "other file": other}[target]
    before = path.read_bytes()
    for option in ("--save-baseline", "--junit"):
        result = CliRunner().invoke(
            app, ["eval", "--questions", str(questions), "--index", str(fixture_index), option, str(path)]
        )
        assert result.exit_code == 1, result.output
        assert path.read_bytes() == before
    saved = tmp_path / "baseline.json"
    args = ["eval", "--questions", str(questions), "--index", str(fixture_index), "--save-baseline", str(saved)]
    assert CliRunner().invoke(app, args).exit_code in (0, 1) and saved.exists()
    assert CliRunner().invoke(app, args).exit_code in (0, 1)  # a baseline it wrote may be written again


def test_a_users_file_inside_the_index_parts_is_not_replaced(tmp_path, fixture_index):
    from briefqa.indexing.writing import IndexWriteError

    (fixture_index / "bm25" / "mine.txt").write_text("mine\n")
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / SCIO_FIXTURE.name).write_text(SCIO_FIXTURE.read_text().replace("Tianjin", "Harbin"))
    with pytest.raises(IndexWriteError, match="bm25/mine.txt"):
        build_index([changed], fixture_index, HASH)
    assert (fixture_index / "bm25" / "mine.txt").read_text() == "mine\n"


def test_only_a_killed_builds_own_leftovers_are_removed(tmp_path, fixture_index):
    from briefqa.indexing.build import add_to_index

    keep = tmp_path / ".index.old-keep"
    keep.mkdir()
    (keep / "x").write_text("mine\n")
    leftover = tmp_path / ".index.old-12345"
    leftover.mkdir()
    add_to_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], fixture_index)
    assert (keep / "x").read_text() == "mine\n" and not leftover.exists()


def test_a_file_skipped_by_an_add_is_not_recorded_as_a_source(tmp_path):
    from briefqa.indexing.build import add_to_index

    a, b = tmp_path / "a" / SCIO_FIXTURE.name, tmp_path / "b" / SCIO_FIXTURE.name
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(SCIO_FIXTURE, a)
    b.write_text(SCIO_FIXTURE.read_text() + "\nCCTV:\n\nOne more question?\n")
    build_index([a], tmp_path / "index", HASH)
    report = add_to_index([a, b], tmp_path / "index")
    assert [s.path for s in report.skipped] == [str(b)]
    a.write_text(a.read_text().replace("Tianjin", "Harbin"))  # the indexed file, changed in place
    assert add_to_index([a], tmp_path / "index").replaced == [SCIO_FIXTURE.stem]


def test_verify_of_a_path_that_loops_offers_no_rebuild(tmp_path):
    from briefqa.indexing.verify import verify_index

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    report = verify_index(tmp_path / "a")
    assert not report.ok and report.rebuild is None


def test_one_file_for_both_reports_is_refused(tmp_path, fixture_index):
    from typer.testing import CliRunner

    from briefqa.cli import app

    same = tmp_path / "same.xml"
    args = ["eval", "--index", str(fixture_index), "--save-baseline", str(same), "--junit", str(same)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "is given to both --save-baseline and --junit" in result.output
    assert not same.exists()
