"""The timeline (briefqa.searching.timeline): matching turns counted per month or ISO week and
split by speaker, role or collection; `briefqa timeline` (its table, --json and --plot) and the web
app's /timeline page and /api/timeline."""

import json
import re
from datetime import date
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from briefqa.cli import app as cli
from briefqa.searching.index import load_index
from briefqa.searching.timeline import UNDATED, timeline, timeline_of
from tests.conftest import HASH

QUESTION = "How many exotic animals did customs intercept?"
SCIO = "scio-2025-02-10-port-security"
WH = "2025-03-04-press-briefing-by-press-secretary-jane-roe"


def turn(briefing, index, held_on, speaker="Wang Lin", role="official", name=None, collection="scio"):
    return SimpleNamespace(
        briefing_id=briefing,
        turn_index=index,
        held_on=held_on,
        speaker=speaker,
        speaker_name=name,
        role=role,
        collection=collection,
    )


RESULTS = [
    turn("a", 1, date(2023, 1, 31)),
    turn("a", 2, date(2023, 1, 31), speaker="CCTV", role="reporter"),
    turn("a", 2, date(2023, 1, 31), speaker="CCTV", role="reporter"),  # the same turn twice: counted once
    turn("b", 4, date(2023, 3, 1), speaker="PM", name="Li Qiang", collection="wh"),
    turn("c", 1, None, speaker="CCTV", role="reporter"),
]


def test_months_run_without_gaps_and_undated_turns_are_counted_apart():
    made = timeline(RESULTS, by="month", split="speaker")
    assert [p.label for p in made.periods] == ["2023-01", "2023-02", "2023-03"]
    assert [(p.first_day, p.last_day) for p in made.periods] == [
        (date(2023, 1, 1), date(2023, 1, 31)),
        (date(2023, 2, 1), date(2023, 2, 28)),
        (date(2023, 3, 1), date(2023, 3, 31)),
    ]
    assert [p.counts for p in made.periods] == [{"Wang Lin": 1, "CCTV": 1}, {}, {"Li Qiang": 1}]  # the full name
    assert made.undated is not None and made.undated.label == UNDATED and made.undated.counts == {"CCTV": 1}
    assert made.turns == 4 and made.groups == ["CCTV", "Li Qiang", "Wang Lin"]
    assert made.totals() == {"CCTV": 2, "Li Qiang": 1, "Wang Lin": 1}
    assert [(t.briefing_id, t.turn_index) for t in made.periods[0].turns["CCTV"]] == [("a", 2)]


def test_weeks_start_on_monday_and_split_by_role_or_collection():
    made = timeline(RESULTS, by="week", split="role")
    first, last = made.periods[0], made.periods[-1]
    assert first.label == "2023-W05" and first.first_day == date(2023, 1, 30) and first.last_day == date(2023, 2, 5)
    assert last.label == "2023-W09" and last.first_day == date(2023, 2, 27)  # Wednesday 1 March's week
    assert len(made.periods) == 5 and all(not p.counts for p in made.periods[1:-1])
    assert first.counts == {"official": 1, "reporter": 1} and last.counts == {"official": 1}
    assert timeline(RESULTS, split="collection").groups == ["scio", "wh"]
    across = timeline([turn("a", 1, date(2020, 12, 31)), turn("b", 1, date(2021, 1, 4))], by="week")
    assert [p.label for p in across.periods] == ["2020-W53", "2021-W01"]  # ISO years
    assert timeline([]).periods == [] and timeline([]).turns == 0
    with pytest.raises(ValueError, match="month or week"):
        timeline(RESULTS, by="day")  # type: ignore[arg-type]


def test_timeline_of_counts_the_turns_a_search_returns(fixture_index):
    idx = load_index(fixture_index)
    made = timeline_of(idx, QUESTION, k=30, by="month", split="role")
    results = idx.search(QUESTION, k=30)
    assert made.turns == len(results) and made.k == 30 and made.question == QUESTION
    assert [p.label for p in made.periods] == ["2025-02", "2025-03"]
    behind = {(t.briefing_id, t.turn_index) for p in made.periods for refs in p.turns.values() for t in refs}
    assert behind == {(r.briefing_id, r.turn_index) for r in results}


# --- the CLI ---------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, ["timeline", *args])


def test_the_cli_prints_a_table_and_json(fixture_index):
    ran = run(QUESTION, "--index", str(fixture_index), "-k", "20", "--split", "role")
    assert ran.exit_code == 0, ran.output
    assert "2025-02" in ran.stdout and "2025-03" in ran.stdout and "official" in ran.stdout
    assert re.search(r"the \d+ turns that match best \(-k 20\)", ran.stdout)
    as_json = run(QUESTION, "--index", str(fixture_index), "-k", "20", "--by", "week", "--json", "--speaker", "wang")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["by"] == "week" and data["groups"] == ["Wang Lin"] and data["periods"][0]["label"] == "2025-W07"


