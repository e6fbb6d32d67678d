"""Bad input, through the CLI as a user meets it: each case gets a message that names the file
(and line, where there is one) and what to do, never a traceback, and the index it was aimed at
answers exactly as before."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefqa.cli import app
from tests.conftest import SCIO_FIXTURE

runner = CliRunner()
QUERIES = ["exotic animals intercepted", "grid jobs", "smart port Tianjin"]
TRANSCRIPT = (
    "A title for this briefing\n\nCCTV:\n\nWhy did exports rise? Thank you.\n\nLi Kuiwen:\n\nBecause demand rose.\n"
)


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result


def text(result) -> str:
    return " ".join(result.output.split())


def answers(index: Path) -> list:
    return [json.loads(run("ask", q, "--index", index, "--json").stdout) for q in QUERIES]


def files(index: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index)): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


BAD_FILES = {
    # name: (content, what the message says)
    "empty.txt": ("", "empty.txt: the file is empty; remove it or put a transcript in it"),
    "blank.txt": ("\n  \n\n", "blank.txt: the file is empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary.txt: this is a binary file"),
    "nolabels.txt": (
        "Just a paragraph of prose.\nAnother line, no speakers here.\n",
        "nolabels.txt: no speaker labels",
    ),
    "header-only.txt": (
        "SCIO press conference on nothing at all\nSpeakers:\n"
        "Mr. Li Kuiwen, spokesperson of the GACC\nDate:\nMay 1, 2024\n",
        "header-only.txt: no speaker labels",
    ),
    "unclosed.md": ("---\ndate: '2024-01-01'\ntitle: x\n\nMS. ROE:  Hello.\n", "unclosed.md:1: the YAML header opened"),
    "badyaml.md": ("---\ndate: [unclosed\n---\nMS. ROE:  Hello.\n", "badyaml.md:2: the YAML header is not valid YAML"),
    # "billion laughs": 400 bytes of nested aliases that expand to 9**9 strings
    "yamlbomb.md": (
        "---\ndate: '2024-01-01'\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
        + "title: *i\n---\nMS. ROE:  Hello.\n",
        "yamlbomb.md:3: the YAML header uses anchors or aliases (&name, *name); write each value out in full",
    ),
    "yamldeep.md": (
        "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\nMS. ROE:  Hello.\n",
        "yamldeep.md:2: the YAML header nests lists or mappings more than 20 deep",
    ),
    "yamlmapping.md": (
        "---\ndate: '2024-01-01'\ntitle: {a: b}\n---\nMS. ROE:  Hello.\n",
        "yamlmapping.md:3: the YAML header's title is a list or a mapping; write it as one value",
    ),
    "baddate.md": (
        "---\ndate: 2024-13-45\n---\nMS. ROE:  Hello.\n",
        "baddate.md:2: the YAML header holds a value that cannot be read (month must be in 1..12)",
    ),
    "yamlhuge.md": (
        "---\ndate: '2024-01-01'\n" + "# a comment line\n" * 5000 + "---\nMS. ROE:  Hello.\n",
        "yamlhuge.md:1: the YAML header is 85 KB, far more than a date and a title (at most 64 KB)",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_transcript_is_skipped_by_add_and_the_index_is_unchanged(fixture_index, tmp_path, name):
    content, message = BAD_FILES[name]
    bad = write(tmp_path / "bad" / name, content)
    before, answered = files(fixture_index), answers(fixture_index)
    result = run("index", "add", bad, "--index", fixture_index)
    assert result.exit_code == 1
    assert message in text(result) and "nothing to index: every file was skipped (1)" in text(result)
    assert files(fixture_index) == before and answers(fixture_index) == answered


def test_bad_files_beside_good_ones_are_listed_and_the_rest_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copy(SCIO_FIXTURE, write(corpus / "x", "").parent)
    (corpus / "x").unlink()
    for name, (content, _) in BAD_FILES.items():
        write(corpus / name, content)
    result = run("index", "build", corpus, "--out", tmp_path / "index", "--model", "hash")
    assert result.exit_code == 0
    assert f"Skipped {len(BAD_FILES)} file(s)" in result.output
    for _, message in BAD_FILES.values():
        assert message in text(result)
    assert "1 added" in result.output


def test_every_file_bad_in_a_build_fails_and_lists_them(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "empty.txt", "")
    write(corpus / "nolabels.txt", "prose only\n")
    result = run("index", "build", corpus, "--out", tmp_path / "index", "--model", "hash")
    assert result.exit_code == 1
    assert "nothing to index: every file was skipped (2)" in text(result)
    assert "empty.txt: the file is empty" in text(result) and "nolabels.txt: no speaker labels" in text(result)
    assert not (tmp_path / "index").exists()


def test_a_directory_with_no_transcripts(fixture_index, tmp_path):
    (tmp_path / "nothing").mkdir()
    write(tmp_path / "nothing" / "notes.docx", b"PK")
    result = run("index", "add", tmp_path / "nothing", "--index", fixture_index)
    assert (
        result.exit_code == 1
        and "no transcript files (.txt, .md, .html, .pdf, .vtt, .srt or .json) in the paths given" in text(result)
    )


def test_duplicate_files(fixture_index, tmp_path):
    # two copies in one call: the second is skipped
    a, b = write(tmp_path / "a.txt", TRANSCRIPT), write(tmp_path / "b.txt", TRANSCRIPT)
    result = run("index", "add", a, b, "--index", fixture_index)
    assert result.exit_code == 0 and "b.txt: repeats" in text(result) and "word for word" in text(result)
    # a copy, under another name, of a transcript already indexed
    before = answers(fixture_index)
    copy = write(tmp_path / "copy-of-scio.txt", SCIO_FIXTURE.read_text())
    result = run("index", "add", copy, "--index", fixture_index)
    assert result.exit_code == 1
    assert f"copy-of-scio.txt: repeats briefing '{SCIO_FIXTURE.stem}', already in the index" in text(result)
    assert answers(fixture_index) == before


def test_missing_path_and_symlink_loop(fixture_index, tmp_path):
    result = run("index", "add", tmp_path / "nope.txt", "--index", fixture_index)
    assert result.exit_code == 1 and f"{tmp_path / 'nope.txt'}: no such file or directory" in text(result)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(tmp_path / "loop2.txt")
    (tmp_path / "loop2.txt").symlink_to(loop)
    result = run("index", "add", loop, "--index", fixture_index)
    assert result.exit_code == 1 and "a symbolic link that leads nowhere" in text(result)
    result = run("briefings", "--corpus", loop)
    assert result.exit_code == 1 and "a symbolic link that leads nowhere" in text(result)


def test_unreadable_file(fixture_index, tmp_path, monkeypatch):
    # Tests run as root here, where chmod 000 does not stop a read: the read itself is refused.
    locked = write(tmp_path / "locked.txt", TRANSCRIPT)
    real = Path.read_bytes

    def read_bytes(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run("index", "add", locked, "--index", fixture_index)
    assert result.exit_code == 1 and "locked.txt: cannot be read: Permission denied" in text(result)


def test_huge_file_is_refused_at_once(fixture_index, tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "w") as f:
        f.write("A title\n\nCCTV:\n\n")
        f.write(("Why? " * 200 + "\n") * 11_000)  # about 11 MB
    result = run("index", "add", huge, "--index", fixture_index)
    assert result.exit_code == 1
    assert "huge.txt: 11 MB is far more than a press-conference transcript" in text(result)


def test_cjk_text_is_kept_and_cjk_labels_are_labels(tmp_path):
    transcript = write(
        tmp_path / "cjk.txt",
        "SCIO press conference on trade\nDate:\nMarch 1, 2024\n王文涛：\n我们今年的外贸形势总体稳定。\n"
        'CCTV:\nHow did the "new three" (新三样) products do?\n王文涛：\n'
        "Exports of electric vehicles, lithium batteries and solar cells (新三样) grew 29.9%.\n中文\n",
    )
    data = json.loads(run("show", "cjk", "--corpus", transcript, "--json").stdout)
    assert [(t["speaker"], t["role"]) for t in data["turns"]] == [
        ("王文涛", "official"),
        ("CCTV", "reporter"),
        ("王文涛", "official"),
    ]
    assert (
        data["turns"][2]["text"]
        == "Exports of electric vehicles, lithium batteries and solar cells (新三样) grew 29.9%."
    )


def test_one_very_long_line_is_split_and_slices_back(tmp_path):
    body = " ".join(f"Exports rose in province number {i} by {i % 7} percent" for i in range(3000))  # ~150 kB, one line
    transcript = write(tmp_path / "long.txt", f"A briefing on exports by province\n\nLi Kuiwen:\n\n{body}.\n")
    out = tmp_path / "index"
    assert run("index", "build", transcript, "--out", out, "--model", "hash").exit_code == 0
    from briefqa.searching.index import load_index

    index = load_index(out)
    text_ = transcript.read_text()
    assert len(index.passages) > 20
    assert all(text_[p.char_start : p.char_end] == p.text for p in index.passages)
    assert all(not p.text.startswith(" ") for p in index.passages)


def test_yaml_bomb_is_refused_at_once(tmp_path):
    bomb, message = BAD_FILES["yamlbomb.md"]
    assert len(bomb) < 1000
    result = run("briefings", "--corpus", write(tmp_path / "yamlbomb.md", bomb))
    assert message in text(result) and "Skipped 1 file(s)" in result.output
    assert result.exit_code == 1 and "no transcript could be read (every file was skipped)" in text(result)


def test_an_outlet_label_of_any_length_is_a_label(tmp_path):
    outlet = "Guangdong Radio and Television Pearl River Economic Channel News Center"  # 72 characters
    assert len(outlet) > 70
    transcript = write(
        tmp_path / "outlet.txt",
        "SCIO press conference on trade\nDate:\nMarch 1, 2024\nLi Kuiwen:\nExports rose this year.\n"
        f"{outlet}:\nHow did exports to ASEAN do? Thank you.\nLi Kuiwen:\nThey grew 5%.\n",
    )
    data = json.loads(run("show", "outlet", "--corpus", transcript, "--json").stdout)
    assert [(t["speaker"], t["role"]) for t in data["turns"]] == [
        ("Li Kuiwen", "official"),
        (outlet, "reporter"),
        ("Li Kuiwen", "official"),
    ]
    assert data["turns"][0]["text"] == "Exports rose this year."  # the question is not merged into it
    assert data["turns"][1]["text"] == "How did exports to ASEAN do? Thank you."
    assert data["turns"][2]["answers_turn"] == data["turns"][1]["index"]
    assert data["outlets"] == [outlet]


def test_a_white_house_label_of_any_length_is_a_label(tmp_path):
    label = "ADMINISTRATOR OF THE UNITED STATES AGENCY FOR INTERNATIONAL DEVELOPMENT SAMANTHA POWER"
    transcript = write(
        tmp_path / "2024-01-01-briefing.md",
        f"---\ndate: '2024-01-01'\ntitle: A briefing\n---\nMS. ROE:  Welcome.\n\n{label}:  Thank you.\n",
    )
    data = json.loads(run("show", "2024-01-01-briefing", "--corpus", transcript, "--json").stdout)
    assert [(t["speaker"].upper(), t["text"]) for t in data["turns"]] == [
        ("MS. ROE", "Welcome."),
        (label, "Thank you."),
    ]


def test_a_run_of_chinese_script_without_spaces_is_split_within_the_character_bound(tmp_path):
    body = ("我们今年的外贸形势总体稳定出口增长" * 6000)[:100_000]  # one "word" to the hash model
    transcript = write(tmp_path / "cjk-run.txt", f"A briefing on exports by province\n\nLi Kuiwen:\n\n{body}\n")
    out = tmp_path / "index"
    assert run("index", "build", transcript, "--out", out, "--model", "hash").exit_code == 0
    from briefqa.options import ChunkSettings
    from briefqa.searching.index import load_index

    passages = load_index(out).passages
    text_ = transcript.read_text()
    bound = ChunkSettings().max_chars
    assert len(passages) >= len(body) // bound
    assert all(len(p.text) <= bound for p in passages)
    assert all(text_[p.char_start : p.char_end] == p.text for p in passages)
    # slices with nothing left out: each passage starts where the one before ends
    assert passages[0].char_start == text_.index(body) and passages[-1].char_end == text_.index(body) + len(body)
    assert all(a.char_end == b.char_start for a, b in zip(passages, passages[1:]))


def test_passages_are_bounded_in_tokens_and_characters_whatever_the_text():
    from briefqa.options import ChunkSettings
    from briefqa.reading.passages import split_turn

    settings = ChunkSettings(max_tokens=50, overlap_tokens=10, max_chars=300)
    run_ = ("我们今年的外贸形势总体稳定出口增长" * 600)[:10_000]
    texts = [
        run_,  # no boundary at all
        "Exports rose. " + run_ + "。 And more words.",  # boundaries around it
        ("出口增长了百分之五，进口增长了百分之三。" * 500),  # Chinese punctuation, no spaces
        " ".join(["x" * 250] * 40),  # long words, few tokens
    ]
    for counter in (len, lambda s: len(s.split())):  # a token a character (Chinese script to BERT); words
        for text_ in texts:
            spans = split_turn(text_, settings, counter)
            assert all(b - a <= settings.max_chars and counter(text_[a:b]) <= settings.max_tokens for a, b in spans)
            assert all(text_[a:b] and text_[a:b] == text_[a:b].strip() for a, b in spans)
            assert sum(b - a for a, b in spans) >= len("".join(text_.split()))  # nothing left out


def test_settings_without_a_character_bound_read_as_before():
    from briefqa.options import ChunkSettings

    # An index built before max_chars existed names no max_chars; its settings dump (its
    # fingerprint) as they did, while a bound other than the default is part of the dump.
    before = {"max_tokens": 200, "overlap_tokens": 40, "context": ["title", "speaker", "question"]}
    assert ChunkSettings.model_validate(before).model_dump() == before
    assert ChunkSettings(max_chars=500).model_dump()["max_chars"] == 500


def test_long_question(fixture_index):
    result = run("ask", "exotic pets " * 300, "--index", fixture_index, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["results"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--briefing", "nope"], "no passage matches briefing=nope"),
        (
            ["--speaker", "nobody", "--briefing", "nope"],
            "no passage matches speaker=nobody and none matches briefing=nope",
        ),
        (
            ["--speaker", "roe", "--briefing", SCIO_FIXTURE.stem],
            "each filter matches some passages, but no passage matches them all together",
        ),
        (["--since", "2030-01-01"], "no passage matches since=2030-01-01"),
    ],
)
def test_filters_that_exclude_everything_are_named(fixture_index, args, message):
    result = run("ask", "trade", "--index", fixture_index, *args)
    assert result.exit_code == 1 and message in text(result)


def test_speaker_matches_from_word_starts(fixture_index):
    wang = json.loads(run("ask", "port", "--index", fixture_index, "--speaker", "wang", "--json", "-k", "9").stdout)
    assert {r["speaker"] for r in wang["results"]} == {"Wang Lin"}
    # 'lin' is a word of Wang Lin, 'in' is not the start of any word of a speaker's name
    assert run("ask", "port", "--index", fixture_index, "--speaker", "lin", "--json").exit_code == 0
    result = run("ask", "port", "--index", fixture_index, "--speaker", "in")
    assert result.exit_code == 1 and "no passage matches speaker=in" in text(result)


def test_eval_with_a_binary_question_file(fixture_index, tmp_path):
    questions = write(tmp_path / "questions.jsonl", b"\xff\xfe\x00binary")
    result = run("eval", "--questions", questions, "--index", fixture_index)
    assert result.exit_code == 1 and f"{questions}: not a UTF-8 text file" in text(result)


def test_eval_with_a_bad_floor(fixture_index, tmp_path):
    questions = write(tmp_path / "q.jsonl", "")
    result = run("eval", "--questions", questions, "--index", fixture_index, "--fail-under", "R@5")
    assert result.exit_code == 1 and "--fail-under R@5: the floor must be a number" in text(result)


def test_bad_sidecar_names_the_sidecar(tmp_path):
    transcript = write(tmp_path / "t.txt", TRANSCRIPT)
    write(tmp_path / "t.meta.toml", "held_on = '2024-01-01'\n")
    result = run("briefings", "--corpus", transcript)
    assert "t.meta.toml: held_on must be a date such as 2022-01-14 (no quotes)" in text(result)


def test_index_that_is_not_there(tmp_path):
    result = run("ask", "anything", "--index", tmp_path / "none")
    assert result.exit_code == 1 and "none: no index here. Rebuild it with: briefqa index build" in text(result)


@pytest.mark.parametrize(
    "command, placeholders",
    [
        (
            ["ask"],
            ["{QUESTION}", "--speaker NAME", "--outlet NAME", "--briefing ID", "--since YYYY-MM-DD", "-i, --index DIR"],
        ),
        (["index", "build"], ["[CORPUS]...", "-o, --out DIR", "--model NAME"]),
        (["index", "add"], ["{FILE}...", "-i, --index DIR"]),
        (["eval"], ["--questions FILE", "--mode MODE", "--fail-under METRIC=VALUE"]),
        (["briefings"], ["-c, --corpus PATH", "-i, --index DIR"]),
        (["show"], ["{BRIEFING_ID}", "-t, --turn N", "--context N"]),
        (["speakers"], ["-i, --index DIR", "--role <official|chair|reporter>"]),
    ],
)
def test_help_uses_plain_placeholders(command, placeholders):
    """Each value is named by what it is (DIR, NAME, YYYY-MM-DD), never by a Python type."""
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "<list[" not in result.output and "<str>" not in result.output and "<Path>" not in result.output
    assert [p for p in placeholders if p not in text(result)] == []
