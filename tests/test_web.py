"""`briefqa serve`'s web app (briefqa.web): pages, filters, "No answer here", turn links, the JSON
API against `ask --json`, escaping of hostile transcripts, and its refusals (404, 405, 400)."""

import json
import re
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra: pip install -e '.[web]'")

from starlette.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from briefqa.cli import app as cli  # noqa: E402
from briefqa.indexing.build import build_index  # noqa: E402
from briefqa.web.app import create_app  # noqa: E402
from tests.conftest import HASH  # noqa: E402

QUESTION = "How many exotic animals did customs intercept?"
SCIO = "scio-2025-02-10-port-security"
WH = "2025-03-04-press-briefing-by-press-secretary-jane-roe"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
URL = 'https://example.org/"><script>alert(2)</script>'  # the library takes only http(s) addresses
HOSTILE = f"""Home   >   Press Room
SCIO press conference on port security {SCRIPT}
china.org.cn | February 14, 2025
Speakers:
Mr. Wang Lin, vice minister of the General Administration of Customs of China (GACC)
Date:
February 10, 2025
CCTV:
How many exotic animals did customs intercept at ports last year? {IMG}
Wang Lin:
Customs intercepted 1,284 batches of exotic animals at ports. {SCRIPT} {IMG} Exotic pets are a threat.
"""


@pytest.fixture()
def client(fixture_index) -> TestClient:
    return TestClient(create_app(fixture_index), base_url="http://localhost")


def result_links(html: str) -> list[str]:
    return [unescape(link) for link in re.findall(r'href="(/briefings/[^"]+)"', html)]


def test_the_search_page_gives_the_answer_then_quote_cards(client):
    page = client.get("/", params={"q": QUESTION})
    assert page.status_code == 200
    html = page.text
    assert 'aria-label="Answer"' in html and "No answer here" not in html
    assert "1,284 batches of exotic animals" in html
    assert html.index("Answer") < html.index('id="result-1"')
    assert "Wang Lin, vice minister of the General Administration of Customs" in html  # speaker with title
    assert "10 February 2025" in html and "Copy as citation" in html and "Copy as Markdown" in html
    assert "Q (CCTV): How many exotic animals" in html  # the question an answer responds to


def test_the_empty_search_page_is_a_form(client):
    page = client.get("/")
    assert page.status_code == 200 and '<input name="q"' in page.text and "result-1" not in page.text


def test_filters_narrow_the_results(client):
    everything = client.get("/api/ask", params={"q": "the", "k": 10}).json()["results"]
    assert {r["briefing_id"] for r in everything} == {SCIO, WH}
    one = client.get("/api/ask", params={"q": "the", "k": 10, "briefing": WH}).json()["results"]
    assert one and {r["briefing_id"] for r in one} == {WH}
    html = client.get("/", params={"q": "the", "k": 10, "speaker": "chen"}).text
    assert {link.split("?")[0] for link in result_links(html) if "#turn-" in link} == {f"/briefings/{SCIO}"}
    assert "Chen Hua" in html and "Jane Roe" not in html.split('id="result-1"')[1]
    nothing = client.get("/", params={"q": "the", "since": "2030-01-01"})
    assert nothing.status_code == 200 and "Nothing matches" in nothing.text


def test_no_answer_here_is_said_plainly(client):
    html = client.get("/", params={"q": "Who won the 2018 football World Cup?"}).text
    assert "No answer here" in html and "The nearest passages, not an answer" in html
    assert 'aria-label="Answer"' not in html
    data = client.get("/api/ask", params={"q": "Who won the 2018 football World Cup?"}).json()
    assert data["good_match"] is False and data["no_answer"]


def test_a_result_links_to_its_turn_and_the_turn_is_highlighted(client):
    html = client.get("/", params={"q": QUESTION}).text
    link = next(link for link in result_links(html) if "#turn-" in link)
    path, turn = link.split("#")
    assert re.fullmatch(r"/briefings/[^?]+\?hl=\d+-\d+", path) and re.fullmatch(r"turn-\d+", turn)
    page = client.get(path)
    assert page.status_code == 200 and f'id="{turn}"' in page.text
    marked = re.search(r"<mark>(.*?)</mark>", page.text, re.S)
    assert marked and marked[1].strip() in html  # the result's answering sentence
    plain = client.get(path.split("?")[0]).text
    assert f'id="{turn}"' in plain and "<mark>" not in plain


def test_the_api_mirrors_ask_json(client, fixture_index):
    params = {"q": QUESTION, "k": "3", "speaker": "wang"}
    api = client.get("/api/ask", params=params).json()
    ran = CliRunner().invoke(
        cli, ["ask", QUESTION, "-k", "3", "--speaker", "wang", "--index", str(fixture_index), "--json"]
    )
    assert ran.exit_code == 0, ran.output
    expected = json.loads(ran.stdout)
    assert api.keys() == expected.keys()
    assert [r["passage_id"] for r in api["results"]] == [r["passage_id"] for r in expected["results"]]
    assert api["answer"] == expected["answer"] and api["good_match"] == expected["good_match"]


