"""BM25 in several languages: each passage stemmed in its own, a query in all the index holds."""

import json

import numpy as np
import pytest

from briefqa.indexing.bm25 import LANGUAGES, MATRIX, PARAMS, STOPWORDS, VOCAB, Bm25Scorer, build_bm25, tokenize
from briefqa.reading.language import STEMMER_LANGUAGES

ENGLISH = [
    "The minister said exports of soybeans rose sharply this year despite the new tariffs.",
    "Reporters asked whether the negotiations with the European Union would resume in March.",
    "We will not comment on the smuggling of exotic pets across the border.",
    "Customs officers seized illegal wildlife shipments at the port, the spokesperson said.",
]
SPANISH = [
    "El ministro anunció que el gobierno va a exportar más soja a Asia el próximo año.",
    "La portavoz habló del arancel sobre el acero y de la inflación en la región.",
]
FRENCH = [
    "Le porte-parole a déclaré que la France était prête à négocier avec ses partenaires.",
    "Les agriculteurs ont manifesté devant le ministère contre la baisse des prix du lait.",
]
TEXTS = ENGLISH + SPANISH + FRENCH
CODES = ["en"] * len(ENGLISH) + ["es"] * len(SPANISH) + ["fr"] * len(FRENCH)
SPANISH_EXPORT, FRENCH_NEGOTIATE = len(ENGLISH), len(ENGLISH) + len(SPANISH)
QUERIES = [
    "exports of soybeans",
    "What did the spokesperson say about smuggling smuggling exotic pets?",
    "tariffs and the negotiations",
    "the of and",
    "zzz unknown words",
    "customs seized wildlife at the border port",
]


def build_old(texts, directory):
    """build_bm25 as it was before languages: English stemmer and stopwords, stopwords.json a list."""
    import bm25s
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    stemmer, stopwords = Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)
    retriever = bm25s.BM25(method="lucene")
    retriever.index([tokenize(t, stemmer, stopwords) for t in texts], show_progress=False)
    retriever.save(str(directory), show_progress=False)
    (directory / STOPWORDS).write_text(json.dumps(sorted(stopwords)))


def old_tokens(query):
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return tokenize(query, Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN))


def old_scores(directory, query):
    """Bm25Scorer.scores as it was before languages, on an index the old build wrote."""
    num_docs = json.loads((directory / PARAMS).read_text())["num_docs"]
    vocab = json.loads((directory / VOCAB).read_text())
    data, indices, indptr = (np.load(directory / name, allow_pickle=False) for name in MATRIX)
    scores = np.zeros(num_docs, dtype=np.float32)
    for token in old_tokens(query):
        column = vocab.get(token)
        if column is not None:
            scores[indices[indptr[column] : indptr[column + 1]]] += data[indptr[column] : indptr[column + 1]]
    return scores


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mixed")
    build_bm25(TEXTS, directory, CODES)
    return directory


@pytest.fixture(scope="module")
def english_only(tmp_path_factory):
    directory = tmp_path_factory.mktemp("english")
    build_bm25(TEXTS, directory)  # the same texts, all stemmed as English
    return directory


def test_the_snowball_stemmers_conflate_what_the_tests_rely_on():
    import Stemmer

    spanish, french, english = (Stemmer.Stemmer(name) for name in ("spanish", "french", "english"))
    assert {spanish.stemWord(w) for w in ("exportaciones", "exportación", "exportar")} == {"export"}
    assert english.stemWord("exportaciones") != english.stemWord("exportar")
    assert {french.stemWord(w) for w in ("négociations", "négocier")} == {"négoci"}
    assert english.stemWord("négociations") != english.stemWord("négocier")


def test_a_spanish_query_finds_another_form_of_its_word(mixed, english_only):
    query = "¿Cuánto crecieron las exportaciones?"
    scores = Bm25Scorer(mixed).scores(query)
    assert int(np.argmax(scores)) == SPANISH_EXPORT and scores[SPANISH_EXPORT] > 0
    assert Bm25Scorer(english_only).scores(query)[SPANISH_EXPORT] == 0  # English stems miss it


def test_a_french_query_finds_another_form_of_its_word(mixed, english_only):
    query = "Où en sont les négociations ?"
    scores = Bm25Scorer(mixed).scores(query)
    assert int(np.argmax(scores)) == FRENCH_NEGOTIATE and scores[FRENCH_NEGOTIATE] > 0
    assert Bm25Scorer(english_only).scores(query)[FRENCH_NEGOTIATE] == 0


def test_an_english_query_still_finds_english_passages_in_a_mixed_index(mixed):
    scores = Bm25Scorer(mixed).scores("smuggling exotic pets")
    assert int(np.argmax(scores)) == 2


