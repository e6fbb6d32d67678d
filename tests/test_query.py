"""What a question says besides its words, and hybrid's soft preferences built on it."""

import re
from datetime import date

import pytest

from briefqa.indexing.build import build_index
from briefqa.indexing.content import RowFacts
from briefqa.options import BuildOptions, Filters, QuestionRules, SearchOptions
from briefqa.searching.cues import QuestionCues, asks_for_a_figure, asks_what_was_asked, date_window, read_cues
from briefqa.searching.index import load_index
from briefqa.searching.rankings import add_best_sentences, adjust, date_closeness


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("What did she say in October 2022 about gas?", (date(2022, 10, 1), date(2022, 10, 31))),
        ("the release announced in late November 2022", (date(2022, 11, 20), date(2022, 11, 30))),
        ("Paxlovid doses shipped by mid-December 2022", (date(2022, 12, 10), date(2022, 12, 20))),
        ("exports in Sept. 2021", (date(2021, 9, 1), date(2021, 9, 30))),
        ("How did HUD act in spring 2021?", (date(2021, 3, 1), date(2021, 5, 31))),
        ("a shutdown in winter 2023", (date(2022, 12, 1), date(2023, 2, 28))),
        ("arms control talks in late 2022", (date(2022, 9, 1), date(2022, 12, 31))),
        ("a tool launched in early 2022", (date(2022, 1, 1), date(2022, 4, 30))),
        ("at the end of 2021", (date(2021, 10, 1), date(2021, 12, 31))),
        ("What did customs seize in 2022?", (date(2022, 1, 1), date(2023, 3, 31))),
        ("in February 2024, a leap year", (date(2024, 2, 1), date(2024, 2, 29))),
        ("In the first half of 2021, did customs ...", (date(2021, 1, 1), date(2021, 6, 30))),
        ("in the first six months of 2024", (date(2024, 1, 1), date(2024, 6, 30))),
        ("exports in H2 2023", (date(2023, 7, 1), date(2023, 12, 31))),
        ("the Q1 2024 trade briefing", (date(2024, 1, 1), date(2024, 3, 31))),
        ("trade in the third quarter of 2022", (date(2022, 7, 1), date(2022, 9, 30))),
        ("at the April 2024 briefing on first-quarter 2024 trade", (date(2024, 4, 1), date(2024, 4, 30))),
    ],
)
def test_date_window_reads_the_time_a_question_names(question, window):
    assert date_window(question) == window


@pytest.mark.parametrize(
    "question",
    ["What was the customs tax take for 2022?", "What did customs say about exotic pets?", "Is May a good month?"],
)
def test_no_window_for_a_figure_year_or_no_time(question):
    assert date_window(question) is None


def test_asks_what_was_asked():
    assert asks_what_was_asked("What did CCTV ask the customs minister?")
    assert asks_what_was_asked("Which outlet raised container worries?")
    assert asks_what_was_asked("Which newspaper brought up exotic pets?")
    assert not asks_what_was_asked("What did customs say about exotic pets?")
    assert not asks_what_was_asked("Who previewed the strategy for reporters?")
    assert not asks_what_was_asked("Who fielded the question on the dangerous goods campaign?")


def test_asks_for_a_figure():
    assert asks_for_a_figure("How many exotic animals did customs intercept?")
    assert asks_for_a_figure("What was the trade volume in 2022?")
    assert not asks_for_a_figure("What did customs say about exotic pets?")
    assert not asks_for_a_figure("What did customs say about exotic pets in 2022?")  # a year is a time


def test_figure_questions_weigh_bm25_more(dated_index, monkeypatch):
    import briefqa.searching.rankings

    weights = []
    monkeypatch.setitem(
        briefqa.searching.rankings.FUSIONS, "weighted", lambda dense, bm25, o: weights.append(o.dense_weight) or {}
    )
    options = SearchOptions(dense_weight=0.6, figure_dense_weight=0.5)
    dated_index.rank("How many jobs will the grid grants create?", options=options)
    dated_index.rank("What will the grid grants pay for?", options=options)
    dated_index.rank("How many jobs?", options=options.model_copy(update={"figure_dense_weight": None}))
    assert weights == [0.5, 0.6, 0.6]


