"""The briefings and show commands, through typer's runner."""

import json

from typer.testing import CliRunner

from briefqa.cli import app
from tests.conftest import CORPUS

runner = CliRunner()


def test_briefings_json_lists_all_five():
    result = runner.invoke(app, ["briefings", "--json", "--corpus", str(CORPUS)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    row = next(r for r in rows if r["id"] == "scio-2022-01-14-import-export-2021")
    assert row["held_on"] == "2022-01-14" and row["published_on"] == "2022-01-19"
    assert row["turn_count"] == 2 and row["officials"] == [{"name": "Li Kuiwen", "title": None}]


def test_show_json_has_turn_fields():
    result = runner.invoke(app, ["show", "scio-2023-03-20-customs-safeguard-borders", "--json", "-c", str(CORPUS)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    turn = data["turns"][9]
    assert turn["index"] == 10
    assert set(turn) == {"index", "speaker", "role", "text", "char_start", "char_end", "answers_turn"}
    assert (turn["speaker"], turn["role"], turn["answers_turn"]) == ("Sun Yuning", "official", 8)


def test_show_unknown_id_is_a_clear_error():
    result = runner.invoke(app, ["show", "no-such-briefing", "-c", str(CORPUS)])
    assert result.exit_code == 1
    assert "no briefing 'no-such-briefing'" in result.output
    assert "Traceback" not in result.output


def test_briefings_reports_skipped_files(tmp_path):
    (tmp_path / "good.txt").write_text("A title for this\n\nCCTV:\n\nWhy? Thank you.\n\nLi Kuiwen:\n\nBecause.\n")
    (tmp_path / "empty.txt").write_text("")
    result = runner.invoke(app, ["briefings", "-c", str(tmp_path)])
    assert result.exit_code == 0
    assert "Skipped 1 file(s)" in result.output and "empty.txt" in result.output


def test_missing_corpus_path_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["briefings", "-c", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "no such file or directory" in result.output
