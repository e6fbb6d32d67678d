"""The parser on the five bundled SCIO transcripts, on noise, and on bad input."""

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefqa.reading.corpus import load_corpus
from briefqa.reading.files import parse_transcript

H1_2021 = "scio-2021-07-13-import-export-h1-2021"
Y2021 = "scio-2022-01-14-import-export-2021"
BORDERS = "scio-2023-03-20-customs-safeguard-borders"
Q1_2024 = "scio-2024-04-12-imports-exports-q1-2024"
HQD = "scio-2024-07-30-customs-high-quality-development"

# id: (title start, held_on, published_on, officials, chair, turn count, outlets)
EXPECTED = {
    Y2021: (
        "SCIO press conference on China's import and export performance in 2021",
        date(2022, 1, 14),
        date(2022, 1, 19),
        ["Li Kuiwen"],
        None,
        2,
        ["Beijing Youth Daily"],
    ),
    HQD: (
        "SCIO briefing on promoting high-quality development: General Administration of Customs",
        date(2024, 7, 30),
        date(2024, 8, 21),
        ["Zhao Zenglian", "Lyu Daliang", "Lin Shaobin"],
        "Xing Huina",
        2,
        [],
    ),
    H1_2021: (
        "SCIO briefing on China's import and export performance in H1 2021",
        date(2021, 7, 13),
        date(2021, 7, 16),
        ["Li Kuiwen"],
        None,
        2,
        ["National Business Daily"],
    ),
    Q1_2024: (
        "SCIO press conference on China's imports, exports in Q1 2024",
        date(2024, 4, 12),
        date(2024, 4, 28),
        ["Lyu Daliang"],
        "Shou Xiaoli",
        3,
        ["Zhinews of Shenzhen Satellite TV"],
    ),
    BORDERS: (
        "SCIO briefing on China Customs' efforts to safeguard borders and advance Chinese modernization",
        date(2023, 3, 20),
        None,
        ["Yu Jianhua", "Sun Yuning", "Zhao Zenglian"],
        "Shou Xiaoli",
        30,
        [
            "CCTV",
            "The Poster News APP",
            "Yicai.com",
            "China News Service",
            "Cover News",
            "Zhonghongwang",
            "Phoenix TV",
            "Shenzhen Satellite TV Zhinews",
            "National Business Daily",
            "Guangdong Radio and Television (GRT)",
        ],
    ),
}


def test_all_five_seeds_parse(corpus):
    assert sorted(b.id for b in corpus.briefings) == sorted(EXPECTED)
    assert corpus.skipped == []


@pytest.mark.parametrize("briefing_id", sorted(EXPECTED))
def test_seed_metadata(briefings, briefing_id):
    title, held, published, officials, chair, n_turns, outlets = EXPECTED[briefing_id]
    b = briefings[briefing_id]
    assert b.title == title
    assert b.held_on == held
    assert b.published_on == published
    assert [o.name for o in b.officials] == officials
    assert (b.chair.name if b.chair else None) == chair
    assert len(b.turns) == n_turns
    assert b.outlets == outlets


def test_official_titles_from_speakers_block(briefings):
    officials = {o.name: o.title for o in briefings[BORDERS].officials}
    assert officials["Yu Jianhua"] == "minister of the General Administration of Customs of China (GACC)"
    assert officials["Sun Yuning"] == "vice minister of the GACC"
    hqd = briefings[HQD]
    assert hqd.chair.title.startswith("deputy director general of the Press Bureau")
    # No speakers block: the name is known from the conversation, the title is not given.
    assert briefings[Y2021].officials[0].title is None


def roles(b):
    return [(t.speaker, t.role) for t in b.turns]


def test_roles_without_speakers_block(briefings):
    assert roles(briefings[Y2021]) == [("Beijing Youth Daily", "reporter"), ("Li Kuiwen", "official")]
    assert roles(briefings[H1_2021]) == [("National Business Daily", "reporter"), ("Li Kuiwen", "official")]
    # Lyu Daliang is an official, Shou Xiaoli the chair, in other briefings' blocks.
    assert roles(briefings[Q1_2024]) == [
        ("Zhinews of Shenzhen Satellite TV", "reporter"),
        ("Lyu Daliang", "official"),
        ("Shou Xiaoli", "chair"),
    ]


def test_roles_and_links_in_longest_briefing(briefings):
    b = briefings[BORDERS]
    by_role = {}
    for t in b.turns:
        by_role.setdefault(t.role, set()).add(t.speaker)
    assert by_role["chair"] == {"Shou Xiaoli"}
    assert by_role["official"] == {"Yu Jianhua", "Sun Yuning", "Zhao Zenglian"}
    assert by_role["reporter"] == set(b.outlets)
    links = {t.index: t.answers_turn for t in b.turns if t.role == "official"}
    assert links[2] is None  # the minister's opening statement answers no question
    assert links[5] == 4  # CCTV's question
    # Handoffs: the minister passes the question on; both answers link to it.
    t = b.turn
    assert (t(9).speaker, t(10).speaker, links[9], links[10]) == ("Yu Jianhua", "Sun Yuning", 8, 8)
    assert (t(22).speaker, t(23).speaker, links[22], links[23]) == ("Yu Jianhua", "Zhao Zenglian", 21, 21)
    assert links[26] == links[27] == 25
    for t in b.turns:
        if t.role != "official":
            assert t.answers_turn is None
        elif t.answers_turn is not None:
            assert b.turn(t.answers_turn).role == "reporter"


def test_links_in_short_briefings(briefings):
    assert briefings[Y2021].turn(2).answers_turn == 1
    assert briefings[Q1_2024].turn(2).answers_turn == 1
    assert briefings[HQD].turn(2).answers_turn is None  # follows the chair, not a question


