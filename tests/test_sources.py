"""An archive of many sources: people found by the names the transcripts give them, a filter per
source, source URLs in every output, a folder's briefqa.toml, and `briefqa inspect`."""

import csv
import io
import json
import shutil
from datetime import date

import pytest
from typer.testing import CliRunner

from briefqa.cli import app
from briefqa.indexing.build import build_index
from briefqa.output.render import to_csv, to_markdown
from briefqa.reading.corpus import load_corpus
from briefqa.searching.index import load_index
from tests.conftest import FIXTURES, HASH, SCIO_FIXTURE, WH_FIXTURE

runner = CliRunner()


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory):
    """The SCIO and White House fixtures indexed from their own folders: two collections."""
    out = tmp_path_factory.mktemp("two-sources") / "index"
    build_index([FIXTURES / "scio", FIXTURES / "whitehouse"], out, HASH)
    return load_index(out)


def test_a_label_is_found_by_the_full_name_the_title_gives(two_sources):
    # 'Press Briefing by Press Secretary Jane Roe ...': her turns are labelled 'Ms. Roe'.
    for name in ("jane roe", "Jane", "roe"):
        results = two_sources.search("heating oil reserve", k=5, mode="bm25", speaker=name)
        assert results and {r.speaker for r in results} == {"Ms. Roe"}
        assert {r.speaker_name for r in results} == {"Jane Roe"}
        assert {r.speaker_title for r in results} == {"Press Secretary"}
    assert not two_sources.search("heating oil reserve", k=5, mode="bm25", speaker="jan roex")


def test_collection_filter_picks_one_source(two_sources):
    collections = {r.collection for r in two_sources.search("the", k=20, mode="bm25")}
    assert collections == {"scio", "whitehouse"}
    only = two_sources.search("the", k=20, mode="bm25", collection="white")
    assert only and {r.collection for r in only} == {"whitehouse"}


def test_source_url_reaches_every_output(two_sources):
    (top,) = two_sources.search("heating oil reserve", k=1, mode="bm25", briefing=WH_FIXTURE.stem)
    url = "https://example.org/briefing-room/2025/03/04/press-briefing/"
    assert top.source_url == url
    assert f"(<{url}>)" in to_markdown("q", [top], True)
    (row,) = csv.DictReader(io.StringIO(to_csv([top])))
    assert row["source_url"] == url and row["collection"] == "whitehouse"
    assert not two_sources.search("exotic species", k=1, mode="bm25", briefing=SCIO_FIXTURE.stem)[0].source_url


def test_ask_prints_the_source_url(tmp_path):
    out = tmp_path / "index"
    build_index([FIXTURES / "whitehouse"], out, HASH)
    result = runner.invoke(app, ["ask", "heating oil reserve", "--index", str(out), "-k", "1", "--role", "official"])
    assert result.exit_code == 0, result.output
    assert "https://example.org/briefing-room/2025/03/04/press-briefing/" in result.output
    assert "Ms. Roe (Jane Roe), Press Secretary" in result.output


TRANSCRIPT = """Weekly briefing of the Port Authority

CONDUCTOR-- Good morning. The director will speak first.
DIRECTOR ANA RUIZ-- We moved 3 million containers this quarter, a record for the port.
PRENSA-- Will the new terminal open on time?
DIRECTOR ANA RUIZ-- Yes, the terminal opens in June as planned.
Página 2
"""


