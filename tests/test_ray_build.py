"""`briefqa index build --ray`: the build read and embedded on a local Ray writes the index a
single-process build writes (same passages, ids and skipped files; the same vectors; the same
answers), resumes from its checkpoint, and says what to install without Ray.

Needs Ray (the ray extra, in the test extra too): skipped without it, saying why; under CI=true,
which must run them, they fail instead of passing unrun. Each module starts one local Ray of two
CPUs (about 10 s here); a runner uses a Ray already started in its process as it is."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from briefqa.cli import app
from briefqa.indexing.build import LOCAL, build_index
from briefqa.indexing.manifest import read_manifest
from briefqa.indexing.store import read_content, read_sentences, read_vectors
from briefqa.searching.index import load_index
from tests.conftest import CORPUS, FIXTURES, HASH_SMALL

QUESTIONS = ["How many exotic animals did customs intercept?", "What did customs say about foreign trade?"]
cli = CliRunner()


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        reason = "the Ray build tests need Ray: pip install 'briefqa[ray]' (or '.[test]')"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}; and CI=true: CI must run them", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of two CPUs for this module's builds (their runners find it started)."""
    _require_ray()
    import logging

    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()


def _runner(workers=2):
    from briefqa.indexing.ray_build import RayRunner

    return RayRunner(workers=workers)


def _index_parts(out):
    manifest = read_manifest(out)
    content = read_content(out, manifest)
    passages = [p.model_dump() for p in content.all_passages()]
    vectors = read_vectors(out, manifest).all_vectors()
    sentences = read_sentences(out, manifest).blocks()
    return manifest, passages, vectors, sentences


def _answers(out):
    index = load_index(out)
    return [[(r.briefing_id, r.turn_index, r.text, round(r.score, 3)) for r in index.search(q, k=5)] for q in QUESTIONS]


def _assert_same_index(local, on_ray, atol):
    (m1, p1, v1, s1), (m2, p2, v2, s2) = _index_parts(local), _index_parts(on_ray)
    assert m2.fingerprint == m1.fingerprint and m2.build_options() == m1.build_options()
    assert m2.corpus == m1.corpus and m2.readings == m1.readings and m2.passages == m1.passages
    assert p2 == p1  # ids, text, offsets, speakers: every field
    assert v2.shape == v1.shape and np.allclose(v2, v1, atol=atol, rtol=0)
    assert [b.shape for b in s2] == [b.shape for b in s1]
    assert all(np.allclose(b2, b1, atol=atol, rtol=0) for b1, b2 in zip(s1, s2))
    assert _answers(on_ray) == _answers(local)