def test_adjust_prefers_the_window_softly_and_answers_over_reporters():
    window = (date(2022, 10, 1), date(2022, 10, 31))
    assert date_closeness(date(2022, 10, 15), window, 30) == 1.0
    assert date_closeness(date(2022, 11, 30), window, 30) == pytest.approx(0.3679, abs=1e-4)  # 30 days out
    assert date_closeness(None, window, 30) == 0.0
    facts = {
        1: RowFacts("b1", 1, date(2022, 10, 5), "official", "Sun Yuning"),
        2: RowFacts("b2", 1, date(2021, 1, 5), "official", "Yu Jianhua"),
        3: RowFacts("b1", 2, date(2022, 10, 5), "reporter", "Yicai.com"),
        4: RowFacts("b1", 4, date(2022, 10, 5), "reporter", "CCTV"),
    }
    fused = {1: 0.5, 2: 0.9, 3: 0.6, 4: 0.6}
    options = SearchOptions(date_weight=0.3, reporter_weight=0.2)
    adjusted = adjust(fused, facts, QuestionCues(window, False, "what did customs say?"), options)
    assert adjusted == pytest.approx({1: 0.8, 2: 0.9, 3: 0.7, 4: 0.7})  # a far better match from 2021 stays first
    # no window; the question asks what was asked: reporters' turns gain half the weight, the one it names all of it
    cues = read_cues("What did Yicai.com ask about speed and safety?")
    assert cues == QuestionCues(None, True, "what did yicai.com ask about speed and safety?")
    assert adjust(fused, facts, cues, options) == pytest.approx({1: 0.5, 2: 0.9, 3: 0.8, 4: 0.7})


def test_best_sentences_add_to_answers_and_to_reporters_only_when_asked():
    facts = {
        1: RowFacts("b1", 1, None, "official", "Sun Yuning"),
        2: RowFacts("b1", 3, None, "official", "Yu Jianhua"),
        3: RowFacts("b1", 2, None, "reporter", "CCTV"),
    }
    fused = {1: 0.5, 2: 0.6, 3: 0.4}
    best_sentence = {1: 0.8, 2: 0.4, 3: 0.6}  # normalised: 1.0, 0.0, 0.5
    options = SearchOptions(sentence_weight=0.2)
    answers = read_cues("How much did exports grow?")
    assert add_best_sentences(fused, best_sentence, facts, answers, options) == pytest.approx({1: 0.7, 2: 0.6, 3: 0.4})
    asked = read_cues("What did CCTV ask about exports?")
    assert add_best_sentences(fused, best_sentence, facts, asked, options) == pytest.approx({1: 0.7, 2: 0.6, 3: 0.5})
    off = options.model_copy(update={"sentence_weight": 0.0})
    assert add_best_sentences(fused, best_sentence, facts, answers, off) == fused


def test_a_question_names_a_speaker_as_whole_words():
    cues = read_cues("What did CCTV ask Mr. Yu in Q1 2024?")
    assert cues.names("CCTV") and cues.names("Yu")
    assert not cues.names("Q") and not cues.names("CCT") and not cues.names("Yicai.com")


TRANSCRIPT = """---
date: '{day}'
title: "Press Briefing by Press Secretary Jane Roe, {day}"
---

MS. ROE:  Good afternoon.  The {word} grid grants will pay for new transmission lines in forty states.

Q    How many jobs will the grid grants create?

MS. ROE:  About 12,000 construction jobs, most of them in rural counties.
"""


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("dated")
    for day, word in (("2022-03-10", "new"), ("2022-10-12", "federal"), ("2023-06-01", "big")):
        (corpus / f"{day}-press-briefing.md").write_text(TRANSCRIPT.format(day=day, word=word))
    out = corpus.parent / "dated-index"
    build_index([corpus], out, BuildOptions(model="hash"))
    return load_index(out)


def test_a_dated_question_prefers_briefings_held_then(dated_index):
    def first_day(question, options=None):
        return dated_index.search(question, k=3, options=options)[0].held_on

    assert first_day("How many jobs will the grid grants create in October 2022?") == date(2022, 10, 12)
    assert first_day("How many jobs will the grid grants create in spring 2022?") == date(2022, 3, 10)
    assert first_day("How many jobs will the grid grants create in June 2023?") == date(2023, 6, 1)
    # a preference, not a filter: the other briefings still answer, and filters still rule
    assert len(dated_index.search("grid grants jobs in October 2022", k=3)) == 3
    only_2023 = SearchOptions(filters=Filters(since=date(2023, 1, 1)))
    assert first_day("How many jobs will the grid grants create in October 2022?", only_2023) == date(2023, 6, 1)


