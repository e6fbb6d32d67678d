"""Text from a transcript, or a file's name, is data (issue 19): a hostile transcript's escape
sequences never reach the terminal, its formulas never run in a spreadsheet, and the commands
briefqa prints run only the command they name when pasted into a shell."""

import csv
import io
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from briefqa.cli import app
from briefqa.terminal_text import command, printable

runner = CliRunner()

ESC = "\x1b"
CLEAR = f"{ESC}[2J"
TITLE = f"{ESC}]0;PWNED window title\x07"
LINK = f"{ESC}]8;;https://evil.example/{ESC}\\here{ESC}]8;;{ESC}\\"
CLIPBOARD = f"{ESC}]52;c;dG91Y2ggUFdORUQ=\x07"
C1_CSI = "\x9b31m"
BIDI = "\u202e"
# Any control character a terminal acts on, but newline and tab; and the bidi controls.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# A file that a shell command line could run something from, were its name pasted unquoted.
SHELL_NAME = "olympics;touch PWNED;#"
HOSTILE = f"""Home   >   Press Room
=HYPERLINK("https://evil.example","SCIO press conference") on the olympics{CLEAR}{TITLE}
china.org.cn | August 20, 2024
Speakers:
Mr. Wang Lin, vice minister {LINK}of the General Administration of Sport
Chairperson:
Ms. Liu Fang, spokesperson of the SCIO{CLIPBOARD}
Date:
August 19, 2024
Liu Fang:
Good morning. The floor is open for questions about the olympics medals.
CCTV:
+cmd|' /C calc'!A0 How many olympics medals did athletes win{C1_CSI} this summer?{CLIPBOARD}
Wang Lin:
-2+3 athletes won olympics medals: 40 gold medals in all.{CLEAR} The bell\x07 rang {BIDI}for the medals.{TITLE}
Xinhua:
@SUM(A1:A2) What about swimming medals at the olympics?
Wang Lin:
Swimmers won 5 olympics medals{LINK} and the team trained for years.
"""
# A second transcript: its file name holds escape sequences, its sidecar gives a formula title.
ESCAPED_NAME = f"port{CLEAR}{TITLE}"
PORT = """Home   >   Press Room
SCIO press conference on port security in 2024
china.org.cn | February 14, 2025
Date:
February 10, 2025
CCTV:
How many exotic animals did customs intercept at ports last year?
Wang Lin:
Customs intercepted 1,284 batches of exotic animals at ports.
"""
SIDECAR_TITLE = '@SUM(1+1)*cmd|"/C calc"!A0'


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result


def assert_printable(output: str, escaped: bool = False) -> None:
    """No escape sequence and no control character but newline and tab; unless the output holds
    them ``escaped`` (JSON), nor what is left of a sequence whose control character alone went."""
    found = sorted({f"U+{ord(c):04X}" for c in CONTROL.findall(output)})
    assert not found, f"control characters reach the terminal: {found}"
    assert escaped or "[2J" not in output and "PWNED window title" not in output and "dG91Y2ggUFdORUQ=" not in output


def without_shell_words(output: str) -> str:
    """The output less the ids shown as shell words ($'port\x1b[2J...': escaped, so no sequence),
    which would read as what is left of a sequence; the rest is checked as it is."""
    assert_printable(output, escaped=True)
    return re.sub(r"\$'[^']*'", "", output)


@pytest.fixture()
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / f"{SHELL_NAME}.txt").write_text(HOSTILE, encoding="utf-8")
    (folder / f"{ESCAPED_NAME}.txt").write_text(PORT, encoding="utf-8")
    (folder / f"{ESCAPED_NAME}.meta.toml").write_text(f"title = '{SIDECAR_TITLE}'\n", encoding="utf-8")
    (folder / f"empty{CLEAR}{TITLE}.txt").write_text("", encoding="utf-8")  # skipped, and said so
    return folder


@pytest.fixture()
def index(tmp_path, corpus) -> Path:
    out = tmp_path / "index"
    built = run("index", "build", corpus, "--out", out, "--model", "hash")
    assert built.exit_code == 0, built.output
    return out


def test_the_fixture_is_as_hostile_as_it_means_to_be(corpus):
    """The escape sequences reach the parsed briefing: the tests below test something."""
    parsed = {b["id"]: b for b in json.loads(run("briefings", "--corpus", corpus, "--json").stdout)}
    assert set(parsed) == {SHELL_NAME, ESCAPED_NAME}
    assert parsed[SHELL_NAME]["title"].startswith("=HYPERLINK(") and CLEAR in parsed[SHELL_NAME]["title"]
    assert parsed[ESCAPED_NAME]["title"] == SIDECAR_TITLE


