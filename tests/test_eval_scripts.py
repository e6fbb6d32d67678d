"""eval/'s scripts run: each one's --help, and calibrate.py end to end on a small question set over
an index built with the hashing embedder (the others build with the real model or need the
archive). mypy checks their types (pyproject.toml)."""

import subprocess
import sys

import pytest

from tests.conftest import CORPUS, HASH, ROOT

SCRIPTS = sorted(p.name for p in (ROOT / "eval").glob("*.py"))


def run_script(name: str, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "eval" / name), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_every_script_is_smoke_tested():
    assert SCRIPTS == ["calibrate.py", "compare.py", "peers.py"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name):
    result = run_script(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and ("--questions" in result.stdout or "--corpus" in result.stdout)


def test_compare_levers_needs_an_archive_index():
    result = run_script("compare.py", "--levers")
    assert result.returncode == 2 and "--levers needs --archive" in result.stderr


def test_calibrate_fits_weights_on_tuning_halves_and_reports_both(tmp_path):
    from briefqa.indexing.build import build_index

    build_index([CORPUS], tmp_path / "index", HASH)
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join((ROOT / "eval" / "questions.jsonl").read_text().splitlines(True)[:8]))
    no_answer = tmp_path / "no-answer.jsonl"
    no_answer.write_text("".join((ROOT / "eval" / "no-answer.jsonl").read_text().splitlines(True)[:6]))
    result = run_script(
        "calibrate.py", "--corpus", tmp_path / "index", questions, "--unanswerable", no_answer,
        "--json", tmp_path / "best.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fitted on 8 tuning questions")  # 5 of the first 8 answerable, 3 of 6 not
    assert lines[1].startswith("CONFIDENCE_WEIGHTS = (") and lines[2].startswith("GOOD_MATCH = 0.")
    rows = [line for line in lines if line.startswith(f"| {tmp_path / 'index'} |")]
    assert [row.split(" | ")[1] for row in rows] == ["tune", "test"]
    import json

    best = json.loads((tmp_path / "best.json").read_text())
    assert len(best) == 14 and {row["split"] for row in best} == {"tune", "test"}


def test_calibrate_wants_each_corpus_s_unanswerable_sets(tmp_path):
    result = run_script("calibrate.py", "--corpus", "index", "eval/questions.jsonl")
    assert result.returncode == 2 and "--unanswerable" in result.stderr


def test_the_benchmark_filters_what_the_index_holds(fixture_index):
    """bench's filtered ask names the index's most frequent official and its middle day, not a
    name and date of one archive; the ask it makes with them still finds passages."""
    import shlex

    from typer.testing import CliRunner

    from briefqa.cli import app
    from briefqa.evaluation.bench import typical_filters
    from briefqa.searching.index import load_index

    filters = shlex.split(typical_filters(fixture_index))
    index = load_index(fixture_index)
    assert filters[:2] == ["--speaker", index.speakers(role="official")[0].name] and filters[2] == "--since"
    result = CliRunner().invoke(app, ["ask", "port", "--index", str(fixture_index), "--json", *filters])
    assert result.exit_code == 0, result.output
