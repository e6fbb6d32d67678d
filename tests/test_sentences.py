"""One sentence segmenter for passages, sentence vectors, highlights and excerpts: a quote never
ends after "Mr." or "the U.S."."""

from briefqa.options import ChunkSettings
from briefqa.reading.passages import split_turn
from briefqa.reading.sentences import sentence_spans, sentence_units

SENTENCES = [
    "We also have with us Mr. Sun Yuning, vice minister of the GACC, and Mr. Zhao Zenglian.",
    "Studies suggest that the U.S. economy will grow by 3.5 percent.",
    "Dr. Smith met Sen. Schumer and Gov. Newsom on Jan. 5 at 3 p.m. yesterday.",
    "It was the No. 1 Central Document, i.e. the first of the year.",
    'He said, "We will act."',
    "Imports from the U.K. rose, J. P. Morgan said.",
    "We are working to end homelessness in the U.S.",
]


def test_a_sentence_ends_where_the_speaker_s_does_not_at_an_abbreviation():
    text = "  " + " ".join(SENTENCES) + "\n"
    assert [text[a:b] for a, b in sentence_spans(text)] == SENTENCES


def test_a_hard_wrapped_sentence_stays_whole_and_paragraphs_part():
    text = "The President will meet\nGovernor Pierluisi today.\n\nThen he flies home."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "The President will meet\nGovernor Pierluisi today.",
        "Then he flies home.",
    ]


def test_chinese_sentences_end_at_their_marks():
    text = "今年外贸稳定。出口增长了百分之五！进口呢？"
    assert [text[a:b] for a, b in sentence_spans(text, "zh")] == ["今年外贸稳定。", "出口增长了百分之五！", "进口呢？"]


def test_sentence_units_are_the_whole_text():
    text = " Mr. Li spoke.  Dr. Wu answered.\n\nThanks. "
    units = sentence_units(text)
    assert "".join(text[a:b] for a, b in units) == text
    assert all(a < b for a, b in units) and units[0][0] == 0 and units[-1][1] == len(text)


def test_passages_of_a_long_turn_start_and_end_with_whole_sentences():
    text = " ".join(SENTENCES * 6)
    settings = ChunkSettings(max_tokens=40, overlap_tokens=12, max_chars=400)
    spans = split_turn(text, settings, lambda s: len(s.split()))
    starts = {a for a, _ in sentence_spans(text)}
    ends = {b for _, b in sentence_spans(text)}
    assert len(spans) > 3
    assert all(a in starts and b in ends for a, b in spans)
    assert all(len(text[a:b].split()) <= 40 and b - a <= 400 for a, b in spans)
    # nothing left out between passages, and each reaches past the one before
    assert all((a2 < b1 or not text[b1:a2].strip()) and b2 > b1 for (_, b1), (a2, b2) in zip(spans, spans[1:]))
    assert any(a2 < b1 for (_, b1), (a2, _) in zip(spans, spans[1:]))  # some share a sentence
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_passages_end_at_paragraph_ends_where_paragraphs_fit():
    paragraphs = [" ".join(SENTENCES[i : i + 2]) for i in range(0, 6, 2)] * 3
    text = "\n\n".join(paragraphs)
    settings = ChunkSettings(max_tokens=70, overlap_tokens=0, max_chars=1000)
    spans = split_turn(text, settings, lambda s: len(s.split()))
    assert len(spans) > 2
    assert all(a == 0 or text[:a].endswith("\n\n") for a, _ in spans)  # each starts a paragraph
    assert all(b == len(text) or text[b:].startswith("\n\n") for _, b in spans)  # and ends one


def test_unwrapped_joins_wrapped_lines_and_keeps_paragraph_ends_and_length():
    from briefqa.reading.passages import unwrapped

    text = "We expect about 12,000 jobs over five\nyears, most of them rural.\nNext line.\n\nA new\nparagraph."
    shown = unwrapped(text)
    assert shown == "We expect about 12,000 jobs over five years, most of them rural.\nNext line.\n\nA new paragraph."
    assert len(shown) == len(text)
