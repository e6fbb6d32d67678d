"""Every transcript shape in tests/transcripts/: hand-made fixtures of each layout seen in the wild
(shapes/) and real public transcripts from other sources (real/), each read against a hand-checked
reading (expected.json: speakers and roles of quotes, dates, furniture, languages).

A file whose reading is known to be wrong in places lists those places in KNOWN_MISREADINGS: a new
mistake fails the test, and so does a fixed one (take it off the list)."""

from pathlib import Path

import pytest

from briefqa.reading.corpus import load_corpus
from tests.reading_expectations import load_expectations, problems

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
CASES = [
    pytest.param(folder, expected, id=f"{folder.name}/{expected['file']}")
    for folder in (TRANSCRIPTS / "shapes", TRANSCRIPTS / "real")
    for expected in load_expectations(folder)
]

# What the readers still get wrong, file by file (see the closing note of the issue that added them).
KNOWN_MISREADINGS: dict[str, list[str]] = {
    "shapes/congressional-period-indented.txt": [
        "role of 'Ms. Pratt, who pays for the new maps?': expected reporter, read official (Mr. Dunmore)",
    ],
    "real/us-congress-gpo/CHRG-111hhrg53242.htm": [
        "role of 'Today we will hear from several industri': expected chair, read reporter (Mr. Kanjorski)",
        "role of 'If I may just comment, I wish we had abo': expected chair, read reporter (Mr. Kanjorski)",
        "role of 'seems to want to give five unelected gov': expected reporter, read official (Mr. Hensarling)",
    ],
    "real/uk-covid-inquiry/module-3_2024-11-22.rst": [
        'role of "We\'re going to try and get through all t": expected chair, read reporter (Lady Hallett)',
        "role of 'Did you say yesterday, Mr Hancock, that ': expected chair, read reporter (Lady Hallett)",
    ],
    "real/uk-covid-inquiry/module-1_2023-07-03.rst": [
        "role of 'You described almost at the very beginni': expected chair, read reporter (Lady Hallett)",
    ],
}


@pytest.mark.parametrize(("folder", "expected"), CASES)
def test_transcript_reads_as_checked_by_hand(folder, expected):
    corpus = load_corpus([folder / expected["file"]])
    assert not corpus.skipped, corpus.skipped[0].message()
    (briefing,) = corpus.briefings
    found = problems(briefing, expected)
    assert found == KNOWN_MISREADINGS.get(f"{folder.name}/{expected['file']}", [])


def test_there_are_real_transcripts_from_four_sources_with_licences():
    real = TRANSCRIPTS / "real"
    sources = {e["file"].split("/")[0] for e in load_expectations(real)}
    assert len(sources) >= 4
    for source in sources:
        assert "licen" in (real / source / "SOURCE.md").read_text(encoding="utf-8").lower()
