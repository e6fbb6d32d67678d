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
    for folder in (TRANSCRIPTS / "shapes", TRANSCRIPTS / "real", TRANSCRIPTS / "audited")
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
    "audited/04-au-doorstop.txt": [
        "furniture in a turn: 'SUBJECTS: Cost-of-living relief; housing; Middle East; AUKUS'",
    ],
    "audited/06-who-presser.txt": [
        "role of 'We have simultaneous interpretation in t': expected chair, read official (Tarik Jasarevic)",
        "furniture in a turn: 'TJ Tarik Jasarevic'",
        "furniture in a turn: 'TAG Dr Tedros Adhanom Ghebreyesus'",
        "furniture in a turn: 'MR Dr Michael Ryan'",
        "furniture in a turn: 'MVK Dr Maria Van Kerkhove'",
        "not a speaker, read as one: 'Speaker key'",
    ],
    "audited/08-spain-rueda.txt": [
        "furniture in a turn: '(Transcripción editada por la Secretaría de Estado de Comuni'",
        "furniture in a turn: 'Secretaría de Estado de Comunicación'",
    ],
    "audited/08b-spain-colon.txt": [
        "furniture in a turn: '(Transcripción editada por la Secretaría de Estado de Comuni'",
        "furniture in a turn: 'Secretaría de Estado de Comunicación'",
    ],
    "audited/09-mx-manianera.txt": [
        "reporter of '¿Cuántas viviendas se entregar': expected Juan / El Universal, read Reporter / None",
    ],
    "audited/09b-mx-short-role.txt": [
        "reporter of '¿Cuántas viviendas se entregar': expected Juan / El Universal, read Reporter / None",
    ],
    "audited/10-revcom-rally.txt": [
        "role of 'Ladies and gentlemen, please welcome the': expected chair, read reporter (Speaker 1)",
        "furniture in a turn: '[crosstalk 00:04:31]'",
    ],
    "audited/15-ecb-lagarde.txt": [
        "speaker of 'The Governing Council today decided to k': expected Lagarde, read Unattributed",
        "furniture in a turn: 'Directorate General Communications'",
        "furniture in a turn: 'Sonnemannstrasse 20'",
        "furniture in a turn: '60314 Frankfurt am Main, Germany'",
    ],
    "audited/17-no-linebreaks.txt": [
        "furniture in a turn: 'Office of the Governor, 24 Beacon Street, Boston MA 02133 ww'",
    ],
    "audited/GMT20240312-180102_Recording.transcript.vtt": [
        "role of \"Good afternoon and welcome to today's pr\": expected chair, read reporter (Mayor's Office Comms)",
    ],
    "audited/b-br_coletiva.txt": [
        "furniture in a turn: 'Assessoria de Comunicação Social do Ministério da Fazenda'",
    ],
    "audited/b-imf_briefing.txt": [
        "not a speaker, read as one: 'PRESS OFFICER'",
        "reporter of 'Hugo Bachega from the BBC. Do ': expected Hugo Bachega / BBC, read Reporter / None",
    ],
    "audited/b-kantei_ccs.txt": [
        "furniture in a turn: 'Questions and Answers'",
        "furniture in a turn: 'Related Links'",
        "furniture in a turn: 'Press Conferences by the Chief Cabinet Secretary'",
    ],
    "audited/b-nj-covid-briefing-2020-04-27-cc.txt": [
        "speaker of 'AS OF LAST NIGHT, THERE WERE 7,570 PATIE': expected JUDY PERSICHILLI, read Unidentified speaker",
        "speaker of 'OVER THE WEEKEND WE ISSUED 12 SUMMONSES ': expected PAT CALLAHAN, read Unidentified speaker",
        "speaker of 'I SAY TO THEM, WE HEAR YOU AND WE ARE SO': expected GOV. PHIL MURPHY, read Unidentified speaker",
        "furniture in a turn: 'NJ SPOTLIGHT NEWS WILL CONTINUE'",
    ],
    "audited/b-podcast_interview.txt": [
        "furniture in a turn: 'Transcript generated automatically and edited for clarity. P'",
        'reporter of "I\'m Dana Whitfield. My guest t": expected Dana Whitfield / The Policy Hour, read Host / None',
    ],
    "audited/b-sg_mfa_doorstop.txt": [
        "furniture in a turn: '.     .'",
    ],
    "audited/b-un_noon.txt": [
        "quote in no turn: 'After I am done, we will hear from Monica Grayley,'",
        "quote in no turn: 'This morning, the Secretary-General arrived in Add'",
    ],
    "audited/b-zoom_GMT20250304-180212_Recording.txt": [
        'role of "I\'m Sofia Reyes, communications director": expected chair, read reporter (Sofia Reyes)',
        'role of "Unfortunately that\'s all the time we hav": expected chair, read reporter (Sofia Reyes)',
        "furniture in a turn: 'Recording in progress.'",
        "furniture in a turn: 'Recording stopped.'",
        "furniture in a turn: 'Shared screen with speaker view'",
        'not a speaker, read as one: "Oakland Mayor\'s Office"',
        "reporter of 'What about homeless encampment': expected Jose Fabian / KTVU, read Jose Fabian / None",
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
