"""Index build, save/load, search, filters, incremental add and damage, with the hashing embedder."""

import json
import shutil
from datetime import date

import numpy as np
import pytest

from briefqa.indexing.build import add_to_index, build_index
from briefqa.indexing.content import CONTENT
from briefqa.indexing.embed import HashEmbedder
from briefqa.indexing.layout import MANIFEST, SENTENCE_STARTS, SENTENCES, VECTORS
from briefqa.indexing.manifest import IndexLoadError
from briefqa.options import BuildOptions, ChunkSettings, SearchOptions
from briefqa.searching.index import load_index
from tests.conftest import CORPUS, HASH_SMALL

SMALL = HASH_SMALL.chunking
BORDERS = "scio-2023-03-20-customs-safeguard-borders"
MODES = ["dense", "bm25", "hybrid"]


def build(out, corpus=(CORPUS,), options=HASH_SMALL, **kw):
    return build_index(list(corpus), out, options, **kw)


def search(index, query, k=5, mode="hybrid", flat=False, **filters):
    """One result per turn; ``flat``: the k best passages."""
    method = index.search_passages if flat else index.search
    return method(query, k=k, options=SearchOptions(mode=mode, filters=filters))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "index"
    report = build(out)
    return out, report


def test_build_reports_and_writes_plain_directory(built):
    out, report = built
    assert report.written and report.embedded == report.passages > 100
    assert len(report.added) == 5
    for name in (MANIFEST, CONTENT, VECTORS, "bm25/params.index.json"):
        assert (out / name).exists()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["model"]["name"] == "hash" and manifest["passages"] == report.passages
    assert manifest["chunking"]["max_tokens"] == 120


def test_passages_slice_back_to_transcripts(built, briefings):
    out, _ = built
    index = load_index(out)
    for p in index.passages:
        assert briefings[p.briefing_id].text[p.char_start : p.char_end] == p.text
    long_turn = [p for p in index.passages if p.briefing_id == BORDERS and p.turn_index == 23]
    assert len(long_turn) > 1  # split
    assert all(a.char_start < b.char_start for a, b in zip(long_turn, long_turn[1:]))
    assert any(a.char_end > b.char_start for a, b in zip(long_turn, long_turn[1:]))  # overlap


@pytest.mark.parametrize("mode", MODES)
def test_search_finds_exotic_pets(built, mode):
    index = load_index(built[0])
    results = search(index, "exotic pets alien species intercepted", k=3, mode=mode)
    assert len(results) == 3
    assert results[0].briefing_id == BORDERS and results[0].turn_index in (21, 22, 23)
    top = results[0]
    assert top.rank == 1 and top.highlight in top.text
    assert top.citation.startswith(f"{top.speaker}, SCIO briefing on China Customs")
    assert "(2023-03-20), turn " in top.citation


def test_loaded_index_ranks_as_exact_cosine_over_freshly_embedded_passages(built):
    """What was written (vectors, their order, the passages) is what was embedded: the loaded
    index's dense ranking equals brute-force cosine over the passages' texts embedded now."""
    from briefqa.reading.corpus import load_corpus
    from briefqa.reading.passages import chunk_briefings

    index = load_index(built[0])
    chunked = chunk_briefings(load_corpus([CORPUS]).briefings, SMALL, HashEmbedder().count_tokens)
    assert [p.id for p in chunked] == [p.id for p in index.passages]  # rows in the order they were made
    fresh = HashEmbedder().encode([p.embedded_text for p in chunked])
    for query in ("smuggling crackdown", "Winter Olympics customs clearance", "Hengqin"):
        expected = np.argsort(-(fresh @ HashEmbedder().encode([query])[0]), kind="stable")[:5]
        ranked = index.rank(query, 5, SearchOptions(mode="dense"))
        assert [row for row, _ in ranked] == list(expected)