def test_reporters_restating_a_topic_come_after_the_answer(dated_index):
    question = "How many jobs will the grid grants create?"
    roles = [r.role for r in dated_index.search(question, k=6)]
    assert roles.index("official") < roles.index("reporter")
    asked = [r.role for r in dated_index.search("Which reporter asked how many jobs the grid grants create?", k=6)]
    assert asked[0] == "reporter"
    off = SearchOptions(reporter_weight=0.0)
    assert dated_index.search(question, k=1, options=off)[0].role == "reporter"  # the question's own words


# Each rule of reading a question (SearchOptions.question) is a switch, for an ablation.


def test_switching_off_dates_ranks_a_dated_question_as_if_it_named_no_time(dated_index):
    question = "How many jobs will the grid grants create in spring 2022?"
    no_dates = dated_index.rank(question, k=6, question=QuestionRules(dates=False))
    assert no_dates == dated_index.rank(question, k=6, date_weight=0.0)
    assert no_dates != dated_index.rank(question, k=6)
    assert read_cues(question, QuestionRules(dates=False)).window is None


def test_switching_off_the_next_first_quarter_keeps_a_year_to_itself(dated_index):
    assert date_window("What did customs seize in 2022?", year_reaches_next_q1=False) == (
        date(2022, 1, 1),
        date(2022, 12, 31),
    )
    question = "How many jobs will the grid grants create in 2022?"
    rules = QuestionRules(year_reaches_next_q1=False)
    assert read_cues(question, rules).window == (date(2022, 1, 1), date(2022, 12, 31))
    held = {r.passage_id: r for r in dated_index.search_passages(question, k=9)}
    alone = {r.passage_id: r for r in dated_index.search_passages(question, k=9, question=rules)}
    june_2023 = [pid for pid, r in held.items() if r.held_on == date(2023, 6, 1)]
    assert held.keys() == alone.keys() and june_2023
    assert all(alone[pid].score < held[pid].score for pid in june_2023)
    assert all(alone[pid].score == held[pid].score for pid in held if pid not in june_2023)


def test_switching_off_what_was_asked_and_the_outlet_named():
    facts = {
        1: RowFacts("b1", 1, None, "official", "Sun Yuning"),
        3: RowFacts("b1", 2, None, "reporter", "Yicai.com"),
        4: RowFacts("b1", 4, None, "reporter", "CCTV"),
    }
    fused = {1: 0.5, 3: 0.6, 4: 0.6}
    options = SearchOptions(reporter_weight=0.2)
    question = "What did Yicai.com ask about speed and safety?"

    def adjusted(rules):
        return adjust(fused, facts, read_cues(question, rules), options)

    assert adjusted(QuestionRules()) == pytest.approx({1: 0.5, 3: 0.8, 4: 0.7})
    assert adjusted(QuestionRules(names_an_outlet=False)) == pytest.approx({1: 0.5, 3: 0.7, 4: 0.7})
    assert adjusted(QuestionRules(asks_what_was_asked=False)) == pytest.approx({1: 0.5, 3: 0.4, 4: 0.4})
    half = options.model_copy(update={"asked_reporter_share": 0.25})
    assert adjust(fused, facts, read_cues(question), half) == pytest.approx({1: 0.5, 3: 0.8, 4: 0.65})


def test_switching_off_what_was_asked_puts_reporters_back_in_a_search(dated_index):
    question = "Which reporter asked how many jobs the grid grants create?"
    off = QuestionRules(asks_what_was_asked=False)

    def reporters(**settings):
        return {
            r.passage_id: r.score
            for r in dated_index.search_passages(question, k=9, **settings)
            if r.role == "reporter"
        }

    # read, the question makes reporters' turns answers: a gain of reporter_weight's share
    read, unweighted = reporters(), reporters(reporter_weight=0.0)
    assert read.keys() == unweighted.keys() and read and all(read[pid] > unweighted[pid] for pid in read)
    # not read, they are restatements: they lose reporter_weight, as for any question
    lost = reporters(question=off, reporter_weight=0.0)
    assert reporters(question=off) == pytest.approx({pid: s - 0.2 for pid, s in lost.items()})


