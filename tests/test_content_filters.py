"""ContentStore.allowed_rows builds its row masks with numpy from columns read once a process:
the same rows, for every filter, as the SQL condition the filters make (``_where``)."""

import itertools
import shutil
import sqlite3
from datetime import date, timedelta

import numpy as np
import pytest

from briefqa.indexing.build import build_index
from briefqa.indexing.content import CONTENT, ContentStore
from briefqa.options import Filters
from briefqa.searching.pipeline import held_near
from tests.conftest import CORPUS, HASH_SMALL


def _sql_rows(store: ContentStore, filters: Filters) -> np.ndarray:
    """The rows of the filters' SQL condition, one row at a time (the reference)."""
    where, values = store._where(filters)
    rows = [r[0] for r in store._db.execute(f"SELECT row FROM passages WHERE {where}", values)]
    mask = np.zeros(store.count, dtype=bool)
    mask[rows] = True
    return mask


def _filter_values(store: ContentStore) -> dict[str, list]:
    """Values to filter by: every name, label, outlet and briefing of the index, parts of names, names
    it lacks, and days before, on, between and after the days it holds."""
    db = store._db
    speakers = [r[0] for r in db.execute("SELECT DISTINCT speaker FROM passages")]
    labelled = [r[0] for r in db.execute("SELECT DISTINCT name FROM speaker_names")]
    outlets = [
        r[0]
        for column in ("outlet", "question_outlet")
        for r in db.execute(f"SELECT DISTINCT {column} FROM passages WHERE {column} IS NOT NULL")
    ]
    words = sorted({w.strip(".,") for name in speakers + labelled + outlets for w in name.split()} - {""})
    held = db.execute("SELECT DISTINCT held_on FROM passages WHERE held_on IS NOT NULL")
    days = sorted({date.fromisoformat(r[0]) for r in held})
    around = sorted({d + timedelta(days=shift) for d in days for shift in (-1, 0, 1)})
    return {
        "speaker": speakers + labelled + words[:40] + ["nobody at all"],
        "outlet": outlets + words[:20] + ["No Such Outlet"],
        "role": ["official", "chair", "reporter"],
        "briefing": [r[0] for r in db.execute("SELECT id FROM briefings")] + ["no-such-briefing"],
        "collection": [r[0] for r in db.execute("SELECT DISTINCT collection FROM briefings")] + ["nowhere"],
        "since": around,
        "until": around,
    }


def _combinations(values: dict[str, list]) -> list[Filters]:
    """Each filter alone with each of its values, and pairs and triples of filters."""
    found = [Filters.model_validate({name: v}) for name, vs in values.items() for v in vs]
    firsts = {name: vs[:: max(1, len(vs) // 4)] for name, vs in values.items()}
    for size in (2, 3):
        for names in itertools.combinations(firsts, size):
            for chosen in itertools.product(*(firsts[n] for n in names)):
                settings = dict(zip(names, chosen))
                if settings.get("since") and settings.get("until") and settings["since"] > settings["until"]:
                    continue
                found.append(Filters.model_validate(settings))
    return found


def _check_every_filter(store: ContentStore) -> int:
    checked = 0
    for filters in _combinations(_filter_values(store)):
        expected = _sql_rows(store, filters)
        assert np.array_equal(store.allowed_rows(filters), expected), filters
        assert np.array_equal(store._allowed_rows_sql(filters), expected), filters
        checked += 1
    return checked


def test_masks_match_the_sql_on_the_fixture_index(fixture_index):
    store = ContentStore(fixture_index / CONTENT)
    try:
        assert store._db.execute("SELECT count(*) FROM speaker_names").fetchone()[0]  # labels are mapped
        assert _check_every_filter(store) > 300
        assert store.allowed_rows(Filters()) is None
    finally:
        store.close()


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    out = tmp_path_factory.mktemp("filters") / "index"
    build_index([CORPUS], out, HASH_SMALL)
    return out


def test_masks_match_the_sql_on_an_index_of_several_days(corpus_index):
    store = ContentStore(corpus_index / CONTENT)
    try:
        assert _check_every_filter(store) > 300
    finally:
        store.close()


def test_time_cues_rows_match_the_sql(fixture_index):
    """held_near (a question naming a time) gets the rows of its window within the filters."""
    from briefqa.options import SearchOptions

    store = ContentStore(fixture_index / CONTENT)
    index = type("Index", (), {"content": store})()
    days = [date.fromisoformat(r[0]) for r in store._db.execute("SELECT DISTINCT held_on FROM passages")]
    try:
        for day, near_days, filters in itertools.product(
            days + [date(2020, 1, 1)], (0, 10, 400), (Filters(), Filters(role="official"), Filters(since=days[0]))
        ):
            options = SearchOptions(filters=filters, near_days=near_days)
            got = held_near(index, (day, day), options)
            first, last = day - timedelta(days=near_days), day + timedelta(days=near_days)
            first = max(first, filters.since) if filters.since else first
            expected = _sql_rows(store, filters.model_copy(update={"since": first, "until": last}))
            assert (got is None and not expected.any()) or np.array_equal(got, expected)
    finally:
        store.close()


def test_a_column_edited_to_hold_a_number_is_decided_by_the_sql(fixture_index, tmp_path):
    """A file edited by hand (a role or a day that is a blob, not text) gets the SQL's rows."""
    edited = tmp_path / "edited.sqlite"
    shutil.copy(fixture_index / CONTENT, edited)
    db = sqlite3.connect(edited)
    db.execute("UPDATE passages SET held_on = CAST('2025-03-04' AS BLOB) WHERE row % 3 = 0")  # a blob stays a blob
    db.execute("UPDATE passages SET role = X'6f6666696369616c' WHERE row % 5 = 1")  # ('official')
    db.commit()
    db.close()
    store = ContentStore(edited)
    try:
        for filters in (Filters(since=date(2020, 1, 1)), Filters(until=date(2030, 1, 1)), Filters(role="official")):
            assert store._mask(filters) is None
            assert np.array_equal(store.allowed_rows(filters), _sql_rows(store, filters))
        assert np.array_equal(store.allowed_rows(Filters(briefing="x")), _sql_rows(store, Filters(briefing="x")))
    finally:
        store.close()


def test_the_filters_matching_nothing_are_those_whose_sql_matches_nothing(fixture_index):
    store = ContentStore(fixture_index / CONTENT)
    try:
        values = _filter_values(store)
        for name in ("speaker", "outlet", "briefing", "collection", "since", "until"):
            for value in values[name][:: max(1, len(values[name]) // 6)]:
                filters = Filters.model_validate({name: value})
                expected = [] if _sql_rows(store, filters).any() else [f"{name}={value}"]
                assert store.filters_matching_nothing(filters) == expected
    finally:
        store.close()