def test_ask_text_prints_no_escape_sequences(index):
    result = run("ask", "olympics medals athletes", "--index", index, "--mode", "bm25", "-k", "3")
    assert result.exit_code == 0, result.output
    assert_printable(result.output)
    assert "40 gold medals" in result.output and "for the medals" in result.output
    assert "here" in result.output  # a link's text stays; its escape sequences go


@pytest.mark.parametrize("output", ["markdown", "csv"])
def test_ask_markdown_and_csv_print_no_escape_sequences(index, output):
    result = run("ask", "olympics medals athletes", "--index", index, "--mode", "bm25", "--format", output)
    assert result.exit_code == 0, result.output
    assert_printable(result.output)
    assert "40 gold medals" in result.output


def test_ask_json_escapes_every_control_character(index):
    result = run("ask", "olympics medals athletes", "--index", index, "--mode", "bm25", "--json")
    assert_printable(result.stdout, escaped=True)
    data = json.loads(result.stdout)
    texts = [r["text"] for r in data["results"]]
    # The data is the transcript's, unchanged: the escapes read back as the raw characters.
    assert any(CLEAR in t and "\x07" in t and BIDI in t for t in texts)
    assert any(C1_CSI in r["question"]["text"] for r in data["results"] if r["question"])


def test_show_and_briefings_and_index_info_print_no_escape_sequences(index, corpus):
    shown = run("show", SHELL_NAME, "--index", index)
    assert shown.exit_code == 0, shown.output
    assert_printable(shown.output)
    assert "40 gold medals" in shown.output and "=HYPERLINK(" in shown.output
    listed = run("briefings", "--corpus", corpus)
    assert listed.exit_code == 0, listed.output
    assert_printable(without_shell_words(listed.output))
    assert SHELL_NAME in listed.output and "port" in listed.output
    info = run("index", "info", "--index", index)
    assert info.exit_code == 0, info.output
    assert_printable(info.output)
    assert SHELL_NAME in info.output


def test_briefings_and_speakers_of_an_index_print_no_escape_sequences(index, monkeypatch):
    listed = run("briefings", "--index", index)
    assert listed.exit_code == 0, listed.output
    assert_printable(without_shell_words(listed.output))
    assert "=HYPERLINK(" in listed.output and "5 turns; officials: Wang Lin" in " ".join(listed.output.split())
    from briefqa.records import SpeakerSummary
    from briefqa.searching.index import Index

    hostile = SpeakerSummary(name=f"Xinhua{CLEAR}{TITLE}{BIDI}", role="reporter", turns=1, briefings=1)
    monkeypatch.setattr(Index, "speakers", lambda self, role=None: [hostile])
    speakers = run("speakers", "--index", index)
    assert speakers.exit_code == 0, speakers.output
    assert_printable(speakers.output)
    assert speakers.output.splitlines()[-1].endswith("reporter  Xinhua")
    as_json = run("speakers", "--index", index, "--json")
    assert_printable(as_json.output, escaped=True)
    assert json.loads(as_json.stdout)[0]["name"] == hostile.name


def test_a_file_name_with_escape_sequences_is_cleaned_in_messages(tmp_path, corpus):
    built = run("index", "build", corpus, "--out", tmp_path / "index", "--model", "hash")
    assert "Skipped 1 file(s)" in built.stderr
    assert "the file is empty" in built.stderr
    assert_printable(built.output)
    missing = run("show", f"nothing{CLEAR}here", "--index", tmp_path / "index")
    assert missing.exit_code == 1
    assert "no briefing 'nothinghere'" in missing.stderr
    assert_printable(missing.output)
    gone = run("briefings", "--corpus", tmp_path / f"gone{TITLE}")
    assert gone.exit_code == 1
    assert_printable(gone.output)


def test_csv_cells_cannot_start_a_formula(index):
    result = run("ask", "olympics medals", "--index", index, "--mode", "bm25", "-k", "5", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["briefing_id"] for r in rows} == {SHELL_NAME}  # the sidecar's briefing is not about medals
    text_columns = [c for c in rows[0] if c not in ("rank", "turn", "char_start", "char_end", "confidence")]
    for row in rows:
        for column in text_columns:
            assert not row[column].startswith(FORMULA_START), (column, row[column])
    first = rows[0]
    assert first["briefing_title"].startswith("'=HYPERLINK(")
    questions = {r["question"] for r in rows}
    assert any(q.startswith("'+cmd|") for q in questions) and any(q.startswith("'@SUM(A1:A2)") for q in questions)
    assert any(r["text"].startswith("'-2+3 athletes") for r in rows)
    # Numbers we write stay numbers.
    assert all(r["rank"].isdigit() and r["char_start"].isdigit() for r in rows)