def test_each_passage_keeps_the_vectors_of_its_own_sentences(built):
    from briefqa.reading.passages import sentence_texts

    index = load_index(built[0])
    query = HashEmbedder().encode(["exotic pets intercepted at the border"])[0]
    rows = [0, 7, len(index.passages) - 1, *range(40, 60)]
    expected = [max(HashEmbedder().encode(sentence_texts(index.passages[row])) @ query) for row in rows]
    np.testing.assert_allclose(index.sentences.best(rows, query), expected, atol=2e-3)  # stored in fp16
    assert all(len(sentence_texts(index.passages[row])) > 1 for row in rows)


def test_a_passage_of_one_sentence_has_its_passage_vector_for_that_sentence(built):
    """Not embedded twice: the build reuses the passage's vector (eval results identical)."""
    from briefqa.reading.passages import sentence_texts

    index = load_index(built[0])
    single = [row for row, p in enumerate(index.passages) if len(sentence_texts(p)) == 1]
    assert single, "the fixture corpus should hold passages of one sentence"
    query = HashEmbedder().encode(["exotic pets intercepted at the border"])[0]
    alone = HashEmbedder().encode([sentence_texts(index.passages[row])[0] for row in single]) @ query
    as_passage = index.vectors.vectors(single) @ query
    assert not np.allclose(alone, as_passage, atol=1e-2)  # the two differ: the passage's carries its context
    np.testing.assert_allclose(index.sentences.best(single, query), as_passage, atol=2e-3)


def test_sentence_texts_carry_the_speaker_and_keep_short_sentences_with_the_one_before():
    from briefqa.reading.passages import sentence_texts
    from briefqa.records import Passage

    text = "Thank you. Imports rose 5% in May.  Yes, they did.\nExports fell (slightly) too! Why? Costs."
    p = Passage(
        id="b#1",
        briefing_id="b",
        briefing_title="T",
        held_on=None,
        turn_index=1,
        part=1,
        speaker="Mr. Yu",
        role="official",
        text=text,
        char_start=0,
        char_end=len(text),
    )
    assert sentence_texts(p) == [
        "Mr. Yu: Thank you.",
        "Mr. Yu: Imports rose 5% in May. Yes, they did.",
        "Mr. Yu: Exports fell (slightly) too! Why? Costs.",
    ]


def test_result_fields_and_question(built):
    index = load_index(built[0])
    (r,) = search(index, "exotic pets", k=1, speaker="Zhao Zenglian", briefing=BORDERS)
    assert r.role == "official" and r.question is not None
    assert r.question.outlet == "Shenzhen Satellite TV Zhinews" and r.question.turn_index == 21
    assert r.highlight_start >= r.char_start and r.highlight_end <= r.char_end


def test_filters_apply_before_ranking(built):
    index = load_index(built[0])
    li_turns = {(p.briefing_id, p.turn_index) for p in index.passages if p.speaker == "Li Kuiwen"}
    for mode in MODES:
        res = search(index, "exotic pets", k=4, mode=mode, flat=True, speaker="li kuiwen")
        assert len(res) == 4 and {r.speaker for r in res} == {"Li Kuiwen"}
        turns = search(index, "exotic pets", k=len(li_turns) + 5, mode=mode, speaker="li kuiwen")
        assert {(r.briefing_id, r.turn_index) for r in turns} == li_turns  # every matching turn, once
        res = search(index, "exotic pets", k=3, mode=mode, role="reporter")
        assert len(res) == 3 and {r.role for r in res} == {"reporter"}
        res = search(index, "trade", k=50, mode=mode, outlet="zhinews")
        assert {r.briefing_id for r in res} == {BORDERS, "scio-2024-04-12-imports-exports-q1-2024"}
        assert all("zhinews" in r.speaker.lower() or (r.question and "Zhinews" in r.question.outlet) for r in res)
        res = search(index, "trade", k=3, mode=mode, since="2024-01-01", until=date(2024, 12, 31))
        assert len(res) == 3 and all(r.held_on >= date(2024, 1, 1) for r in res)
        assert search(index, "trade", k=3, mode=mode, briefing="no-such-id") == []