def test_switching_off_figures_keeps_the_dense_weight(dated_index, monkeypatch):
    import briefqa.searching.rankings

    weights = []
    monkeypatch.setitem(
        briefqa.searching.rankings.FUSIONS, "weighted", lambda dense, bm25, o: weights.append(o.dense_weight) or {}
    )
    dated_index.rank("How many jobs will the grid grants create?", figure_dense_weight=0.5)
    dated_index.rank(
        "How many jobs will the grid grants create?", figure_dense_weight=0.5, question={"asks_for_a_figure": False}
    )
    dated_index.rank("How many jobs will the grid grants create?")  # the default: no figure weight
    assert weights == [0.5, 0.6, 0.6]
    assert not read_cues("How many jobs?", QuestionRules(asks_for_a_figure=False)).asks_for_a_figure


def test_search_takes_its_options_as_keywords(dated_index):
    question = "How many jobs will the grid grants create?"

    def ids(results):
        return [r.passage_id for r in results]

    assert ids(dated_index.search(question, k=3, mode="bm25")) == ids(
        dated_index.search(question, k=3, options=SearchOptions(mode="bm25"))
    )
    since = SearchOptions(mode="bm25", filters=Filters(since=date(2023, 1, 1), role="official"))
    expected = ids(dated_index.search(question, k=3, options=since))
    assert ids(dated_index.search(question, k=3, mode="bm25", since=date(2023, 1, 1), role="official")) == expected
    # a keyword replaces that option; a filter keyword adds to the options' filters, or to filters=
    assert (
        ids(
            dated_index.search(
                question, k=3, options={"mode": "dense"}, mode="bm25", since="2023-01-01", role="official"
            )
        )
        == expected
    )
    assert (
        ids(dated_index.search(question, 3, {"mode": "bm25", "filters": {"role": "official"}}, since="2023-01-01"))
        == expected
    )
    assert (
        ids(dated_index.search(question, k=3, mode="bm25", filters=Filters(since="2023-01-01"), role="official"))
        == expected
    )
    assert dated_index.rank(question, 2, depth=5) == dated_index.rank(question, 2, SearchOptions(depth=5))
    assert dated_index.rank_turns(question, 2, rrf_k=10, fusion="rrf") == dated_index.rank_turns(
        question, 2, SearchOptions(fusion="rrf", rrf_k=10)
    )
    with pytest.raises(ValueError, match="unknown search option 'modes'"):
        dated_index.search(question, modes="bm25")
    with pytest.raises(ValueError, match="unknown search options 'colour', 'speakers'"):
        dated_index.search_passages(question, speakers="roe", colour="red")
    with pytest.raises(ValueError, match="Input should be 'dense', 'bm25' or 'hybrid'"):
        dated_index.search(question, mode="fancy")
    with pytest.raises(ValueError, match="after until"):
        dated_index.search(question, since="2023-01-01", until="2022-01-01")


def test_filler_is_told_from_a_short_answer():
    from briefqa.searching.rankings import is_filler

    stop = {"the", "you", "here", "and", "what", "that", "this", "it", "does", "me", "one", "go"}

    def words(text):
        return [w for w in re.findall(r"[a-z']{3,}", text.lower()) if w not in stop]

    for filler in (
        "Give me one second here.",
        "It does.",
        "(inaudible) seat",
        "Thank you, Karine. Go ahead.",
        "Next question.",
        "by making those comments, it's kind of connected to what the — the Federal —",
        "[Crosstalk] Sorry, go ahead...",
    ):
        assert is_filler(filler, words), filler
    for content in (
        "Yes, the President will sign the bill next week.",
        "Customs seized 1,200 exotic animals at ports last year.",
        "Thank you. " + "We have doubled inspections at every port since the outbreak began in the spring. " * 5,
    ):
        assert not is_filler(content, words), content


def test_filler_never_leads_a_hybrid_answer():
    from briefqa.searching.rankings import best

    facts = {row: RowFacts("b", row, date(2023, 1, 1), "official", "X") for row in (1, 2)}
    fused = {1: 0.95, 2: 0.8}  # 1: "Give me one second here." matched best by its words
    cues = read_cues("one second")
    assert [row for row, _ in best(adjust(fused, facts, cues, SearchOptions(), {1}), 2)] == [2, 1]
    off = SearchOptions(filler_weight=0)
    assert [row for row, _ in best(adjust(fused, facts, cues, off, {1}), 2)] == [1, 2]