def test_csv_quotes_a_sidecar_title_that_would_be_a_formula(index):
    result = run("ask", "exotic animals intercepted", "--index", index, "--mode", "bm25", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    titles = {r["briefing_title"] for r in rows}
    assert "'" + SIDECAR_TITLE in titles
    # The id from a file name with escape sequences is cleaned there too.
    assert "port" in {r["briefing_id"] for r in rows}


def show_hints(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("briefqa show")]


def test_the_show_hint_is_one_command_whatever_the_file_name(index, tmp_path):
    result = run("ask", "olympics medals athletes", "--index", index, "--mode", "bm25", "-k", "1")
    [hint] = show_hints(result.output)
    words = shlex.split(hint)
    assert words[:3] == ["briefqa", "show", SHELL_NAME]
    assert words[3:] == ["--turn", words[4], "--index", str(index)] and words[4].isdigit()
    bash = shutil.which("bash")
    if bash:  # pasted into a shell: it calls briefqa with those words, and runs nothing else
        echoed = subprocess.run(
            [bash, "-c", 'briefqa() { printf "%s\\n" "$@"; }\n' + hint],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert echoed.stdout.splitlines() == words[1:]
        assert not (tmp_path / "PWNED").exists()


def test_the_show_hint_names_a_file_with_escape_sequences_safely(index, tmp_path):
    result = run("ask", "exotic animals intercepted", "--index", index, "--mode", "bm25", "-k", "1")
    [hint] = show_hints(result.output)
    assert_printable(hint, escaped=True)  # escaped, as $'\x1b[2J' and so on
    assert hint.startswith("briefqa show $'port\\x1b[2J")
    bash = shutil.which("bash")
    if bash:
        echoed = subprocess.run(
            [bash, "-c", 'briefqa() { printf "%s\\0" "$@"; }\n' + hint], cwd=tmp_path, capture_output=True, check=True
        )
        assert echoed.stdout.decode().split("\0")[:2] == ["show", ESCAPED_NAME]


def test_command_quotes_every_word():
    words = ["briefqa", "show", SHELL_NAME, "--turn", "3", "--index", "my index/$(touch PWNED)"]
    assert shlex.split(command(*words)) == words
    assert command("briefqa", "show", "plain-id") == "briefqa show plain-id"


# --- printable, as a property ----------------------------------------------------------------

NOT_CONTROL = st.characters(
    blacklist_categories=("Cc", "Cs"), blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


@given(st.text(alphabet=NOT_CONTROL | st.sampled_from("\n\t")))
def test_printable_text_is_unchanged(text):
    assert printable(text) == text


HOSTILE_PIECES = [ESC, CLEAR, TITLE, LINK, CLIPBOARD, C1_CSI, BIDI, "\x07", "\x9d", "\x9c", "\r", "\x7f", f"{ESC}["]


@given(st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(), max_size=12))
def test_printable_leaves_no_control_character(pieces):
    cleaned = printable("".join(pieces))
    assert not CONTROL.search(cleaned)
    assert printable(cleaned) == cleaned


def test_printable_removes_whole_escape_sequences():
    assert printable(f"a{CLEAR}b{TITLE}c{LINK}d{CLIPBOARD}e{C1_CSI}f") == "abcheredef"
    assert printable("Café — 中文 « » …\tok\n") == "Café — 中文 « » …\tok\n"


def test_a_show_hint_for_an_id_that_looks_like_an_option_runs(tmp_path):
    """A file named '-rf.txt': the hint puts the id after '--', where it cannot be an option."""
    folder = tmp_path / "dash"
    folder.mkdir()
    (folder / "-rf.txt").write_text(PORT, encoding="utf-8")
    index = tmp_path / "index"
    assert run("index", "build", folder, "--out", index, "--model", "hash").exit_code == 0
    [hint] = show_hints(run("ask", "exotic animals intercepted", "--index", index, "-k", "1").output)
    words = shlex.split(hint)
    assert words[-2:] == ["--", "-rf"]
    shown = run(*words[1:])
    assert shown.exit_code == 0, shown.output
    assert "Customs intercepted 1,284 batches" in shown.output


def test_briefings_names_an_id_a_terminal_cannot_show_as_the_shell_word_for_it(index, tmp_path):
    listed = run("briefings", "--index", index).output
    [word] = re.findall(r"\$'port[^']*'", listed)
    assert shlex.split(word) != [word]  # quoted ($'...'), and bash reads it back as the id
    bash = shutil.which("bash")
    if bash:
        echoed = subprocess.run([bash, "-c", f"printf '%s' {word}"], capture_output=True, check=True)
        assert echoed.stdout.decode() == ESCAPED_NAME
        assert run("show", ESCAPED_NAME, "--index", index).exit_code == 0
