from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus():
    from briefqa.corpus import load_corpus

    return load_corpus([CORPUS])


@pytest.fixture(scope="session")
def briefings(corpus):
    return {b.id: b for b in corpus.briefings}
