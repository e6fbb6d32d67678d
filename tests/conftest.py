import os
import shutil
from pathlib import Path

import pytest

from briefqa.options import BuildOptions, ChunkSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCIO_FIXTURE = FIXTURES / "scio" / "scio-2025-02-10-port-security.txt"
WH_FIXTURE = FIXTURES / "whitehouse" / "2025-03-04-press-briefing-by-press-secretary-jane-roe.md"
WH_ARCHIVE = ROOT.parent / "shared" / "corpora" / "whitehouse-press-briefings"

# The hashing embedder: deterministic word hashing, no model to load.
HASH = BuildOptions(model="hash")
# With passages of 120 tokens: more, smaller passages of corpus/ for the ranking tests.
HASH_SMALL = HASH.model_copy(update={"chunking": ChunkSettings(max_tokens=120, overlap_tokens=20)})


@pytest.fixture(scope="session")
def corpus():
    from briefqa.reading.corpus import load_corpus

    return load_corpus([CORPUS])


@pytest.fixture(scope="session")
def briefings(corpus):
    return {b.id: b for b in corpus.briefings}


@pytest.fixture(scope="session")
def _fixture_index_built(tmp_path_factory) -> Path:
    """tests/fixtures indexed once; only ever copied (fixture_index)."""
    from briefqa.indexing.build import build_index

    out = tmp_path_factory.mktemp("fixture-index") / "index"
    build_index([FIXTURES], out, HASH)
    return out


@pytest.fixture()
def fixture_index(_fixture_index_built, tmp_path) -> Path:
    """An index of tests/fixtures (a SCIO and a White House briefing) built with HASH: the test's
    own copy, to read, add to or damage."""
    out = tmp_path / "index"
    shutil.copytree(_fixture_index_built, out, symlinks=True)
    return out


def shared_file(path: Path, tests: str) -> Path:
    """A file in ../shared/corpora beside the clone. Without it the test is skipped, saying why; in
    CI (CI=true), which has ../shared, it fails instead of passing unrun."""
    if not path.exists():
        missing = f"{path} is not here: the {tests} tests read ../shared/corpora beside the clone"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{missing}, and CI=true: CI must have ../shared", pytrace=False)
        pytest.skip(missing)
    return path


def archive_file(relative: str) -> Path:
    """A file of the White House archive (``shared_file``)."""
    return shared_file(WH_ARCHIVE / relative, "archive")