def test_the_index_records_its_languages_and_their_stopwords(mixed, tmp_path):
    from bm25s import stopwords

    held = json.loads((mixed / LANGUAGES).read_text(encoding="utf-8"))["languages"]
    assert list(held) == ["en", "es", "fr"]
    assert held["es"] == sorted(set(stopwords.STOPWORDS_SPANISH))
    assert held["fr"] == sorted(set(stopwords.STOPWORDS_FRENCH))
    assert not (mixed / STOPWORDS).exists()
    assert list(Bm25Scorer(mixed).languages) == ["en", "es", "fr"]
    build_bm25(SPANISH + ENGLISH[:1], tmp_path, ["es", "es", "xx"])  # unknown code: English
    assert list(json.loads((tmp_path / LANGUAGES).read_text())["languages"]) == ["en", "es"]


def test_every_stemmer_language_has_stopwords(tmp_path):
    codes = sorted(STEMMER_LANGUAGES)
    build_bm25([f"text number {i} in {code}" for i, code in enumerate(codes)], tmp_path, codes)
    held = json.loads((tmp_path / LANGUAGES).read_text(encoding="utf-8"))["languages"]
    assert sorted(held) == codes and all(held.values())


def test_one_language_per_text(tmp_path):
    with pytest.raises(ValueError, match="2 languages for 3 texts"):
        build_bm25(TEXTS[:3], tmp_path, ["en", "es"])


def test_a_word_stemmed_alike_in_two_languages_counts_once(mixed):
    scorer = Bm25Scorer(mixed)
    assert scorer.tokens("arancel") == ["arancel"]  # the same stem in English, Spanish and French
    assert scorer.tokens("arancel arancel") == ["arancel", "arancel"]  # a repeated word counts again
    column = scorer.vocab["arancel"]
    once = np.zeros(scorer.num_docs, dtype=np.float32)
    once[scorer.indices[scorer.indptr[column] : scorer.indptr[column + 1]]] = scorer.data[
        scorer.indptr[column] : scorer.indptr[column + 1]
    ]
    np.testing.assert_array_equal(scorer.scores("arancel"), once)
    np.testing.assert_array_equal(scorer.scores("arancel arancel"), 2 * once)


def test_mixed_scores_equal_bm25s_scores_of_the_union(mixed):
    import bm25s

    scorer = Bm25Scorer(mixed)
    retriever = bm25s.BM25.load(str(mixed))
    for query in [*QUERIES, "las exportaciones de soja", "les négociations agricoles"]:
        tokens = [t for t in scorer.tokens(query) if t in retriever.vocab_dict]
        expected = retriever.get_scores(tokens) if tokens else np.zeros(len(TEXTS))
        np.testing.assert_allclose(scorer.scores(query), expected, rtol=1e-5)


@pytest.mark.parametrize("languages", [None, ["en"] * len(ENGLISH), ["en", "en", "xx", "en"]])
def test_an_english_index_scores_exactly_as_before(tmp_path, languages):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    build_old(ENGLISH, old)
    build_bm25(ENGLISH, new, languages)
    for name in (PARAMS, VOCAB, *MATRIX):  # the same matrix...
        assert (new / name).read_bytes() == (old / name).read_bytes(), name
    scorer = Bm25Scorer(new)
    for query in QUERIES:  # ...the same tokens, so the same scores
        assert scorer.tokens(query) == old_tokens(query)
        np.testing.assert_array_equal(scorer.scores(query), old_scores(old, query))


def test_an_index_built_before_languages_still_loads_and_scores_as_before(tmp_path):
    build_old(ENGLISH, tmp_path)
    assert isinstance(json.loads((tmp_path / STOPWORDS).read_text()), list)
    assert not (tmp_path / LANGUAGES).exists()
    scorer = Bm25Scorer(tmp_path)
    assert list(scorer.languages) == ["en"]
    for query in QUERIES:
        assert scorer.tokens(query) == old_tokens(query)
        np.testing.assert_array_equal(scorer.scores(query), old_scores(tmp_path, query))


@pytest.mark.parametrize(
    "languages",
    [{"languages": {"xx": []}}, {"languages": {}}, {"languages": ["en"]}, {"languages": {"en": "the"}}, {}],
)
def test_a_damaged_languages_file_is_refused(tmp_path, languages):
    build_bm25(ENGLISH, tmp_path)
    (tmp_path / LANGUAGES).write_text(json.dumps(languages))
    with pytest.raises((ValueError, KeyError)):
        Bm25Scorer(tmp_path)