NOISE = [
    "_ueditor_page_break_tag_",
    "中文",
    "Read in Chinese",
    "MORE FROM",
    "Translated and edited by",
    "Group photo",
    "Follow China.org.cn",
    "Add your comments",
    "Enter the words you see",
    "Adjust font size",
    "Comment(s)",
    "Print E-mail",
    "Press Room",
    "分享缩略图",
]


def test_noise_is_never_part_of_a_turn(corpus):
    for b in corpus.briefings:
        for t in b.turns:
            for noise in NOISE:
                assert noise not in t.text, (b.id, t.index, noise)
            assert not re.search(r"<\s+1\s+2", t.text), (b.id, t.index)
            assert not re.search(r"^\s*1\s+2\s+3", t.text, re.M), (b.id, t.index)


def test_turn_offsets_slice_back_to_text_in_seeds(corpus):
    for b in corpus.briefings:
        for t in b.turns:
            assert b.text[t.char_start : t.char_end] == t.text
            assert t.text == t.text.strip() and t.text


def test_turn_text_ends_where_the_page_ends(briefings):
    assert briefings[Y2021].turns[-1].text.endswith("customs clearance work. Thank you.")
    assert briefings[BORDERS].turns[-1].text.endswith("Today's press conference is hereby concluded.")


# --- property: offsets slice back on generated transcripts ---------------------------------

labels = st.sampled_from(
    ["Yu Jianhua:", "CCTV:", "Yicai.com:", "Sun Yuning: ", "Guangdong Radio and Television (GRT):"]
)
words = st.text(alphabet="abcdefghij ,.?", min_size=1, max_size=40).map(lambda s: "We " + s)
noise_lines = st.sampled_from(["_ueditor_page_break_tag_", "<  1  2  3  >", "中文", "/5    Group photo"])
blocks = st.lists(
    st.one_of(
        st.tuples(labels, st.lists(words, min_size=1, max_size=3)),
        noise_lines.map(lambda n: (None, [n])),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(blocks=blocks, nbsp=st.booleans())
def test_offsets_slice_back_property(tmp_path_factory, blocks, nbsp):
    parts = ["SCIO press conference on something important\n"]
    for label, paragraphs in blocks:
        if label:
            parts.append(label)
        parts.extend(p + ("\u00a0" if nbsp else "") for p in paragraphs)
    text = "\n\n".join(parts) + "\n"
    path = tmp_path_factory.mktemp("prop") / "x.txt"
    path.write_text(text, encoding="utf-8")
    if not any(label for label, _ in blocks):
        return
    try:
        parsed = parse_transcript(path)
    except Exception as err:  # only "no speaker labels" is acceptable, when no label has text
        assert "no speaker labels" in str(err)
        return
    for t in parsed.turns:
        assert parsed.text[t.char_start : t.char_end] == t.text
        assert t.text.strip() == t.text and t.text
        for noise in ("_ueditor_page_break_tag_", "中文", "Group photo", "<  1"):
            assert noise not in t.text


# --- bad input -------------------------------------------------------------------------------

GOOD = "SCIO press conference on test matters\n\nCCTV:\n\nWhat happened? Thank you.\n\nYu Jianhua:\n\nA lot happened.\n"


def test_bad_inputs_are_skipped_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "zz_copy.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x00\x00\x01")
    (tmp_path / "latin1.txt").write_bytes("Title here\n\nCCTV:\n\nCaf\xe9 question?\n".encode("latin-1"))
    (tmp_path / "nolabels.txt").write_text("Just some prose.\n\nNo speakers at all.\n", encoding="utf-8")
    corpus = load_corpus([tmp_path])
    # A Windows-1252 file is read, and says so.
    assert [b.id for b in corpus.briefings] == ["good", "latin1"]
    latin1 = corpus.get("latin1")
    assert latin1 is not None and "Café question?" in latin1.text
    reasons = {s.path.rsplit("/", 1)[-1]: s for s in corpus.skipped}
    assert set(reasons) == {"zz_copy.txt", "empty.txt", "binary.txt", "nolabels.txt"}
    assert "repeats" in reasons["zz_copy.txt"].reason and "good.txt" in reasons["zz_copy.txt"].reason
    assert "empty" in reasons["empty.txt"].reason
    assert "binary" in reasons["binary.txt"].reason
    assert "no speaker labels" in reasons["nolabels.txt"].reason
    for s in corpus.skipped:
        assert s.message().startswith(str(tmp_path))


def test_sidecar_overrides_dates_and_chair(tmp_path):
    (tmp_path / "b.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.meta.toml").write_text(
        'held_on = 2020-05-01\nchair = { name = "Shou Xiaoli", title = "spokesperson" }\n', encoding="utf-8"
    )
    corpus = load_corpus([tmp_path])
    (b,) = corpus.briefings
    assert b.held_on == date(2020, 5, 1)
    assert b.chair.name == "Shou Xiaoli"


def test_bad_sidecar_is_reported(tmp_path):
    (tmp_path / "b.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.meta.toml").write_text('held_on = "yesterday"\n', encoding="utf-8")
    corpus = load_corpus([tmp_path])
    assert corpus.briefings == []
    assert "b.meta.toml" in corpus.skipped[0].path and "held_on" in corpus.skipped[0].reason


def test_long_sentence_ending_in_colon_is_not_a_label(tmp_path):
    text = GOOD.replace("A lot happened.", "A lot happened.\n\nOur work is mainly as follows:\n\nFirst, more.")
    (tmp_path / "b.txt").write_text(text, encoding="utf-8")
    (b,) = load_corpus([tmp_path]).briefings
    assert [t.speaker for t in b.turns] == ["CCTV", "Yu Jianhua"]
    assert b.turns[1].text.endswith("First, more.")
