"""The White House format: a hand-made fixture, and three real files from the archive."""

from datetime import date

import pytest

from briefqa.reading.corpus import load_corpus
from briefqa.reading.files import read_transcript_text
from briefqa.reading.formats import detect, scio, whitehouse
from tests.conftest import SCIO_FIXTURE, WH_FIXTURE, archive_file


def test_formats_are_told_apart():
    assert detect(WH_FIXTURE, read_transcript_text(WH_FIXTURE))[0] is whitehouse
    assert detect(SCIO_FIXTURE, read_transcript_text(SCIO_FIXTURE))[0] is scio


def test_fixture_header_labels_and_questions():
    (b,) = load_corpus([WH_FIXTURE]).briefings
    assert b.title == "Press Briefing by Press Secretary Jane Roe and Energy Secretary John Doe"
    assert (b.held_on, b.published_on) == (date(2025, 3, 4), date(2025, 3, 4))
    assert [(t.speaker, t.role, t.answers_turn) for t in b.turns] == [
        ("Ms. Roe", "official", None),
        ("Secretary Doe", "official", None),
        ("Reporter", "reporter", None),
        ("Secretary Doe", "official", 3),
        ("Reporter", "reporter", None),
        ("Ms. Roe", "official", 5),
        ("Moderator", "chair", None),  # the chair moves on: the next answer links to the next Q
        ("Reporter", "reporter", None),
        ("Ms. Roe", "official", 8),
    ]
    # The labels are the people the title names: 'Ms. Roe' is Press Secretary Jane Roe.
    assert [(o.label, o.name, o.title) for o in b.officials] == [
        ("Ms. Roe", "Jane Roe", "Press Secretary"),
        ("Secretary Doe", "John Doe", "Energy Secretary"),
    ]
    assert b.outlets == []  # a 'Q' names no outlet
    # a hard-wrapped turn runs over lines; clock times and END belong to no turn
    assert b.turns[7].text == "Jane, what is the President's position on the heating-oil\nreserve?"
    assert all("P.M." not in t.text and "END" not in t.text for t in b.turns)
    for t in b.turns:
        assert b.text[t.char_start : t.char_end] == t.text


REAL = [
    # (file, title start, held_on, first label, officials, some Q turns, answers linked)
    (
        "2021-01/2021-01-20-press-briefing-by-press-secretary-jen-psaki-january-20-2021.md",
        "Press Briefing by Press Secretary Jen Psaki, January 20, 2021",
        date(2021, 1, 20),
        "Ms. Psaki",
        {"Ms. Psaki"},
    ),
    (
        "2022-10/2022-10-03-press-gaggle-by-press-secretary-karine-jean-pierre-and-fema-administrator-deanne-criswell-en-route-ponce-puerto-rico.md",
        "Press Gaggle by Press Secretary Karine Jean-Pierre and FEMA Administrator",
        date(2022, 10, 3),
        "Ms. Jean-Pierre",
        {"Ms. Jean-Pierre", "Administrator Criswell"},
    ),
]


@pytest.mark.parametrize("relative, title, held, first, officials", REAL)
def test_real_archive_files(relative, title, held, first, officials):
    path = archive_file(relative)
    (b,) = load_corpus([path]).briefings
    assert b.title.startswith(title) and b.held_on == held
    assert b.turns[0].speaker == first and b.turns[0].role == "official"
    assert officials <= {o.label or o.name for o in b.officials}
    questions = [t for t in b.turns if t.speaker == "Reporter"]
    assert len(questions) >= 5 and all(t.role == "reporter" for t in questions)
    answers = [t for t in b.turns if t.answers_turn is not None]
    assert answers and all(b.turn(t.answers_turn).role == "reporter" for t in answers)
    assert all(b.text[t.char_start : t.char_end] == t.text for t in b.turns)
    assert not any(t.text.rstrip().endswith("END") for t in b.turns)


def test_real_archive_call_with_a_moderator():
    path = archive_file(
        "2023-06/2023-06-01-background-press-call-on-accountability-for-the-ongoing-violence-in-sudan.md"
    )
    (b,) = load_corpus([path]).briefings
    assert b.held_on == date(2023, 6, 1) and b.title.startswith("Background Press Call on Accountability")
    assert b.chair is not None and b.chair.name == "Moderator"
    assert {t.role for t in b.turns if t.speaker == "Moderator"} == {"chair"}
    assert [o.name for o in b.officials] == ["Senior Administration Official"]
    answers = [t for t in b.turns if t.speaker == "Senior Administration Official" and t.answers_turn]
    assert len(answers) >= 5 and all(b.turn(t.answers_turn).speaker == "Reporter" for t in answers)


def test_a_missing_archive_fails_in_ci_and_is_skipped_with_its_reason_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no-such-month/none.md is not here.*CI must have ../shared"):
        archive_file("no-such-month/none.md")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"no-such-month/none.md is not here: the archive tests read"):
        archive_file("no-such-month/none.md")


def test_names_keep_their_capitals():
    assert whitehouse.display_name("MS. JEAN-PIERRE") == "Ms. Jean-Pierre"
    assert whitehouse.display_name("MR. O'ROURKE") == "Mr. O'Rourke"
    assert whitehouse.display_name("MR. MCDONOUGH") == "Mr. McDonough"


def test_labels_indented_with_non_breaking_spaces_start_turns(tmp_path):
    # As on 99 of the archive's pages: "\xa0\xa0\xa0\xa0 MS. PSAKI:\xa0 ..." and "\xa0\xa0\xa0\xa0 Q\xa0\xa0\xa0 ..."
    page = (
        "---\ndate: '2021-03-01'\ntitle: Press Briefing by Press Secretary Jen Psaki\n---\n\n"
        "MS. PSAKI:  Good afternoon.\n\n"
        "\xa0\xa0\xa0\xa0 Q\xa0\xa0\xa0 Thanks, Jen. Will the President travel\nnext week?\n\n"
        "\xa0\xa0\xa0\xa0 MS. PSAKI:\xa0 The President's travel has not changed.\n"
    )
    (tmp_path / "2021-03-01-press-briefing.md").write_text(page)
    (b,) = load_corpus([tmp_path]).briefings
    assert [(t.speaker, t.role, t.answers_turn) for t in b.turns] == [
        ("Ms. Psaki", "official", None),
        ("Reporter", "reporter", None),
        ("Ms. Psaki", "official", 2),
    ]
    assert b.turns[1].text == "Thanks, Jen. Will the President travel\nnext week?"
    assert b.turns[2].text == "The President's travel has not changed."
    for t in b.turns:
        assert b.text[t.char_start : t.char_end] == t.text