def test_filter_with_fewer_matches_than_k(built):
    index = load_index(built[0])
    res = search(index, "anything", k=20, flat=True, briefing="scio-2022-01-14-import-export-2021")
    mine = [p for p in index.passages if p.briefing_id == "scio-2022-01-14-import-export-2021"]
    assert len(res) == len(mine) < 20
    turns = search(index, "anything", k=20, briefing="scio-2022-01-14-import-export-2021")
    assert len(turns) == len({p.turn_index for p in mine}) < len(mine)
    assert sum(1 + len(r.more) for r in turns) == len(mine)  # each passage once: leading a turn, or in more


def test_incremental_add(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("scio-2022-01-14-import-export-2021.txt", "scio-2024-04-12-imports-exports-q1-2024.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    out = tmp_path / "index"
    first = build(out, [corpus])
    new = tmp_path / "scio-2021-07-13-import-export-h1-2021.txt"
    shutil.copy(CORPUS / new.name, new)

    added = add_to_index([new], out)
    assert added.added == [new.stem] and added.written
    assert added.reused == first.passages and added.embedded == added.passages - first.passages
    assert added.sentences > first.sentences and 0 < added.sentences_embedded <= added.sentences - first.sentences

    again = add_to_index([new], out)
    assert not again.written and again.unchanged == [new.stem] and again.embedded == 0

    new.write_text(new.read_text().replace("Thank you for your questions.", "Thanks for asking."))
    changed = add_to_index([new], out)
    assert changed.replaced == [new.stem] and 0 < changed.embedded < 4 and 0 < changed.sentences_embedded < 4
    index = load_index(out)
    texts = [p.text for p in index.passages if p.briefing_id == new.stem]
    assert any("Thanks for asking." in t for t in texts)
    assert not any("Thank you for your questions." in t for t in texts)


def test_model_mismatch_is_refused(built):
    with pytest.raises(IndexLoadError, match="built with model 'hash', not 'all-MiniLM-L6-v2'.*Rebuild it with"):
        load_index(built[0], model="all-MiniLM-L6-v2")
    # the same check (briefqa.indexing.manifest.require_model) for a query encoder and for an add
    with pytest.raises(IndexLoadError, match="built with another 'hash' \\(other weights or another dimension\\)"):
        load_index(built[0]).use_embedder(HashEmbedder(dimension=128))
    with pytest.raises(IndexLoadError, match="built with another 'hash'"):
        add_to_index([CORPUS], built[0], embedder=HashEmbedder(dimension=128))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / CONTENT).write_text("{not sqlite\n"), "damaged"),
        (lambda d: (d / VECTORS).unlink(), "vectors.faiss is missing"),
        (lambda d: (d / VECTORS).write_bytes((d / VECTORS).read_bytes()[:100]), "vectors.faiss is damaged"),
        (lambda d: (d / MANIFEST).write_text("{}"), "manifest.json is damaged"),
        (lambda d: (d / SENTENCES).write_bytes((d / SENTENCES).read_bytes()[:100]), "sentences.npy .*is damaged"),
        (lambda d: (d / SENTENCE_STARTS).write_bytes(b"x" * (d / SENTENCE_STARTS).stat().st_size), "is damaged"),
        (
            lambda d: (d / MANIFEST).write_text(
                (d / MANIFEST).read_text().replace('"max_tokens": 120', '"max_tokens": 99')
            ),
            "changed after the index was built",
        ),
    ],
)
def test_damaged_index_gives_its_message(built, tmp_path, damage, message):
    copy = tmp_path / "copy"
    shutil.copytree(built[0], copy)
    damage(copy)
    with pytest.raises(IndexLoadError, match=message) as err:
        load_index(copy)
    assert "briefqa index build" in str(err.value)


class ExplodingEmbedder(HashEmbedder):
    def encode(self, texts, batch_size=64, progress=None):
        raise KeyboardInterrupt  # an interrupted build


