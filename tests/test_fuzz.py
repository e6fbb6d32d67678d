"""Property-based: random mixtures of real transcript lines (both formats), page noise and
garbage never make the parser or the chunker raise anything but a TranscriptError, and every
turn and passage slices back out of the text exactly."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefqa.options import ChunkSettings
from briefqa.reading.files import parse_transcript
from briefqa.reading.formats import TranscriptError
from briefqa.reading.passages import chunk_briefings
from briefqa.reading.turns import resolve
from tests.conftest import CORPUS, FIXTURES

REAL_LINES = sorted(
    {
        line
        for path in [*CORPUS.glob("*.txt"), *FIXTURES.rglob("*.txt"), *FIXTURES.rglob("*.md")]
        for line in path.read_text(encoding="utf-8").split("\n")
    }
)
NOISE = [
    "_ueditor_page_break_tag_",
    "<  1  2  3  >",
    "中文",
    "ㄑ\u00a0Press Room",
    "/5    Group photo",
    "END",
    "1:05 P.M. EST",
    "Q",
    "Q:",
    "Q    ",
    "MS. ROE:",
    "MS. ROE:  ",
    "Li Kuiwen:",
    "王文涛：",
    "---",
    "Speakers:",
    "Date:",
    "\u00a0",
    "  ",
    "\t",
    "title: 'x'",
    "date: '2024-01-01'",
    "Follow China.org.cn on Twitter",
]
line = st.one_of(
    st.sampled_from(REAL_LINES),
    st.sampled_from(NOISE),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front_matter=st.booleans(), lines=st.lists(line, max_size=60))
def test_random_transcripts_parse_or_fail_cleanly_and_slice_back(tmp_path, front_matter, lines):
    text = ("---\ndate: '2024-01-02'\ntitle: A test\n---\n" if front_matter else "") + "\n".join(lines)
    try:
        parsed = parse_transcript(Path(tmp_path / "fuzz.txt"), text.replace("\r", "\n").replace("\x00", " "))
    except TranscriptError:
        return
    assert parsed.turns
    for turn in parsed.turns:
        assert turn.text and turn.text == parsed.text[turn.char_start : turn.char_end]
    passages = chunk_briefings(
        resolve([parsed]), ChunkSettings(max_tokens=20, overlap_tokens=4), lambda s: len(s.split())
    )
    for p in passages:
        assert p.text and p.text == parsed.text[p.char_start : p.char_end]