def test_plot_writes_svg_and_png_and_refuses_other_suffixes(fixture_index, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs the plot extra: pip install -e '.[plot]'")
    for name, start in (("chart.svg", (b"<?xml", b"<svg")), ("chart.PNG", (b"\x89PNG\r\n\x1a\n",))):
        ran = run(QUESTION, "--index", str(fixture_index), "--plot", str(tmp_path / name))
        assert ran.exit_code == 0, ran.output
        assert (tmp_path / name).read_bytes().startswith(start)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    bad = run(QUESTION, "--index", str(fixture_index), "--plot", str(tmp_path / "chart.pdf"))
    assert bad.exit_code == 1 and "written as .svg or .png" in bad.output and not (tmp_path / "chart.pdf").exists()


def test_plot_without_matplotlib_says_how_to_install_it(fixture_index, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # importing it raises ImportError
    ran = run(QUESTION, "--index", str(fixture_index), "--plot", str(tmp_path / "chart.svg"))
    assert ran.exit_code == 1 and "pip install 'briefqa[plot]'" in ran.output


# --- the web app ---------------------------------------------------------------------------------


@pytest.fixture()
def client(fixture_index):
    pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
    from starlette.testclient import TestClient

    from briefqa.web.app import create_app

    return TestClient(create_app(fixture_index), base_url="http://localhost")


def bars(html: str) -> list[tuple[str, str]]:
    """(link, rect) of each bar segment."""
    return [(unescape(a), r) for a, r in re.findall(r'<a href="([^"]+)"><rect class="bar"([^>]*)>', html)]


def test_the_timeline_page_draws_a_segment_per_period_and_group(client):
    page = client.get("/timeline", params={"q": QUESTION, "k": "30", "by": "week", "split": "role"})
    assert page.status_code == 200
    made = client.get("/api/timeline", params={"q": QUESTION, "k": "30", "by": "week", "split": "role"}).json()
    cells = [(p, g) for p in made["periods"] for g, n in p["counts"].items() if n]
    segments = bars(page.text)
    assert len(segments) == len(cells) == 6 and len(made["periods"]) == 4  # two empty weeks between
    for (link, _), (period, group) in zip(segments, cells):
        assert link.startswith("/timeline?") and link.endswith("#turns")
        assert f"period={period['label']}" in link and f"group={group}" in link
    assert "<table" in page.text and "2025-W08" in page.text  # the counts, the empty week included
    # Each segment leads to exactly the turns it counts, as result cards.
    results = client.get("/api/ask", params={"q": QUESTION, "k": "30"}).json()["results"]
    rank_of = {(r["briefing_id"], r["turn_index"]): r["rank"] for r in results}
    for (link, _), (period, group) in zip(segments, cells):
        followed = client.get(link.split("#")[0])
        assert followed.status_code == 200
        shown = sorted(int(n) for n in re.findall(r'<article class="box card" id="result-(\d+)"', followed.text))
        counted = sorted(rank_of[t["briefing_id"], t["turn_index"]] for t in period["turns"][group])
        assert shown == counted and len(shown) == period["counts"][group]
    wrong = client.get("/timeline", params={"q": QUESTION, "k": "30", "period": "1999-01", "group": "official"})
    assert wrong.status_code == 200 and "No turn of this timeline" in wrong.text


def test_the_api_equals_the_library(client, fixture_index):
    api = client.get("/api/timeline", params={"q": QUESTION, "speaker": "wang", "split": "speaker"}).json()
    from briefqa.options import Filters, SearchOptions

    options = SearchOptions(filters=Filters(speaker="wang"))
    expected = timeline_of(load_index(fixture_index), QUESTION, k=100, options=options, split="speaker")
    assert api == expected.model_dump(mode="json")
    assert client.get("/api/timeline", params={"q": QUESTION, "by": "day"}).status_code == 400
    assert client.get("/api/timeline").status_code == 400
    nothing = client.get("/timeline", params={"q": QUESTION, "since": "2030-01-01"})
    assert nothing.status_code == 200 and "Nothing matches" in nothing.text and not bars(nothing.text)


def test_search_results_link_to_their_timeline(client):
    html = client.get("/", params={"q": QUESTION}).text
    link = unescape(re.search(r'<a href="(/timeline\?[^"]+)">See when this came up</a>', html)[1])
    assert "q=How+many+exotic" in link and client.get(link).status_code == 200
    assert '<a href="/timeline">Timeline</a>' in client.get("/").text


def test_hostile_labels_are_escaped(tmp_path):
    pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")
    from starlette.testclient import TestClient

    from briefqa.indexing.build import build_index
    from briefqa.web.app import create_app
    from tests.test_web import HOSTILE, IMG, SCRIPT

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (folder / "briefqa.toml").write_text(f"collection = '{IMG}'\n", encoding="utf-8")
    build_index([folder], tmp_path / "index", HASH)
    client = TestClient(create_app(Path(tmp_path / "index")), base_url="http://localhost")
    page = client.get("/timeline", params={"q": "exotic animals", "split": "collection"})
    assert page.status_code == 200
    assert IMG not in page.text and SCRIPT not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert page.text.count("<script") == 1 and len(bars(page.text)) == 1