def test_a_build_on_ray_writes_the_index_a_local_build_writes(local_ray, tmp_path):
    """Small passages: many batches over two workers; a bad file and a repeat, skipped alike."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copy(FIXTURES / "scio" / "scio-2025-02-10-port-security.txt", corpus)
    (corpus / "empty.txt").write_text("")
    shutil.copy(CORPUS / "scio-2022-01-14-import-export-2021.txt", corpus / "zz-copy.txt")
    local = build_index([corpus], tmp_path / "local", HASH_SMALL)
    stages = set()
    with _runner() as runner:
        on_ray = build_index(
            [corpus], tmp_path / "ray", HASH_SMALL, runner=runner, progress=lambda stage, *_: stages.add(stage)
        )
    assert on_ray.passages == local.passages > 100 and on_ray.embedded == local.embedded
    assert on_ray.sentences == local.sentences and on_ray.sentences_embedded == local.sentences_embedded
    assert on_ray.added == local.added and len(on_ray.added) == 6
    assert [s.model_dump() for s in on_ray.skipped] == [s.model_dump() for s in local.skipped]
    assert {s.path.rsplit("/", 1)[-1] for s in on_ray.skipped} == {"empty.txt", "zz-copy.txt"}
    assert stages == {"Reading transcripts", "Splitting turns into passages", "Embedding passages and sentences"}
    _assert_same_index(tmp_path / "local", tmp_path / "ray", atol=0)
    assert not list(tmp_path.glob(".*vectors.sqlite"))  # the checkpoint goes once the index is in place


def test_a_stopped_build_on_ray_resumes_from_its_checkpoint(local_ray, tmp_path):
    from briefqa.indexing.ray_build import RayRunner

    class StoppedAfterOneBatch(RayRunner):
        def embed(self, *args):
            batches = super().embed(*args)
            yield next(batches)
            batches.close()
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index([CORPUS], tmp_path / "ray", HASH_SMALL, runner=StoppedAfterOneBatch(workers=2))
    assert not (tmp_path / "ray").exists() and (tmp_path / ".ray.vectors.sqlite").exists()
    report = build_index([CORPUS], tmp_path / "ray", HASH_SMALL, runner=_runner())
    assert 0 < report.reused < report.passages and report.embedded == report.passages - report.reused
    build_index([CORPUS], tmp_path / "local", HASH_SMALL)
    _assert_same_index(tmp_path / "local", tmp_path / "ray", atol=0)


def test_index_build_ray_on_the_command_line(local_ray, tmp_path):
    build = ["index", "build", str(FIXTURES), "--model", "hash", "--out"]
    result = cli.invoke(app, [*build, str(tmp_path / "ray"), "--ray", "--ray-workers", "2"])
    assert result.exit_code == 0, result.output
    assert "briefings: 2 added" in result.output
    assert cli.invoke(app, [*build, str(tmp_path / "local")]).exit_code == 0
    _assert_same_index(tmp_path / "local", tmp_path / "ray", atol=0)


def test_ray_options_without_ray_or_ray_itself_missing_are_clear(monkeypatch, tmp_path):
    result = cli.invoke(app, ["index", "build", str(FIXTURES), "--out", str(tmp_path / "i"), "--ray-workers", "2"])
    assert result.exit_code == 1 and "--ray-address and --ray-workers go with --ray" in result.output
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = cli.invoke(app, ["index", "build", str(FIXTURES), "--out", str(tmp_path / "i"), "--ray"])
    assert result.exit_code == 1, result.output
    assert "Error: --ray needs Ray, which is not installed here: pip install 'briefqa[ray]'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "i").exists()


def test_a_cluster_that_does_not_answer_is_a_clear_error(tmp_path):
    """In a process of its own: a runner uses the Ray this module started in its process as it is."""
    _require_ray()
    command = [sys.executable, "-m", "briefqa.cli", "index", "build", str(FIXTURES), "--out", str(tmp_path / "i")]
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:9"}  # the discard port: nothing listens
    done = subprocess.run([*command, "--model", "hash", "--ray"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Error: no Ray cluster answers at 127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.model
def test_a_build_on_ray_with_the_real_model_embeds_with_the_onnx_export_alone(local_ray, tmp_path):
    """The workers load the ONNX export, not torch; their vectors are the local encoder's to
    float32 rounding, the index's (half precision) to its rounding, and the answers the same."""
    from briefqa.indexing.embed import load_embedder
    from briefqa.indexing.onnx_encoder import OnnxEncoder

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("scio-2022-01-14-import-export-2021.txt", "scio-2023-03-20-customs-safeguard-borders.txt"):
        shutil.copy(CORPUS / name, corpus)
    embedder = load_embedder()
    local = build_index([corpus], tmp_path / "local", embedder=embedder)
    with _runner() as runner:
        on_ray = build_index([corpus], tmp_path / "ray", embedder=embedder, runner=runner)
        assert (on_ray.passages, on_ray.sentences) == (local.passages, local.sentences)
        _assert_same_index(tmp_path / "local", tmp_path / "ray", atol=2e-3)  # a float16 step or two

        assert embedder.export_query_encoder(tmp_path / "export")
        encoder = OnnxEncoder(tmp_path / "export")
        assert [w["torch"] for w in runner.check_workers(encoder, tmp_path / "export", workers=2)] == [False, False]
        texts = [p["text"] for p in _index_parts(tmp_path / "local")[1]]
        expected = np.concatenate([v for _, v in LOCAL.embed(encoder, None, texts, None)])
        found = np.zeros_like(expected)
        for rows, vectors in runner.embed(encoder, tmp_path / "export", texts, None):
            found[list(rows)] = vectors
        assert np.allclose(found, expected, atol=1e-5, rtol=0)


def test_a_worker_that_fails_is_a_clear_error(local_ray, tmp_path):
    """Here an export whose files are damaged: every actor fails to load it."""
    from briefqa.indexing.embed import HashEmbedder
    from briefqa.indexing.ray_build import RayBuildError

    export = tmp_path / "export"
    export.mkdir()
    (export / "encoder.json").write_text("{")
    with pytest.raises(
        RayBuildError, match="a Ray worker failed while embedding .*encoder.json of the query encoder is"
    ):
        list(_runner().embed(HashEmbedder(), export, ["a text"] * 100, None))