def test_interrupted_build_leaves_old_index(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "scio-2022-01-14-import-export-2021.txt", corpus)
    out = tmp_path / "index"
    build(out, [corpus])
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    shutil.copy(CORPUS / "scio-2021-07-13-import-export-h1-2021.txt", corpus)
    with pytest.raises(KeyboardInterrupt):
        build(out, [corpus], embedder=ExplodingEmbedder())
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    # no temp dirs left; the vectors checkpoint stays for the next run of the build
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", ".index.vectors.sqlite", "corpus", "index"]
    assert len(load_index(out).passages) > 0


def test_failed_write_leaves_old_index(tmp_path, monkeypatch):
    out = tmp_path / "index"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "scio-2022-01-14-import-export-2021.txt", corpus)
    build(out, [corpus])
    manifest_before = (out / MANIFEST).read_text()
    shutil.copy(CORPUS / "scio-2021-07-13-import-export-h1-2021.txt", corpus)
    import briefqa.indexing.writing as store

    def broken_swap(new, target):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(store, "_swap_in", broken_swap)
    with pytest.raises(store.IndexWriteError, match="the disk is full; free some space"):
        build(out, [corpus])
    assert (out / MANIFEST).read_text() == manifest_before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", ".index.vectors.sqlite", "corpus", "index"]
    monkeypatch.undo()
    again = build(out, [corpus])  # the failed build's vectors are taken from its checkpoint
    assert again.written and again.embedded == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", "corpus", "index"]


def test_query_time_bm25_equals_bm25s_scores(built):
    import bm25s
    import numpy as np

    index = load_index(built[0])
    retriever = bm25s.BM25.load(str(built[0] / "bm25"))
    for query in ("exotic pets smuggling smuggling", "Winter Olympics customs", "zzz unknown words"):
        tokens = [t for t in index.bm25.tokens(query) if t in retriever.vocab_dict]
        expected = retriever.get_scores(tokens) if tokens else np.zeros(len(index.passages))
        np.testing.assert_allclose(index.bm25.scores(query), expected, rtol=1e-5)


def test_fusion_rrf_and_weighted_on_hand_made_rankings():
    from briefqa.searching.rankings import FUSIONS, best

    def fuse(dense, bm25, k, options):  # as hybrid search fuses, before its preferences
        return best(FUSIONS[options.fusion](dense, bm25, options), k)

    dense = [(1, 0.9), (2, 0.5), (3, 0.1)]
    bm25 = [(2, 12.0), (4, 10.0), (3, 2.0)]
    rrf = fuse(dense, bm25, 4, SearchOptions(fusion="rrf"))
    assert [row for row, _ in rrf] == [2, 3, 1, 4]
    rrf_k = SearchOptions().rrf_k
    sums = {2: 1 / (rrf_k + 2) + 1 / (rrf_k + 1), 3: 1 / (rrf_k + 3) * 2, 1: 1 / (rrf_k + 1), 4: 1 / (rrf_k + 2)}
    low, high = min(sums.values()), max(sums.values())
    # stretched to 0-1, the scale the preferences after fusion are weighed on
    assert dict(rrf) == pytest.approx({row: (v - low) / (high - low) for row, v in sums.items()})
    # min-max normalised: dense 1 -> 1.0, 2 -> 0.5, 3 -> 0.0; bm25 2 -> 1.0, 4 -> 0.8, 3 -> 0.0
    weighted = fuse(dense, bm25, 4, SearchOptions(fusion="weighted", dense_weight=0.5))
    assert [row for row, _ in weighted] == [2, 1, 4, 3]
    assert dict(weighted)[2] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert [row for row, _ in fuse(dense, bm25, 2, SearchOptions(dense_weight=0.9))] == [1, 2]