def test_each_page_has_its_data_one_request_away(client, fixture_index):
    briefing = client.get(f"/api/briefings/{SCIO}").json()
    shown = CliRunner().invoke(cli, ["show", SCIO, "--index", str(fixture_index), "--json"])
    assert briefing == json.loads(shown.stdout) and len(briefing["turns"]) == 8
    assert {b["id"] for b in client.get("/api/briefings").json()} == {SCIO, WH}
    assert client.get("/briefings").status_code == 200


def test_refusals(client):
    assert client.get("/briefings/no-such-briefing").status_code == 404
    assert client.get("/api/briefings/no-such-briefing").status_code == 404
    assert client.get("/briefings/..%2F..%2Fetc%2Fpasswd").status_code == 404  # an id, never a path
    for path in ("/", "/api/ask", f"/briefings/{SCIO}"):
        assert client.post(path).status_code == 405
    bad = client.get("/", params={"q": QUESTION, "since": "2023-13-01"})
    assert bad.status_code == 400 and "is not a date; write it as YYYY-MM-DD" in bad.text
    api = client.get("/api/ask", params={"q": QUESTION, "until": "yesterday"})
    assert api.status_code == 400 and "until" in api.json()["error"]
    assert client.get("/api/ask").status_code == 400  # no question
    assert client.get("/api/ask", params={"q": QUESTION, "role": "king"}).status_code == 400
    assert client.get("/api/ask", params={"q": QUESTION, "k": "0"}).status_code == 400
    for k in ("²", "9" * 5000):  # a digit int() refuses, and more digits than it converts
        assert client.get("/api/ask", params={"q": QUESTION, "k": k}).status_code == 400
    assert (
        "since (2024-01-01) is after until"
        in client.get("/api/ask", params={"q": QUESTION, "since": "2024-01-01", "until": "2023-01-01"}).json()["error"]
    )
    assert client.get(f"/briefings/{SCIO}", params={"hl": "9-3"}).status_code == 400
    assert client.get(f"/briefings/{SCIO}", params={"hl": "1-" + "9" * 5000}).status_code == 400


def test_pages_run_no_script_but_their_own(client):
    page = client.get("/", params={"q": QUESTION})
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)[1]
    assert "default-src 'none'" in policy and f'<script nonce="{nonce}">' in page.text


@pytest.fixture()
def hostile(tmp_path) -> TestClient:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (folder / "briefqa.toml").write_text(f"source_url = '{URL}'\n", encoding="utf-8")
    build_index([folder], tmp_path / "index", HASH)
    return TestClient(create_app(Path(tmp_path / "index")), base_url="http://localhost")


def test_hostile_text_is_escaped_everywhere(hostile):
    pages = [
        hostile.get("/", params={"q": "exotic animals intercepted at ports"}),
        hostile.get("/briefings/hostile", params={"hl": "0-5000"}),
        hostile.get("/briefings/hostile"),
        hostile.get("/briefings"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.text
        assert SCRIPT not in html and IMG not in html and "<img" not in html
        assert "alert(2)</script>" not in html
        assert html.count("<script") == 1  # the page's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[2].text
    api = hostile.get("/api/briefings/hostile")
    assert api.headers["content-type"].startswith("application/json") and SCRIPT in json.dumps(api.json())


def test_serve_runs_the_app_on_localhost(fixture_index, monkeypatch):
    import uvicorn

    ran = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(app=app, **options))
    result = CliRunner().invoke(cli, ["serve", "--index", str(fixture_index), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert ran["host"] == "127.0.0.1" and ran["port"] == 8123
    assert TestClient(ran["app"], base_url="http://localhost").get("/api/briefings").status_code == 200
    assert TestClient(ran["app"], base_url="http://attacker.example").get("/api/briefings").status_code == 400


def test_serve_without_the_web_extra_says_how_to_install_it(fixture_index, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # importing it raises ImportError
    result = CliRunner().invoke(cli, ["serve", "--index", str(fixture_index)])
    assert result.exit_code == 1 and "pip install 'briefqa[web]'" in result.output


def test_a_request_addressed_to_another_host_is_refused(fixture_index):
    """DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 reads nothing."""
    rebound = TestClient(create_app(fixture_index), base_url="http://attacker.example")
    assert rebound.get("/api/briefings").status_code == 400
    assert TestClient(create_app(fixture_index), base_url="http://127.0.0.1:8000").get("/").status_code == 200
    served_to_all = TestClient(create_app(fixture_index, hosts=["*"]), base_url="http://attacker.example")
    assert served_to_all.get("/api/briefings").status_code == 200


def test_a_hard_wrapped_turn_reads_as_flowing_paragraphs_with_its_highlight_in_place(client):
    """The archive wraps its lines at ~70 characters; a phone wraps them again. A line break inside
    a paragraph is shown as a space, a paragraph's end is kept, and the highlight's offsets hold."""
    turn = next(t for t in client.get(f"/api/briefings/{WH}").json()["turns"] if "grid grants" not in t["text"]
                and "modernize the electric grid" in t["text"])  # fmt: skip
    assert "announcing\n$3 billion" in turn["text"]  # as the transcript has it
    start = turn["char_start"] + turn["text"].index("Today")
    end = turn["char_start"] + turn["text"].index("states.") + len("states.")
    page = client.get(f"/briefings/{WH}", params={"hl": f"{start}-{end}"}).text
    assert (
        "<mark>Today the President is announcing $3 billion to modernize the electric grid in forty states.</mark>"
        in page
    )
    assert "announcing\n$3 billion" not in page
