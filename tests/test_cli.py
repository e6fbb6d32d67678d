"""The CLI through typer's runner: briefings, show, ask (JSON, filters, bad options), the default index."""

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from briefqa.cli import app
from tests.conftest import CORPUS, FIXTURES, ROOT, SCIO_FIXTURE, WH_FIXTURE

runner = CliRunner()


def test_briefings_json_lists_all_five():
    result = runner.invoke(app, ["briefings", "--json", "--corpus", str(CORPUS)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    row = next(r for r in rows if r["id"] == "scio-2022-01-14-import-export-2021")
    assert row["held_on"] == "2022-01-14" and row["published_on"] == "2022-01-19"
    assert row["turn_count"] == 2 and row["officials"] == [{"name": "Li Kuiwen", "title": None, "label": None}]


def test_show_json_has_turn_fields():
    result = runner.invoke(app, ["show", "scio-2023-03-20-customs-safeguard-borders", "--json", "-c", str(CORPUS)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    turn = data["turns"][9]
    assert turn["index"] == 10
    assert set(turn) == {"index", "speaker", "role", "text", "char_start", "char_end", "answers_turn", "outlet"}
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


# --- ask, on a small hand-made corpus indexed with the hashing embedder ---------------------


# (fixture_index, in conftest.py: tests/fixtures indexed with the hashing embedder)


def test_index_build_reports_each_stage_in_plain_lines_when_piped(tmp_path):
    out = tmp_path / "index"
    result = runner.invoke(app, ["index", "build", str(FIXTURES), "--out", str(out), "--model", "hash"])
    assert result.exit_code == 0, result.output
    # not a terminal: each stage says where it ended, in plain lines
    assert (
        "Reading transcripts: 2/2\nSplitting turns into passages: 2/2\nEmbedding passages and sentences: 34/34\n"
        in result.output
    )


def ask_json(index, *args):
    result = runner.invoke(app, ["ask", *args, "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ask_json_fields(fixture_index):
    data = ask_json(fixture_index, "exotic animals intercepted at ports", "-k", "3")
    assert data["query"] == "exotic animals intercepted at ports" and data["mode"] == "hybrid"
    assert data["good_match"] is True
    assert len(data["results"]) == 3
    top = data["results"][0]
    assert set(top) == {
        "speaker_title",
        "speaker_name",
        "outlet",
        "source_url",
        "collection",
        "language",
        "before_period",
        "holds_figure",
        "more",
        "rank",
        "score",
        "confidence",
        "similarity",
        "coverage",
        "text",
        "highlight",
        "highlight_start",
        "highlight_end",
        "speaker",
        "role",
        "briefing_id",
        "briefing_title",
        "held_on",
        "turn_index",
        "passage_id",
        "char_start",
        "char_end",
        "question",
        "citation",
    }
    assert (top["speaker"], top["turn_index"], top["held_on"]) == ("Wang Lin", 3, "2025-02-10")
    assert top["question"] == {
        "outlet": "CCTV",
        "turn_index": 2,
        "text": "How many exotic animals did customs intercept last year, and what is being done about pet smuggling?",
    }
    assert "1,284 batches" in top["text"] and top["highlight"] in top["text"]
    assert (
        top["citation"]
        == "Wang Lin, SCIO press conference on port security and exotic species in 2024 (2025-02-10), turn 3"
    )


def test_ask_json_filters(fixture_index):
    wh = ask_json(fixture_index, "grid jobs", "--since", "2025-03-01", "-k", "20")["results"]
    assert wh and {r["briefing_id"] for r in wh} == {"2025-03-04-press-briefing-by-press-secretary-jane-roe"}
    roe = ask_json(fixture_index, "grid", "--speaker", "roe", "--mode", "bm25")["results"]
    assert roe and {r["speaker"] for r in roe} == {"Ms. Roe"}
    asked = ask_json(fixture_index, "value of goods", "--role", "reporter", "--outlet", "yicai")["results"]
    assert [(r["speaker"], r["turn_index"]) for r in asked] == [("Yicai.com", 6)]
    rrf = ask_json(fixture_index, "smart port Tianjin", "--fusion", "rrf", "-k", "2")["results"]
    assert rrf[0]["turn_index"] == 7


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mode", "fancy"], "'fancy' is not one of 'dense', 'bm25', 'hybrid'"),
        (["--fusion", "max"], "'max' is not one of 'weighted', 'rrf'"),
        (["--role", "minister"], "'minister' is not one of 'official', 'chair', 'reporter'"),
        (["--since", "March 2024"], "'March 2024' is not a date; write it as YYYY-MM-DD"),
        (["--since", "2025-03-01", "--until", "2025-01-01"], "since (2025-03-01) is after until (2025-01-01)"),
        (["-k", "0"], "Invalid value for '-k': Input should be greater than or equal to 1"),
    ],
)
def test_ask_bad_options_say_what_is_wrong(fixture_index, args, message):
    result = runner.invoke(app, ["ask", "anything", *args, "--index", str(fixture_index)])
    assert result.exit_code in (1, 2)
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output


def test_index_build_refuses_an_unknown_faiss_index_before_any_work(tmp_path):
    result = runner.invoke(
        app, ["index", "build", str(FIXTURES), "--out", str(tmp_path / "x"), "--faiss-index", "annoy"]
    )
    assert result.exit_code == 2 and "'annoy' is not one of 'auto', 'flat', 'hnsw', 'ivf'" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "x").exists()


def test_default_index_built_from_other_files_is_kept(tmp_path, monkeypatch):
    """A user who builds the default index from their own files keeps it: ask answers from it
    and never rebuilds it from corpus/."""
    monkeypatch.setenv("BRIEFQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BRIEFQA_CORPUS", str(tmp_path / "corpus"))
    (tmp_path / "corpus").mkdir()
    shutil.copy(SCIO_FIXTURE, tmp_path / "corpus")
    built = runner.invoke(app, ["index", "build", str(WH_FIXTURE), "--model", "hash"])
    assert built.exit_code == 0, built.output
    manifest = (tmp_path / "index" / "manifest.json").read_bytes()
    result = runner.invoke(app, ["ask", "grid jobs", "--json"])
    assert result.exit_code == 0, result.output
    assert {r["briefing_id"] for r in json.loads(result.stdout)["results"]} == {WH_FIXTURE.stem}
    assert (tmp_path / "index" / "manifest.json").read_bytes() == manifest


def test_default_index_is_rebuilt_when_its_corpus_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEFQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BRIEFQA_CORPUS", str(tmp_path / "corpus"))
    (tmp_path / "corpus").mkdir()
    transcript = tmp_path / "corpus" / SCIO_FIXTURE.name
    shutil.copy(SCIO_FIXTURE, transcript)
    assert runner.invoke(app, ["index", "build", str(tmp_path / "corpus"), "--model", "hash"]).exit_code == 0
    unchanged = runner.invoke(app, ["ask", "Tianjin smart port", "--json"])
    assert "Building the index" not in unchanged.output
    transcript.write_text(transcript.read_text().replace("85 billion yuan", "86 billion yuan"))
    changed = runner.invoke(app, ["ask", "Tianjin smart port", "--json"])
    assert changed.exit_code == 0, changed.output
    assert "Building the index" in changed.output and "1 file(s)" in changed.output
    assert any("86 billion yuan" in r["text"] for r in json.loads(changed.stdout)["results"])
    from briefqa.indexing.manifest import read_manifest

    assert read_manifest(tmp_path / "index").model.name == "hash"  # rebuilt as it was built


COGGED = ["docs/cli.md", "docs/how-it-works.md"]


@pytest.mark.parametrize("doc", COGGED)
def test_docs_written_from_the_code_are_current(doc):
    """docs/cli.md's command table and --help texts, and the numbers the code defines (cutoffs,
    weights, floors) in the docs, are written by cog from the code itself."""
    from cogapp import Cog

    assert "[[[cog" in (ROOT / doc).read_text()
    status = Cog().main(["cog", "--check", str(ROOT / doc)])
    assert status == 0, f"{doc} is stale: run `cog -r {doc}`"


def test_every_doc_written_by_cog_is_checked():
    found = sorted(str(p.relative_to(ROOT)) for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    assert [doc for doc in found if "[[[cog" in (ROOT / doc).read_text()] == sorted(COGGED)


@pytest.mark.model  # the rebuild cannot know the old index's options: it uses the packaged model
def test_default_index_of_an_older_format_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEFQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BRIEFQA_CORPUS", str(tmp_path / "corpus"))
    (tmp_path / "corpus").mkdir()
    shutil.copy(SCIO_FIXTURE, tmp_path / "corpus")
    assert runner.invoke(app, ["index", "build", str(tmp_path / "corpus"), "--model", "hash"]).exit_code == 0
    manifest = tmp_path / "index" / "manifest.json"
    from briefqa.indexing.layout import FORMAT_VERSION

    manifest.write_text(manifest.read_text().replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 1'))
    result = runner.invoke(app, ["ask", "Tianjin smart port", "--json"])
    assert result.exit_code == 0, result.output
    assert (
        "Building the index" in result.output and f"index format 1 is not the format {FORMAT_VERSION}" in result.output
    )


def test_briefings_reads_at_80_columns():
    result = runner.invoke(app, ["briefings", "--corpus", str(CORPUS)], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.output and max(len(line) for line in result.output.splitlines()) <= 80
    flat = " ".join(result.output.split())
    assert "SCIO briefing on China Customs' efforts to safeguard borders and advance Chinese modernization" in flat
    assert "30 turns; officials: Yu Jianhua, Sun Yuning, Zhao Zenglian" in flat


# --- what a reader sees: the answer first, one result per turn, formats ----------------------

QUESTION = "How many exotic animals did customs intercept at ports?"


def ask_output(index, *args):
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(index), *args], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_ask_text_answers_first_and_marks_the_answer_when_piped(fixture_index):
    out = ask_output(fixture_index, "-k", "3")
    lines = out.splitlines()
    assert lines[0] == "Answer"
    data = ask_json(fixture_index, QUESTION, "-k", "3")
    first = data["answer"][0]
    assert first["result"] == 1 and first["text"] in " ".join(data["results"][0]["text"].split())
    assert f"{first['text'].split()[0]}" in lines[1] and " [1]" in out.split("\n\n")[0]
    assert "[1] Wang Lin, vice minister of the General Administration of Customs of China" in out  # title
    assert "**" in out  # the answering sentence is marked without colour
    assert "briefqa show scio-2025-02-10-port-security --turn" in out
    # fits, nothing trailing; only the show command stays whole, to be pasted back
    assert all(len(line) <= 80 or line.lstrip().startswith("briefqa show") for line in lines)
    assert all(line == line.rstrip() for line in lines)
    turns = [(r["briefing_id"], r["turn_index"]) for r in data["results"]]
    assert len(turns) == len(set(turns)) == 3  # three different turns


def test_ask_markdown_gives_quote_blocks_to_paste(fixture_index):
    out = ask_output(fixture_index, "-k", "2", "--format", "markdown")
    data = ask_json(fixture_index, QUESTION, "-k", "2")
    top = data["results"][0]
    assert out.startswith(f"**Q:** {QUESTION}\n\n**A:** ")
    quote = " ".join(top["highlight"].split()).replace('"', "'")
    held = "10 February 2025"
    assert f'> **[1]** "{quote}" — {top["speaker"]}' in out
    assert f"{held} (turn {top['turn_index']})" in out


def test_ask_csv_has_one_row_per_result(fixture_index):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(ask_output(fixture_index, "-k", "3", "--format", "csv"))))
    data = ask_json(fixture_index, QUESTION, "-k", "3")
    assert [r["passage_id"] for r in rows] == [r["passage_id"] for r in data["results"]]
    assert rows[0]["text"] == data["results"][0]["text"]  # the transcript's text, as offsets refer to it
    assert rows[0]["speaker_title"] == (data["results"][0]["speaker_title"] or "")


def test_show_turn_with_context_reads_around_a_citation(fixture_index):
    result = runner.invoke(
        app,
        ["show", "scio-2025-02-10-port-security", "--turn", "3", "--context", "1", "--index", str(fixture_index)],
        terminal_width=80,
    )
    assert result.exit_code == 0, result.output
    labels = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert [label.split("]")[0] for label in labels] == ["[2", "[3", "[4"]
    assert labels[1].startswith("[3] Wang Lin, vice minister") and "◀" in result.stdout  # the turn asked for
    data = json.loads(
        runner.invoke(
            app, ["show", "scio-2025-02-10-port-security", "-t", "1", "--index", str(fixture_index), "--json"]
        ).stdout
    )
    assert [t["index"] for t in data["turns"]] == [1, 2, 3]
    bad = runner.invoke(app, ["show", "scio-2025-02-10-port-security", "-t", "99", "--index", str(fixture_index)])
    assert bad.exit_code == 1 and "--turn must be 1 to" in bad.output


# --- version, what an index holds, filters as options, the default index -------------------


def test_version_is_the_package_version():
    from importlib.metadata import version

    import briefqa

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"briefqa {briefqa.__version__}\n"
    assert briefqa.__version__ == version("briefqa")  # the version pyproject.toml gives the package


def test_briefings_of_an_index_are_the_briefings_of_its_transcripts(fixture_index):
    indexed = runner.invoke(app, ["briefings", "--index", str(fixture_index), "--json"])
    parsed = runner.invoke(app, ["briefings", "--corpus", str(FIXTURES), "--json"])
    assert indexed.exit_code == 0 and parsed.exit_code == 0, indexed.output + parsed.output
    rows = json.loads(indexed.stdout)
    assert rows == json.loads(parsed.stdout)
    assert [(r["id"], r["turn_count"]) for r in rows] == [(SCIO_FIXTURE.stem, 8), (WH_FIXTURE.stem, 9)]
    listed = runner.invoke(app, ["briefings", "-i", str(fixture_index)], terminal_width=80)
    assert listed.exit_code == 0 and "8 turns; officials: Wang Lin, Chen Hua" in listed.output
    both = runner.invoke(app, ["briefings", "-i", str(fixture_index), "-c", str(FIXTURES)])
    assert both.exit_code == 1 and "give --corpus or --index, not both" in both.output
    missing = runner.invoke(app, ["briefings", "-i", str(fixture_index.parent / "none")])
    assert missing.exit_code == 1 and "no index here" in missing.output


FIXTURE_SPEAKERS = [
    ("Ms. Roe", "official", 3, 1),
    ("Chen Hua", "official", 2, 1),
    ("Secretary Doe", "official", 2, 1),
    ("Wang Lin", "official", 2, 1),
    ("Liu Fang", "chair", 2, 1),
    ("Moderator", "chair", 1, 1),
    ("Reporter", "reporter", 3, 1),
    ("CCTV", "reporter", 1, 1),
    ("Yicai.com", "reporter", 1, 1),
]


def test_speakers_lists_each_name_with_role_turns_and_briefings(fixture_index):
    result = runner.invoke(app, ["speakers", "--index", str(fixture_index), "--json"])
    assert result.exit_code == 0, result.output
    found = [(s["name"], s["role"], s["turns"], s["briefings"]) for s in json.loads(result.stdout)]
    assert found == FIXTURE_SPEAKERS
    reporters = runner.invoke(app, ["speakers", "-i", str(fixture_index), "--role", "reporter"])
    assert reporters.exit_code == 0, reporters.output
    assert reporters.stdout.splitlines() == [
        " turns  briefings  role      name",
        "     3          1  reporter  Reporter",
        "     1          1  reporter  CCTV",
        "     1          1  reporter  Yicai.com",
    ]
    bad = runner.invoke(app, ["speakers", "-i", str(fixture_index), "--role", "minister"])
    assert bad.exit_code == 2 and "'minister' is not one of 'official', 'chair', 'reporter'" in bad.output


def test_every_name_listed_is_a_value_the_filters_find(fixture_index):
    """What `speakers` lists is what --speaker (any name) and --outlet (a reporter's) find: each
    name keeps exactly its own turns."""
    from briefqa.options import Filters
    from briefqa.searching.index import load_index

    index = load_index(fixture_index)
    for s in index.speakers():
        kept = [p for p, keep in zip(index.passages, index.content.allowed_rows(Filters(speaker=s.name))) if keep]
        assert {p.speaker for p in kept} == {s.name}
        assert len({(p.briefing_id, p.turn_index) for p in kept if p.role == s.role}) == s.turns
        if s.role == "reporter":
            asked = [p for p, keep in zip(index.passages, index.content.allowed_rows(Filters(outlet=s.name))) if keep]
            assert {p.speaker for p in asked if p.role == "reporter"} == {s.name}
            assert {p.question_outlet for p in asked if p.role != "reporter"} <= {s.name}
    assert [s.name for s in index.speakers("chair")] == ["Liu Fang", "Moderator"]


def test_ask_has_an_option_per_filter_with_the_fields_description():
    from typer.main import get_command

    from briefqa.options import Filters

    options = {p.name: p for p in get_command(app).commands["ask"].params}
    for name, field in Filters.model_fields.items():
        assert options[name].opts == [f"--{name.replace('_', '-')}"] and options[name].help == field.description
    assert [options[n].metavar for n in ("speaker", "outlet", "briefing", "since")] == [
        "NAME",
        "NAME",
        "ID",
        "YYYY-MM-DD",
    ]


def test_the_speaker_help_says_how_names_match():
    """The examples the help gives are what the filter does: from the start of a word."""
    from briefqa.indexing.content import name_matches
    from briefqa.options import Filters

    assert "from the start of a word" in Filters.model_fields["speaker"].description
    assert "'li', 'kui' or 'li kui' finds Li Kuiwen; 'wen' does not" in Filters.model_fields["speaker"].description
    assert all(name_matches(query, "Li Kuiwen") for query in ("li", "kui", "li kui", "LI KUI"))
    assert not name_matches("wen", "Li Kuiwen")


def test_a_field_added_to_filters_is_an_option_with_its_description(monkeypatch):
    import typer
    from pydantic import Field

    import briefqa.options
    from briefqa.cli import filter_options

    class MoreFilters(briefqa.options.Filters):
        topic_words: str | None = Field(default=None, description="Only passages on this topic.")

    monkeypatch.setattr(briefqa.options, "Filters", MoreFilters)
    received = []
    command_app = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)

    @command_app.command()
    @filter_options
    def search(words: str, filters=None, k: int = 5) -> None:
        """Search."""
        received.append((words, filters, k))

    helped = runner.invoke(command_app, ["--help"], terminal_width=200)
    assert "--topic-words TOPIC_WORDS" in helped.output and "Only passages on this topic." in helped.output
    assert "--since YYYY-MM-DD" in helped.output
    result = runner.invoke(command_app, ["pets", "--topic-words", "ports", "--role", "chair", "--k", "2"])
    assert result.exit_code == 0, result.output
    ((words, filters, k),) = received
    assert (words, k) == ("pets", 2) and filters == MoreFilters(topic_words="ports", role="chair")
    refused = runner.invoke(command_app, ["pets", "--since", "2025-03-01", "--until", "2025-01-01"])
    assert refused.exit_code == 1 and "since (2025-03-01) is after until (2025-01-01)" in refused.output


def test_open_index_builds_the_default_index_in_one_call(tmp_path, monkeypatch):
    import briefqa
    from briefqa.indexing.manifest import IndexLoadError

    monkeypatch.setenv("BRIEFQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BRIEFQA_CORPUS", str(tmp_path / "corpus"))
    (tmp_path / "corpus").mkdir()
    transcript = tmp_path / "corpus" / SCIO_FIXTURE.name
    shutil.copy(SCIO_FIXTURE, transcript)
    assert runner.invoke(app, ["index", "build", str(tmp_path / "corpus"), "--model", "hash"]).exit_code == 0
    said, stages = [], set()
    briefqa.open_index(notify=said.append)
    assert said == []  # fresh: loaded as it is
    transcript.write_text(transcript.read_text().replace("85 billion yuan", "86 billion yuan"))
    (tmp_path / "corpus" / "empty.txt").write_text("")
    index = briefqa.open_index(notify=said.append, progress=lambda stage, done, total: stages.add(stage))
    corpus, out = tmp_path / "corpus", tmp_path / "index"
    assert said == [
        f"Building the index in {out}/ from {corpus}/ (2 file(s) in {corpus} changed)...",
        f"Skipped 1 file(s):\n  {corpus / 'empty.txt'}: the file is empty; remove it or put a transcript in it",
    ]
    assert "Embedding passages and sentences" in stages and index.path == out
    assert any("86 billion yuan" in p.text for p in index.passages)
    with pytest.raises(IndexLoadError, match="no index here"):  # an index named is never built
        briefqa.open_index(tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_no_answer_is_said_plainly_and_the_nearest_passages_still_shown(fixture_index):
    question = "Who won the 2018 football World Cup?"
    result = runner.invoke(app, ["ask", question, "--index", str(fixture_index), "-k", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("No answer here: nothing in ")
    assert "The nearest passages, not an answer:" in result.output and "[1] " in result.output
    assert "Answer\n" not in result.output
    data = ask_json(fixture_index, question, "-k", "2")
    assert data["good_match"] is False and data["no_answer"].startswith("No answer here")
    assert data["answer"] == [] and len(data["results"]) == 2
    markdown = runner.invoke(app, ["ask", question, "--index", str(fixture_index), "--format", "markdown"]).output
    assert "**No answer here: nothing in the index answers this question.** The nearest passages" in markdown
    assert "> **[1]**" in markdown
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["ask", question, "--index", str(fixture_index),
                                                               "--format", "csv"]).output)))  # fmt: skip
    assert rows and {row["is_answer"] for row in rows} == {"no"}
    answered = ask_json(fixture_index, "exotic animals intercepted at ports", "-k", "3")
    assert answered["no_answer"] is None