def test_hnsw_index_saves_its_search_breadth_and_ranks_like_flat(built, tmp_path):
    import faiss

    from briefqa.indexing.vectors import HNSW_EF_SEARCH

    out = tmp_path / "hnsw"
    build(out, options=HASH_SMALL.model_copy(update={"faiss_index": "hnsw"}))
    assert load_index(out).manifest.faiss_index == "hnsw"
    assert faiss.read_index(str(out / VECTORS)).hnsw.efSearch == HNSW_EF_SEARCH
    flat, hnsw = load_index(built[0]), load_index(out)
    for query in ("exotic pets alien species", "Winter Olympics flights", "RCEP tariff"):
        # a few hundred passages: HNSW at efSearch 128 is exact here
        assert [r for r, _ in hnsw.rank(query, 5, SearchOptions(mode="dense"))] == [
            r for r, _ in flat.rank(query, 5, SearchOptions(mode="dense"))
        ]
        # filtered to a small set, HNSW may find fewer than k: the exact fallback fills them
        res = search(hnsw, query, k=4, mode="dense", flat=True, speaker="li kuiwen")
        assert len(res) == 4 and {r.speaker for r in res} == {"Li Kuiwen"}


def test_search_options_are_checked():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="mode"):
        SearchOptions(mode="fancy")
    with pytest.raises(ValidationError, match="after until"):
        SearchOptions(filters={"since": "2024-02-01", "until": "2024-01-01"})
    with pytest.raises(ValidationError, match="dense_weight"):
        SearchOptions(dense_weight=1.5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"query": None}, "query must be a non-empty string, not None"),
        ({"query": b"exotic pets"}, "query must be a non-empty string, not b'exotic pets'"),
        ({"query": "  "}, "query must be a non-empty string, not '  '"),
        ({"k": 2.5}, "k must be a whole number of at least 1, not 2.5"),
        ({"k": "5"}, "k must be a whole number of at least 1, not '5'"),
        ({"k": True}, "k must be a whole number of at least 1, not True"),
        ({"k": 0}, "k must be a whole number of at least 1, not 0"),
        ({"options": {"mode": "fancy"}}, "Input should be 'dense', 'bm25' or 'hybrid'"),
        ({"options": {"modes": "bm25"}}, "modes\n  Extra inputs are not permitted"),
        ({"options": "bm25"}, "Input should be a valid dictionary or instance of SearchOptions"),
    ],
)
def test_search_arguments_of_the_wrong_type_say_what_was_expected(built, args, message):
    # These raised TypeError or AttributeError from deep inside the search.
    index = load_index(built[0])
    with pytest.raises(ValueError) as raised:  # pydantic's ValidationError is a ValueError
        index.search(**({"query": "exotic pets"} | args))
    assert message in str(raised.value)


def test_search_takes_options_as_a_dict_and_k_as_a_numpy_int(built):
    index = load_index(built[0])
    expected = index.search("exotic pets", k=3, options=SearchOptions(mode="bm25", filters={"speaker": "yu jianhua"}))
    got = index.search("exotic pets", k=np.int64(3), options={"mode": "bm25", "filters": {"speaker": "yu jianhua"}})
    assert [r.passage_id for r in got] == [r.passage_id for r in expected]
    assert len(got) == 3 and {r.speaker for r in got} == {"Yu Jianhua"}


@pytest.mark.parametrize("mode", MODES)
def test_rank_turns_gives_k_different_turns_each_with_its_passages_best_first(built, mode):
    index = load_index(built[0])
    options = SearchOptions(mode=mode)
    query = "exotic pets biological security smuggling"
    turns = index.rank_turns(query, k=5, options=options)
    keys = []
    for group in turns:
        parts = {(index.passages[row].briefing_id, index.passages[row].turn_index) for row, _ in group}
        assert len(parts) == 1  # one turn per group
        keys += parts
        assert [s for _, s in group] == sorted((s for _, s in group), reverse=True)
    assert len(keys) == len(set(keys)) == 5
    best = [group[0][1] for group in turns]
    assert best == sorted(best, reverse=True)  # turns rank by their best passage
    # the flat ranking's first passage leads the first turn, and some turn holds several passages
    assert index.rank(query, k=1, options=options)[0] == turns[0][0]
    many = index.rank_turns(query, k=20, options=options)
    assert any(len(group) > 1 for group in many)


