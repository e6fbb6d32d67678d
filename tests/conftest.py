from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCIO_FIXTURE = FIXTURES / "scio" / "scio-2025-02-10-port-security.txt"
WH_FIXTURE = FIXTURES / "whitehouse" / "2025-03-04-press-briefing-by-press-secretary-jane-roe.md"
WH_ARCHIVE = ROOT.parent / "shared" / "corpora" / "whitehouse-press-briefings"


@pytest.fixture(scope="session")
def corpus():
    from briefqa.reading.corpus import load_corpus

    return load_corpus([CORPUS])


@pytest.fixture(scope="session")
def briefings(corpus):
    return {b.id: b for b in corpus.briefings}