def test_a_folder_briefqa_toml_describes_a_layout_names_a_collection_and_a_year(tmp_path):
    folder = tmp_path / "port"
    folder.mkdir()
    (folder / "3_12-briefing.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "briefqa.toml").write_text(
        'collection = "Port Authority"\nyear = 2024\n\n[layout]\nname = "port"\n'
        "label_pattern = '^(?P<label>[A-Z][A-Z .]+)--'\n"
        'reporter_labels = ["PRENSA"]\nchair_labels = ["CONDUCTOR"]\n'
        "furniture = ['^Página \\\\d+']\n",
        encoding="utf-8",
    )
    (b,) = load_corpus([folder]).briefings
    assert b.collection == "Port Authority" and b.held_on == date(2024, 3, 12)
    assert [(t.speaker, t.role) for t in b.turns] == [
        ("Conductor", "chair"),
        ("Director Ana Ruiz", "official"),
        ("Reporter", "reporter"),
        ("Director Ana Ruiz", "official"),
    ]
    assert b.turns[3].answers_turn == 3 and "Página" not in b.turns[3].text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("year = 'soon'\n", "year"),
        ("colour = 'blue'\n", "colour"),
        ("[layout]\nlabel_pattern = '^(?P<name>.+):'\n", "label"),
        ("[layout]\nlabel_pattern = '^(unclosed'\n", "not a regular expression"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_a_bad_briefqa_toml_skips_its_transcripts_naming_the_file(tmp_path, content, message):
    shutil.copy(SCIO_FIXTURE, tmp_path / SCIO_FIXTURE.name)
    (tmp_path / "briefqa.toml").write_text(content, encoding="utf-8")
    corpus = load_corpus([tmp_path])
    assert not corpus.briefings
    (skipped,) = corpus.skipped
    assert skipped.path.endswith("briefqa.toml") and message in skipped.reason


def test_inspect_accounts_for_every_character(tmp_path):
    result = runner.invoke(app, ["inspect", str(SCIO_FIXTURE), str(WH_FIXTURE), "--json"])
    assert result.exit_code == 0, result.output
    scio, wh = json.loads(result.stdout)
    assert wh["reader"] == "whitehouse 4" and wh["date_from"] == "front matter (date)"
    assert wh["source_url"].startswith("https://example.org/")
    for inspection in (scio, wh):
        a = inspection["accounting"]
        assert (
            a["in_turns"] + a["labels"] + a["metadata"] + a["furniture"] + a["not_read"] + a["whitespace"]
            == (a["total"])
        )
    bad = tmp_path / "prose.txt"
    bad.write_text("Just prose.\nNo speakers.\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 1 and "no speaker labels" in result.output


def test_inspect_shows_a_general_transcript_as_read():
    shapes = FIXTURES.parent / "transcripts" / "shapes"
    result = runner.invoke(app, ["inspect", str(shapes / "initials-from-title.txt")])
    assert result.exit_code == 0, result.output
    assert "PM = Jane Roe, Prime Minister" in result.output
    assert "GE = Gil Evans, Treasurer" in result.output
    assert "E&OE" in result.output and "0 not read" in result.output


def test_a_changed_reader_replaces_only_the_transcripts_it_reads(tmp_path, monkeypatch):
    from briefqa.reading.formats import general

    shapes = FIXTURES.parent / "transcripts" / "shapes"
    for source in (SCIO_FIXTURE, WH_FIXTURE, shapes / "initials-from-title.txt"):
        shutil.copy(source, tmp_path / source.name)
    out = tmp_path / "index"
    build_index([tmp_path], out, HASH)
    monkeypatch.setattr(general, "VERSION", general.VERSION + 1)
    report = build_index([tmp_path], out, HASH)
    assert report.replaced == ["initials-from-title"]
    assert sorted(report.unchanged) == sorted([SCIO_FIXTURE.stem, WH_FIXTURE.stem])
    assert report.embedded == 0  # the general transcript's passages read the same: their vectors reused


def test_a_spanish_transcript_is_searched_by_its_own_words(tmp_path):
    """A Spanish briefing: its language detected, its words stemmed as Spanish ('registrarán' finds
    'registrarse'), its official named with her position, the reporters' questions linked."""
    shapes = FIXTURES.parent / "transcripts" / "shapes"
    out = tmp_path / "index"
    build_index([shapes / "es-role-comma-name.txt", WH_FIXTURE], out, HASH)
    index = load_index(out)
    briefing = index.briefing("es-role-comma-name")
    assert briefing is not None and briefing.language == "es"
    (top,) = index.search("¿cuándo se registrarán las empresas?", k=1, mode="bm25")
    assert top.speaker == "Luis Prieto"
    assert "registrarse" in top.text and top.speaker_title == "Subsecretario de Comercio Exterior"
    answer = index.search("cuántas empresas espera", k=1, mode="bm25", role="official")[0]
    assert answer.question is not None and "empresas" in answer.question.text