def test_a_new_parser_version_reparses_on_the_next_build(tmp_path, monkeypatch):
    from briefqa.indexing.freshness import default_index_build
    from briefqa.reading.formats import scio

    out = tmp_path / "index"
    first = build(out)
    assert build(out).written is False  # nothing changed: nothing to do
    monkeypatch.setattr(scio, "VERSION", scio.VERSION + 1)
    again = build(out)
    assert again.written and sorted(again.replaced) == sorted(first.added) and again.embedded == 0
    assert json.loads((out / MANIFEST).read_text())["parsers"]["scio"] == scio.VERSION
    assert load_index(out).search("exotic pets", k=1)  # and it loads
    # the default index, built from corpus/ alone, is rebuilt when the parsers change
    monkeypatch.setattr(scio, "VERSION", scio.VERSION + 1)
    plan = default_index_build(out, CORPUS)
    assert plan is not None and "differently" in plan.reason


# A transcript whose characters take 1 to 4 bytes in UTF-8 (and two UTF-16 units, astral): its
# offsets count characters wherever the text is sliced.
WIDE = """Home   >   Press Room
SCIO press conference on port security — 港口安全 😀
china.org.cn | February 14, 2025
Date:
February 10, 2025
CCTV:
How many exotic animals 🦎 did customs intercept at ports last year? 海关拦截了多少批？
Wang Lin:
Customs intercepted 1,284 batches of exotic animals 🐍 at ports. Café and cafe\u0301 are 𝔠𝔲𝔰𝔱𝔬𝔪𝔰 words.
「引号」中的话。 Most came by post 📦 and by air ✈️, and each was sent back or destroyed.
The second half of the year saw fewer batches 🐢 than the first: 601 against 683. Thank you.
"""


def test_the_transcript_text_is_kept_once_and_sliced_by_character(tmp_path):
    import sqlite3

    from briefqa.indexing.content import ContentStore
    from briefqa.reading.corpus import load_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scio-2025-02-10-wide.txt").write_text(WIDE, encoding="utf-8")
    out = tmp_path / "index"
    build_index([corpus], out, BuildOptions(model="hash", chunking=ChunkSettings(max_tokens=24, overlap_tokens=6)))
    (briefing,) = load_corpus([corpus]).briefings
    index = load_index(out)
    assert len(index.passages) > 2  # the answer split, with overlap
    for p in index.passages:
        assert p.text == briefing.text[p.char_start : p.char_end]
        question = briefing.turn(p.answers_turn).text if p.answers_turn is not None else None
        assert p.question_text == question
    db = sqlite3.connect(out / CONTENT)
    columns = [r[1] for r in db.execute("PRAGMA table_info(passages)")]
    assert "text" not in columns and "question_text" not in columns
    (parsed,) = [json.loads(r[0]) for r in db.execute("SELECT parsed FROM transcripts")]
    assert parsed["turns"] and not any("text" in turn for turn in parsed["turns"])
    # the view for people slices as Python does
    view = db.execute("SELECT text, question_text FROM passage_texts ORDER BY row").fetchall()
    assert view == [(p.text, p.question_text) for p in index.passages]
    db.close()
    content = ContentStore(out / CONTENT)
    (transcript,) = content.transcripts()
    assert [t.text for t in transcript.turns] == [t.text for t in briefing.turns]
    content.close()


def test_no_empty_answer_heading_when_the_first_result_is_not_a_good_match(fixture_index):
    from rich.console import Console

    from briefqa.output.render import print_text
    from briefqa.searching.cite import GOOD_MATCH

    results = load_index(fixture_index).search("smart port Tianjin", 2)
    results[0].confidence, results[1].confidence = GOOD_MATCH / 2, min(1.0, GOOD_MATCH * 2)
    console = Console(record=True, width=80)
    print_text(console, results)
    shown = console.export_text()
    assert "Answer" not in shown and shown.startswith("[1] ")
    results[0].confidence = min(1.0, GOOD_MATCH * 2)  # a good first match: the answer leads
    console = Console(record=True, width=80)
    print_text(console, results)
    assert console.export_text().startswith("Answer")
