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

from briefqa.build import build_index
from briefqa.content import CONTENT
from briefqa.index import load_index
from briefqa.options import BuildOptions, SearchOptions
from briefqa.store import MANIFEST, IndexLoadError
from tests.conftest import CORPUS, FIXTURES, ROOT, SCIO_FIXTURE

HASH = BuildOptions(model="hash")
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


@pytest.fixture()
def fixture_index(tmp_path):
    out = tmp_path / "index"
    build_index([FIXTURES], out, HASH)
    return out


# A writer in its own process that stops at a named point (signalled by a file) until killed.
WRITER = textwrap.dedent(
    """
    import sys, time, pathlib
    import briefqa.build as build, briefqa.store as store, briefqa.embed as embed
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
        def slow_bm25(texts, directory):
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
        from briefqa.build import add_to_index

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
    slow = textwrap.dedent(
        """
        import sys, time, pathlib
        import briefqa.embed as embed, briefqa.build as build
        encode = embed.HashEmbedder.encode
        def slow(self, texts, batch_size=64, progress=None):
            pathlib.Path(sys.argv[1]).write_text("reached")
            time.sleep(2)
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
    second = subprocess.run(
        [sys.executable, "-m", "briefqa.cli", "index", "add", str(second_file), "--index", str(fixture_index)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.wait(timeout=60) == 0, first.stderr.read() if first.stderr else ""
    assert second.returncode == 0, second.stderr
    assert "waiting for another briefqa writer" in second.stderr
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
    # and that command does rebuild it (a damaged index is not 'unchanged')
    report = build_index([FIXTURES], copy, HASH)
    assert report.written and report.embedded == report.passages
    assert snapshot(copy)[1] == snapshot(fixture_index)[1]


def test_content_whose_rows_do_not_match_its_vectors_is_found(tmp_path, fixture_index):
    """Passages renumbered (and the manifest's size record made to agree, as a crafted index would):
    the rows no longer run 0..n-1 beside the vectors, so a citation could name the wrong passage."""
    import sqlite3

    from briefqa.store import Manifest

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
    from briefqa.store import Manifest

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
    from briefqa.store import ModelInfo

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

    from briefqa.store import Manifest

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
        import briefqa.build as build, briefqa.embed as embed
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
    import briefqa.build

    monkeypatch.setattr(briefqa.build, "BATCH", 5)
    report = build_index([corpus], out, HASH)
    assert report.reused == 10 and report.embedded == report.passages - 10
    assert not (tmp_path / ".resumed.vectors.sqlite").exists()
    fresh = tmp_path / "fresh"
    build_index([corpus], fresh, HASH)
    assert snapshot(out)[1] == snapshot(fresh)[1]  # resumed or not, the same index


def test_adding_to_an_index_with_a_damaged_part_keeps_every_briefing(tmp_path, fixture_index):
    """Damaged BM25 files: an add rebuilds the damaged part and keeps what still reads (the old
    briefings), rather than writing an index of the new file alone."""
    from briefqa.build import add_to_index

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
    from briefqa.build import add_to_index

    before = (fixture_index / MANIFEST).read_bytes()
    same_size_garbage(fixture_index / CONTENT)
    with pytest.raises(IndexLoadError, match="content.sqlite is damaged. Rebuild it with: briefqa index build"):
        add_to_index([SCIO_FIXTURE], fixture_index)
    assert (fixture_index / MANIFEST).read_bytes() == before
