"""What an index holds besides its vectors: briefings, turns and passages in one SQLite file.

A search reads only what it needs: the rows a filter allows (a row mask from the columns the
filters read, each read once a process from its index) and the passages of its top results,
fetched by row. The file is also for people: open it with
``sqlite3 index/content.sqlite``, pandas or Datasette.

    briefings    id, position, title, held_on, published_on, source, chair, officials, outlets
                 (JSON), text (the transcript text offsets refer to), source_url, language,
                 collection (the source it belongs to), reader (which parsed it, and its version)
    turns        briefing_id, turn, speaker, role, char_start, char_end, answers_turn, outlet
    passages     row (its row in vectors.faiss and the BM25 matrix), id, briefing_id, turn, part,
                 speaker, role, held_on, char_start, char_end, answers_turn, question_outlet,
                 embedded_key (sha256 of the text that was embedded), digest (sha256 of what a
                 citation shows: passage_digest), outlet (a reporter's, when named)
    speaker_names  briefing_id, speaker, name, title: the person a label stands for ('PM' is
                 Jane Roe, Prime Minister), for the speaker filter and citations
    transcripts  id, parsed (the parser's output as JSON, its turns without their text, so that
                 `index add` needs no corpus)
    passage_texts  (a view) every passage as cited: its columns, its briefing's title, its text
                 and the text of the question it answers

The transcript text is kept once, in briefings.text: a passage's text, a turn's and a question's
are the slices of it at their offsets, in characters (as Python slices; the view's SQL substr
counts characters of TEXT alike, a NUL aside, and reading refuses a file with a NUL).

A search checks what it cites: each passage against its digest (its text and offsets among what
it covers) and its briefing's text against the sha256 the manifest records, so that a quote or
offset edited in this file is never served (``check_cited``).

Dates are ISO strings ('2023-03-20'). The file is written once by a build and opened read-only
(``immutable``) after that.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import NamedTuple, get_args

import numpy as np

from briefqa.choices import Role
from briefqa.hashing import text_sha256
from briefqa.options import Filters
from briefqa.records import (
    Briefing,
    BriefingSummary,
    ParsedTranscript,
    Passage,
    Person,
    SpeakerSummary,
    Turn,
    speaker_people,
)

CONTENT = "content.sqlite"
# 2: passages.digest; text kept once (briefings.text), passages and turns slice it. 3: source URL,
# language, collection and reader of a briefing; outlets of turns and passages; speaker_names.
SCHEMA_VERSION = 3
# Schemas 1 and 2 are still read by a build, for the vectors it can reuse; never by a search.
READABLE_SCHEMAS = (1, 2, 3)

_SCHEMA = """
CREATE TABLE briefings (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, title TEXT NOT NULL, held_on TEXT, published_on TEXT,
    source TEXT NOT NULL, chair TEXT, officials TEXT NOT NULL, outlets TEXT NOT NULL, text TEXT NOT NULL,
    source_url TEXT, language TEXT NOT NULL, collection TEXT NOT NULL, reader TEXT NOT NULL
);
CREATE TABLE turns (
    briefing_id TEXT NOT NULL, turn INTEGER NOT NULL, speaker TEXT NOT NULL, role TEXT NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, answers_turn INTEGER, outlet TEXT,
    PRIMARY KEY (briefing_id, turn)
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, briefing_id TEXT NOT NULL, turn INTEGER NOT NULL,
    part INTEGER NOT NULL, speaker TEXT NOT NULL, role TEXT NOT NULL, held_on TEXT,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, answers_turn INTEGER, question_outlet TEXT,
    embedded_key TEXT NOT NULL, digest TEXT NOT NULL, outlet TEXT
);
CREATE INDEX passages_speaker ON passages (speaker);
CREATE INDEX passages_role ON passages (role);
CREATE INDEX passages_held_on ON passages (held_on);
CREATE INDEX passages_briefing ON passages (briefing_id);
CREATE INDEX passages_question_outlet ON passages (question_outlet);
CREATE TABLE transcripts (id TEXT PRIMARY KEY, parsed TEXT NOT NULL);
CREATE TABLE speaker_names (
    briefing_id TEXT NOT NULL, speaker TEXT NOT NULL, name TEXT NOT NULL, title TEXT,
    PRIMARY KEY (briefing_id, speaker)
);
CREATE VIEW passage_texts AS SELECT
    p.row, p.id, p.briefing_id, b.title AS briefing_title, p.held_on, p.turn, p.part, p.speaker, p.role,
    substr(b.text, p.char_start + 1, p.char_end - p.char_start) AS text, p.char_start, p.char_end,
    p.answers_turn, p.question_outlet, substr(b.text, q.char_start + 1, q.char_end - q.char_start) AS question_text
FROM passages p JOIN briefings b ON b.id = p.briefing_id
LEFT JOIN turns q ON q.briefing_id = p.briefing_id AND q.turn = p.answers_turn;
"""

_SCHEMA_2_COLUMNS = {
    "briefings": [
        "id", "position", "title", "held_on", "published_on", "source", "chair", "officials", "outlets", "text",
    ],
    "turns": ["briefing_id", "turn", "speaker", "role", "char_start", "char_end", "answers_turn"],
    "passages": [
        "row", "id", "briefing_id", "turn", "part", "speaker", "role", "held_on", "char_start", "char_end",
        "answers_turn", "question_outlet", "embedded_key", "digest",
    ],
    "transcripts": ["id", "parsed"],
}  # fmt: skip
_TABLE_COLUMNS = {
    "briefings": [*_SCHEMA_2_COLUMNS["briefings"], "source_url", "language", "collection", "reader"],
    "turns": [*_SCHEMA_2_COLUMNS["turns"], "outlet"],
    "passages": [*_SCHEMA_2_COLUMNS["passages"], "outlet"],
    "transcripts": ["id", "parsed"],
    "speaker_names": ["briefing_id", "speaker", "name", "title"],
    "passage_texts": [
        "row", "id", "briefing_id", "briefing_title", "held_on", "turn", "part", "speaker", "role", "text",
        "char_start", "char_end", "answers_turn", "question_outlet", "question_text",
    ],
}  # fmt: skip
# Schema 1 (format 4) kept each passage's text and question in its row, and had no digests.
_SCHEMA_1_COLUMNS = {name: columns for name, columns in _SCHEMA_2_COLUMNS.items()} | {
    "passages": [
        "row", "id", "briefing_id", "turn", "part", "speaker", "role", "held_on", "char_start", "char_end",
        "answers_turn", "question_outlet", "question_text", "text", "embedded_key",
    ],
}  # fmt: skip

# A passage as read: its row, its fields in _passage's order, then its text and its question's (schema 1)
# or where its question lies in its briefing's text (the question turn's offsets), for _read_passages to
# slice. Slicing in Python reads each briefing's text once; SQL's substr (passage_texts, for people)
# reads it once a passage: several times slower over every passage of an index.
_PASSAGE_FIELDS = (
    "p.row, p.id, p.briefing_id, b.title, p.held_on, p.turn, p.part, p.speaker, p.role, p.char_start, p.char_end, "
    "p.answers_turn, p.question_outlet"
)
_NEW_FIELDS = ", p.outlet, b.source_url, b.collection, b.language"  # schema 3's
_READ_PASSAGES = {
    SCHEMA_VERSION: f"SELECT {_PASSAGE_FIELDS}{_NEW_FIELDS}, q.char_start, q.char_end FROM passages p "
    "JOIN briefings b ON b.id = p.briefing_id "
    "LEFT JOIN turns q ON q.briefing_id = p.briefing_id AND q.turn = p.answers_turn",
    2: f"SELECT {_PASSAGE_FIELDS}, q.char_start, q.char_end FROM passages p "
    "JOIN briefings b ON b.id = p.briefing_id "
    "LEFT JOIN turns q ON q.briefing_id = p.briefing_id AND q.turn = p.answers_turn",
    1: f"SELECT {_PASSAGE_FIELDS}, p.text, p.question_text FROM passages p JOIN briefings b ON b.id = p.briefing_id",
}


class RowFacts(NamedTuple):
    briefing_id: str
    turn: int
    held_on: date | None
    role: str
    speaker: str


def name_matches(query: str, name: str) -> bool:
    """Whether ``query`` stands in ``name`` from the start of a word, case-insensitively: 'li'
    and 'li kuiwen' match 'Li Kuiwen', 'li' does not match 'Zhao Zenglian'."""
    words = query.split()
    if not words:
        return False
    pattern = r"\b" + r"\s+".join(map(re.escape, words))
    return re.search(pattern, name, re.IGNORECASE) is not None


def passage_digest(p: Passage) -> str:
    """sha256 of everything a citation of the passage shows: its text and offsets, who said it,
    when, and the question it answers."""
    shown = [
        p.id, p.briefing_id, p.briefing_title, _iso(p.held_on), p.turn_index, p.part, p.speaker, p.role,
        p.char_start, p.char_end, p.answers_turn, p.question_outlet, p.question_text, p.text,
        p.outlet, p.source_url, p.collection,
    ]  # fmt: skip
    return text_sha256(json.dumps(shown, ensure_ascii=False))


class DamagedContent(sqlite3.DatabaseError):
    """What the content file says does not match what was indexed."""


def embedded_key(p: Passage) -> str:
    """What identifies a passage's vector: the hash of the text that was embedded."""
    return text_sha256(p.embedded_text)


def write_content(
    file: Path, transcripts: list[ParsedTranscript], briefings: list[Briefing], passages: list[Passage]
) -> None:
    """Write every briefing, turn and passage (passages in vector order) into a new file. A passage's
    text and a turn's are not written: each is the slice of its briefing's text at its offsets."""
    db = sqlite3.connect(file)
    try:
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.executemany(
            "INSERT INTO briefings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    b.id, position, b.title, _iso(b.held_on), _iso(b.published_on), b.source,
                    b.chair.model_dump_json() if b.chair else None,
                    json.dumps([o.model_dump() for o in b.officials], ensure_ascii=False),
                    json.dumps(b.outlets, ensure_ascii=False), b.text, b.source_url, b.language, b.collection,
                    b.reader,
                )
                for position, b in enumerate(briefings)
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (b.id, t.index, t.speaker, t.role, t.char_start, t.char_end, t.answers_turn, t.outlet)
                for b in briefings
                for t in b.turns
            ],
        )
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    row, p.id, p.briefing_id, p.turn_index, p.part, p.speaker, p.role, _iso(p.held_on),
                    p.char_start, p.char_end, p.answers_turn, p.question_outlet, embedded_key(p), passage_digest(p),
                    p.outlet,
                )
                for row, p in enumerate(passages)
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO speaker_names VALUES (?, ?, ?, ?)",
            [
                (b.id, person.label, person.name, person.title)
                for b in briefings
                for person in {p.label: p for p in [*b.officials, *([b.chair] if b.chair else [])] if p.label}.values()
            ],
        )
        db.executemany(
            "INSERT INTO transcripts VALUES (?, ?)",
            [(t.id, t.model_dump_json(exclude={"turns": {"__all__": {"text"}}})) for t in transcripts],
        )
        db.commit()
    finally:
        db.close()


def _iso(day) -> str | None:
    return day.isoformat() if day else None


class ContentStore:
    """An index's content file, opened read-only. Raises sqlite3.DatabaseError when damaged.

    ``earlier_schema``: also open a file of an earlier schema (a build reads one for its vectors)."""

    def __init__(self, file: Path, earlier_schema: bool = False):
        self.file = file
        uri = f"{Path(file).absolute().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            self.schema = self._db.execute("PRAGMA user_version").fetchone()[0]
            if self.schema != SCHEMA_VERSION and not (earlier_schema and self.schema in READABLE_SCHEMAS):
                raise sqlite3.DatabaseError(f"schema version {self.schema}, not {SCHEMA_VERSION}")
            self._check_columns()
        except BaseException:
            self._db.close()
            raise
        self.count = self._db.execute("SELECT count(*) FROM passages").fetchone()[0]
        # Filters' columns read once a process, for row masks (_column); distinct names (_names).
        self._columns: dict[str, tuple[np.ndarray, list] | None] = {}
        self._distinct: dict[str, list] = {}
        self._speaker_masks: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        last = self._db.execute("SELECT max(row) FROM passages").fetchone()[0]
        if self.count and last != self.count - 1:
            raise sqlite3.DatabaseError("passage rows are not 0..n-1")

    def _check_columns(self) -> None:
        """A table or column gone (edited by hand) is found at load, not in the middle of a search."""
        expected = {SCHEMA_VERSION: _TABLE_COLUMNS, 2: _SCHEMA_2_COLUMNS}.get(self.schema, _SCHEMA_1_COLUMNS)
        for table, columns in expected.items():
            found = [r[1] for r in self._db.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise sqlite3.DatabaseError(f"table {table} has columns {found}, not {columns}")

    # --- what a search reads -------------------------------------------------------------

    def passages(self, rows: list[int], corpus: dict[str, str] | None = None) -> list[Passage]:
        """The passages at these rows, in the order given; with ``corpus`` (the manifest's briefing
        id -> sha256), each checked against what was indexed (``check_cited``), from the
        transcripts read once for both."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        texts = None
        if corpus is not None and self.schema == SCHEMA_VERSION:
            texts = dict(
                self._db.execute(
                    "SELECT id, text FROM briefings WHERE id IN "
                    f"(SELECT briefing_id FROM passages WHERE row IN ({marks}))",
                    rows,
                )
            )
        found = {p[0]: p[1] for p in self._read_passages(f"WHERE p.row IN ({marks})", rows, texts)}
        passages = [found[row] for row in rows]
        if corpus is not None:
            self.check_cited(passages, corpus, texts)
        return passages

    def _read_passages(
        self, where: str, values: list, texts: dict[str, str] | None = None
    ) -> list[tuple[int, Passage]]:
        """(row, passage) of the passages ``where`` selects, their texts sliced from ``texts`` (briefing id ->
        text; by default read for the briefings they are in)."""
        found = self._db.execute(f"{_READ_PASSAGES[self.schema]} {where}", values).fetchall()
        if self.schema == 1:  # schema 1 kept the texts
            return [(r[0], _passage(r[1:-2], r[-2], r[-1])) for r in found]
        if texts is None:
            wanted = sorted({r[2] for r in found})
            marks = ",".join("?" * len(wanted))
            texts = dict(self._db.execute(f"SELECT id, text FROM briefings WHERE id IN ({marks})", wanted))
        passages = []
        for r in found:
            text = texts[r[2]]
            question = _slice(text, r[-2], r[-1], r[1]) if r[-2] is not None else None
            passages.append((r[0], _passage(r[1:-2], _slice(text, r[9], r[10], r[1]), question)))
        return passages

    def check_cited(self, passages: list[Passage], corpus: dict[str, str], texts: dict[str, str] | None = None) -> None:
        """Raise DamagedContent unless each passage is what was indexed: its row's digest (which
        covers its text and offsets: an offset edited slices another text), and its text the slice
        of its transcript at its offsets, the transcript the one whose sha256 the manifest records
        (``corpus``: briefing id -> sha256)."""
        wanted = sorted({p.briefing_id for p in passages})
        if texts is None:  # ``texts``: the transcripts, when the caller has just read them
            marks = ",".join("?" * len(wanted))
            texts = dict(self._db.execute(f"SELECT id, text FROM briefings WHERE id IN ({marks})", wanted))
        digests = dict(
            self._db.execute(
                f"SELECT id, digest FROM passages WHERE id IN ({','.join('?' * len(passages))})",
                [p.id for p in passages],
            )
        )
        for bid in wanted:
            if bid not in texts or text_sha256(texts[bid]) != corpus.get(bid):
                raise DamagedContent(f"the transcript of briefing '{bid}' is not the one indexed")
        for p in passages:
            if digests.get(p.id) != passage_digest(p) or texts[p.briefing_id][p.char_start : p.char_end] != p.text:
                raise DamagedContent(f"passage {p.id} is not the one indexed")

    def speaker_people(self, briefing_ids: list[str]) -> dict[tuple[str, str], Person]:
        """(briefing id, label) -> the official or chair the transcript names with it."""
        people: dict[tuple[str, str], Person] = {}
        marks = ",".join("?" * len(briefing_ids))
        for bid, officials, chair in self._db.execute(
            f"SELECT id, officials, chair FROM briefings WHERE id IN ({marks})", briefing_ids
        ):
            try:
                found = [Person.model_validate(o) for o in json.loads(officials)]
                chair_person = Person.model_validate_json(chair) if chair else None
            except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
                raise DamagedContent(f"the speakers of briefing '{bid}' are not the ones indexed") from None
            people |= {(bid, label): person for label, person in speaker_people(found, chair_person).items()}
        return people

    def briefing(self, briefing_id: str) -> Briefing | None:
        """One briefing with its turns, as indexed; None when the index has no such id."""
        found = self._db.execute(
            "SELECT id, title, held_on, published_on, source, chair, officials, outlets, text, source_url, language, "
            "collection, reader FROM briefings WHERE id = ?",
            (briefing_id,),
        ).fetchone()
        if found is None:
            return None
        bid, title, held_on, published_on, source, chair, officials, outlets, text, *more = found
        turns = [
            Turn(index=i, speaker=speaker, role=role, text=text[a:b], char_start=a, char_end=b, answers_turn=q,
                 outlet=outlet)
            for i, speaker, role, a, b, q, outlet in self._db.execute(
                "SELECT turn, speaker, role, char_start, char_end, answers_turn, outlet FROM turns "
                "WHERE briefing_id = ? ORDER BY turn",
                (bid,),
            )
        ]  # fmt: skip
        return Briefing(
            id=bid,
            title=title,
            held_on=held_on,
            published_on=published_on,
            source=source,
            chair=json.loads(chair) if chair else None,
            officials=json.loads(officials),
            outlets=json.loads(outlets),
            turns=turns,
            text=text,
            **dict(zip(("source_url", "language", "collection", "reader"), more)),
        )

    def briefing_summaries(self) -> list[BriefingSummary]:
        """Every briefing without its turns and text, in the order built (``briefqa briefings``)."""
        query = (
            "SELECT id, title, held_on, published_on, source, chair, officials, outlets, "
            "(SELECT count(*) FROM turns t WHERE t.briefing_id = b.id), source_url, language, collection, reader "
            "FROM briefings b ORDER BY position"
        )
        summaries = []
        for bid, title, held_on, published_on, source, chair, officials, outlets, turn_count, *more in self._db.execute(
            query
        ):
            try:
                summaries.append(
                    BriefingSummary(
                        id=bid, title=title, held_on=held_on, published_on=published_on, source=source,
                        chair=json.loads(chair) if chair else None, officials=json.loads(officials),
                        outlets=json.loads(outlets), turn_count=turn_count,
                        **dict(zip(("source_url", "language", "collection", "reader"), more)),
                    )
                )  # fmt: skip
            except (ValueError, TypeError):  # JSON or a value that is not what was indexed
                raise DamagedContent(f"the row of briefing '{bid}' is not the one indexed") from None
        return summaries

    def speakers(self, role: Role | None = None) -> list[SpeakerSummary]:
        """Each name turns are given to, per role (only ``role``'s when given), with how many turns
        and briefings: officials, chairs, then reporters, each most turns first."""
        where, values = ("WHERE role = ?", [role]) if role else ("", [])
        rows = self._db.execute(
            f"SELECT speaker, role, count(*), count(DISTINCT briefing_id) FROM turns {where} GROUP BY speaker, role",
            values,
        )
        try:
            found = [SpeakerSummary(name=n, role=r, turns=t, briefings=b) for n, r, t, b in rows]
        except ValueError:  # a role that is none of the three: the turns table was edited
            raise DamagedContent("the turns' speakers or roles are not the ones indexed") from None
        order = {name: i for i, name in enumerate(get_args(Role))}
        return sorted(found, key=lambda s: (order[s.role], -s.turns, s.name.casefold()))

    def all_passages(self) -> list[Passage]:
        """Every passage, in row order (for evaluation and tools; a search never needs this)."""
        texts = self.texts() if self.schema != 1 else None
        return [p for _, p in self._read_passages("ORDER BY p.row", [], texts)]

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """Boolean row mask of the passages that pass every filter; None when nothing is filtered.

        Built with numpy from the columns the filters read (``_column``: each read once a process,
        as a code per row and its few distinct values), each filter decided once per distinct
        value: the same rows as ``_where``'s SQL (``_allowed_rows_sql``), which a file whose
        columns hold other than text (edited by hand) still gets."""
        if not filters.active():
            return None
        mask = self._mask(filters)
        return mask if mask is not None else self._allowed_rows_sql(filters)

    def _allowed_rows_sql(self, filters: Filters) -> np.ndarray:
        """allowed_rows by SQL (``_where``): the rows read as one string, not a tuple each."""
        where, values = self._where(filters)
        return self._mask_of(f"SELECT group_concat(row) FROM passages WHERE {where}", values)

    def _mask_of(self, query: str, values: Iterable = ()) -> np.ndarray:
        """The row mask of the rows ``query`` gives, as its one group_concat string."""
        mask = np.zeros(self.count, dtype=bool)
        for (rows,) in self._db.execute(query, list(values)):
            mask[_row_list(rows)] = True
        return mask

    def _column(self, name: str) -> tuple[np.ndarray, list[str | None]] | None:
        """A passages column as (code per row, value per code), read once a process from its index
        (one group_concat of rows a distinct value: 0.3 s and 4 MB at a million passages; a
        briefing's passages, consecutive rows, as a range); None when a value is neither text nor
        NULL (a file edited by hand: the SQL decides)."""
        with self._lock:
            if name not in self._columns:
                self._columns[name] = self._read_column(name)
            return self._columns[name]

    def _read_column(self, name: str) -> tuple[np.ndarray, list[str | None]] | None:
        codes = np.zeros(self.count, dtype=np.int32)
        values: list[str | None] = []
        if name == "briefing_id":
            ranges = self._db.execute(f"SELECT {name}, min(row), max(row), count(*) FROM passages GROUP BY {name}")
            for value, first, last, count in ranges:
                if (value is not None and type(value) is not str) or last - first + 1 != count:
                    codes[:], values = 0, []  # not consecutive rows after all: read row by row
                    break
                codes[first : last + 1] = len(values)
                values.append(value)
            else:
                return codes, values
        for value, rows in self._db.execute(f"SELECT {name}, group_concat(row) FROM passages GROUP BY {name}"):
            if value is not None and type(value) is not str:
                return None
            codes[_row_list(rows)] = len(values)
            values.append(value)
        return codes, values

    def _mask(self, filters: Filters) -> np.ndarray | None:
        """``_where``'s rows as a mask built from cached columns (see allowed_rows); None when a
        column or a name it reads is not text."""
        mask = np.ones(self.count, dtype=bool)

        def keep(column: str, wanted: Callable[[str], bool]) -> bool:
            """Narrow ``mask`` to the rows whose ``column`` is not NULL and ``wanted``."""
            nonlocal mask
            found = self._column(column)
            if found is None:
                return False
            codes, values = found
            table = np.fromiter((v is not None and wanted(v) for v in values), dtype=bool, count=len(values))
            mask &= table[codes]
            return True

        def column_in(column: str, names: list[str]) -> np.ndarray | None:
            found = self._column(column)
            if found is None:
                return None
            codes, values = found
            wanted = set(names)
            return np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))[codes]

        if filters.speaker:
            speaker = self._speaker_mask(filters.speaker)
            if speaker is None:
                return None
            mask &= speaker
        if filters.role and not keep("role", filters.role.__eq__):
            return None
        if filters.outlet:
            outlets = (
                self._names("speaker", filters.outlet)
                + self._names("question_outlet", filters.outlet)
                + self._names("outlet", filters.outlet)
            )
            reporter, said, named_outlet, asked = (
                column_in("role", ["reporter"]), column_in("speaker", outlets), column_in("outlet", outlets),
                column_in("question_outlet", outlets),
            )  # fmt: skip
            if reporter is None or said is None or named_outlet is None or asked is None:
                return None
            mask &= (reporter & (said | named_outlet)) | asked
        if filters.collection:
            if "collections" not in self._distinct:
                self._distinct["collections"] = self._db.execute("SELECT id, collection FROM briefings").fetchall()
            found = self._distinct["collections"]
            if any(type(b) is not str or type(c) is not str for b, c in found):
                return None
            collections = {c for c in {c for _, c in found} if name_matches(filters.collection, c)}
            ids = {b for b, c in found if c in collections}
            if not keep("briefing_id", ids.__contains__):
                return None
        if filters.briefing and not keep("briefing_id", filters.briefing.__eq__):
            return None
        since = filters.since.isoformat() if filters.since else None
        if since and not keep("held_on", lambda day: day >= since):
            return None
        until = filters.until.isoformat() if filters.until else None
        if until and not keep("held_on", lambda day: day <= until):
            return None
        return mask

    def _speaker_mask(self, query: str) -> np.ndarray | None:
        """The rows of the speaker filter (a speaker named, or a label standing for a name that
        matches, in its briefing), kept for the last few names asked for; None as for _mask."""
        if query in self._speaker_masks:
            return self._speaker_masks[query]
        by_briefing, by_speaker = self._column("briefing_id"), self._column("speaker")
        if by_briefing is None or by_speaker is None:
            return None
        named = [n for n in self._speaker_names() if name_matches(query, n)]
        marks = ",".join("?" * len(named))
        pairs = self._db.execute(
            f"SELECT briefing_id, speaker FROM speaker_names WHERE name IN ({marks})", named
        ).fetchall()
        if any(type(b) is not str or type(sp) is not str for b, sp in pairs):
            return None
        # Each briefing's wanted labels in layers (layer j: its j-th, as a speaker code; -1 none):
        # a row is labelled when its speaker is its briefing's label in some layer.
        briefing_code = {v: i for i, v in enumerate(by_briefing[1])}
        speaker_code = {v: i for i, v in enumerate(by_speaker[1])}
        layers: list[np.ndarray] = []
        for b, sp in sorted(set(pairs)):
            if b in briefing_code and sp in speaker_code:
                free = [layer for layer in layers if layer[briefing_code[b]] < 0]
                if not free:
                    layers.append(np.full(len(by_briefing[1]), -1, dtype=np.int32))
                    free = layers[-1:]
                free[0][briefing_code[b]] = speaker_code[sp]
        labelled = np.zeros(self.count, dtype=bool)
        for layer in layers:
            labelled |= layer[by_briefing[0]] == by_speaker[0]
        # the speakers named: _names("speaker", query), from the column's distinct values
        speakers = np.fromiter(
            (v is not None and name_matches(query, v) for v in by_speaker[1]), dtype=bool, count=len(by_speaker[1])
        )
        found = speakers[by_speaker[0]] | labelled
        with self._lock:
            self._speaker_masks = dict(list(self._speaker_masks.items())[-7:]) | {query: found}
        return found

    def _speaker_names(self) -> list[str]:
        if "speaker_names" not in self._distinct:
            self._distinct["speaker_names"] = [
                r[0] for r in self._db.execute("SELECT DISTINCT name FROM speaker_names")
            ]
        return self._distinct["speaker_names"]

    def facts(self, rows: list[int]) -> dict[int, RowFacts]:
        """Row -> where its passage stands (briefing, turn, day held, role, speaker), for ranking's
        preferences and grouping, without reading any text."""
        found = {}
        for start in range(0, len(rows), 500):  # SQLite's limit on bound values is 999 in old builds
            chunk = rows[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT row, briefing_id, turn, held_on, role, speaker FROM passages WHERE row IN ({marks})"
            for row, briefing_id, turn, held_on, role, speaker in self._db.execute(query, chunk):
                day = date.fromisoformat(held_on) if held_on else None
                found[row] = RowFacts(briefing_id, turn, day, role, speaker)
        return found

    def short_texts(self, rows: list[int], most_chars: int) -> dict[int, str]:
        """Row -> text of the passages among ``rows`` of at most ``most_chars`` characters."""
        found: dict[int, str] = {}
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = (
                f"SELECT p.row, substr(b.text, p.char_start + 1, p.char_end - p.char_start) FROM passages p "
                f"JOIN briefings b ON b.id = p.briefing_id WHERE p.row IN ({marks}) AND p.char_end - p.char_start <= ?"
            )
            found.update(self._db.execute(query, [*chunk, most_chars]))
        return found

    def filters_matching_nothing(self, filters: Filters) -> list[str]:
        """The filters that on their own match no passage, as 'name=value'."""
        empty = []
        for name, value in filters.model_dump(exclude_none=True).items():
            alone = self.allowed_rows(Filters.model_validate({name: value}))
            if alone is not None and not alone.any():
                empty.append(f"{name}={value}")
        return empty

    def _where(self, filters: Filters) -> tuple[str, list]:
        """The SQL condition (and its values) for a set of filters: the one place filters apply.
        Names match from word starts (name_matches, above) against the few distinct
        names, then by an indexed equality."""
        clauses: list[str] = []
        values: list = []
        if filters.speaker:
            speakers = self._names("speaker", filters.speaker)
            # A label ('PM', 'Ms. Jean-Pierre') in the briefings where it stands for a name that matches.
            named = [r for r in self._db.execute("SELECT DISTINCT name FROM speaker_names") if
                     name_matches(filters.speaker, r[0])]  # fmt: skip
            marks = ",".join("?" * len(named))
            clauses.append(
                f"(speaker IN ({','.join('?' * len(speakers))}) OR (briefing_id, speaker) IN "
                f"(SELECT briefing_id, speaker FROM speaker_names WHERE name IN ({marks})))"
            )
            values += speakers + [r[0] for r in named]
        if filters.role:
            clauses.append("role = ?")
            values.append(filters.role)
        if filters.outlet:
            outlets = (
                self._names("speaker", filters.outlet)
                + self._names("question_outlet", filters.outlet)
                + self._names("outlet", filters.outlet)
            )
            marks = ",".join("?" * len(outlets))
            clauses.append(
                f"((role = 'reporter' AND (speaker IN ({marks}) OR outlet IN ({marks}))) "
                f"OR question_outlet IN ({marks}))"
            )
            values += outlets * 3
        if filters.collection:
            collections = [
                r[0] for r in self._db.execute("SELECT DISTINCT collection FROM briefings")
                if name_matches(filters.collection, r[0])
            ]  # fmt: skip
            marks = ",".join("?" * len(collections))
            clauses.append(f"briefing_id IN (SELECT id FROM briefings WHERE collection IN ({marks}))")
            values += collections
        if filters.briefing:
            clauses.append("briefing_id = ?")
            values.append(filters.briefing)
        if filters.since:
            clauses.append("held_on >= ?")
            values.append(filters.since.isoformat())
        if filters.until:
            clauses.append("held_on <= ?")
            values.append(filters.until.isoformat())
        return " AND ".join(clauses) or "1", values

    def _names(self, column: str, query: str) -> list[str]:
        """The distinct names of a passages column that ``query`` matches (the distinct list read
        once a process: the index of the column, or a scan of every passage for outlet)."""
        if column not in self._distinct:
            found = self._db.execute(f"SELECT DISTINCT {column} FROM passages WHERE {column} IS NOT NULL")
            self._distinct[column] = [r[0] for r in found]
        return [n for n in self._distinct[column] if name_matches(query, n)]

    # --- what evaluation and builds read ---------------------------------------------------

    def texts(self) -> dict[str, str]:
        """Briefing id -> the transcript text that offsets refer to."""
        return dict(self._db.execute("SELECT id, text FROM briefings"))

    def digests(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT digest FROM passages ORDER BY row")]

    def integrity_problems(self) -> list[str]:
        """What SQLite's own check finds wrong with the file (empty when nothing)."""
        found = [r[0] for r in self._db.execute("PRAGMA integrity_check")]
        return [] if found == ["ok"] else found

    def embedded_keys(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT embedded_key FROM passages ORDER BY row")]

    def transcripts(self) -> list[ParsedTranscript]:
        """The parser's output for every briefing, each turn's text the slice of the briefing's text
        at its offsets (schema 1 kept a copy in the JSON: the same slice)."""
        texts = self.texts()
        parsed = []
        for briefing_id, data in self._db.execute(
            "SELECT t.id, t.parsed FROM transcripts t JOIN briefings b ON b.id = t.id ORDER BY b.position"
        ):
            parsed.append(ParsedTranscript.model_validate(_with_turn_texts(json.loads(data), texts[briefing_id])))
        return parsed

    def briefing_order(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM briefings ORDER BY position")]

    def close(self) -> None:
        self._db.close()


def _with_turn_texts(parsed: object, text: str) -> object:
    """A parsed transcript's JSON with the transcript's text, and each turn's: the slice at its
    offsets. What is not the JSON of one is left for validation to refuse."""
    if not isinstance(parsed, dict):
        return parsed
    turns = parsed.get("turns")
    for turn in turns if isinstance(turns, list) else []:
        if isinstance(turn, dict) and all(type(turn.get(key)) is int for key in ("char_start", "char_end")):
            turn["text"] = text[turn["char_start"] : turn["char_end"]]
    return parsed | {"text": text}


def _row_list(rows: str | None) -> np.ndarray:
    """The rows of a group_concat of rows ('3,4,9'; None for none)."""
    if not rows:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(rows, dtype=np.int64, sep=",")  # 7 times numpy.array(rows.split(","))


def _slice(text: str, start: object, end: object, passage_id: str) -> str:
    if type(start) is not int or type(end) is not int:  # an offset edited into something else
        raise DamagedContent(f"passage {passage_id} is not the one indexed")
    return text[start:end]


def _passage(r: tuple, text: str, question_text: str | None) -> Passage:
    newer = dict(zip(("outlet", "source_url", "collection", "language"), r[12:16]))  # schema 3's
    return Passage(
        id=r[0], briefing_id=r[1], briefing_title=r[2], held_on=r[3], turn_index=r[4], part=r[5], speaker=r[6],
        role=r[7], char_start=r[8], char_end=r[9], answers_turn=r[10], question_outlet=r[11], text=text,
        question_text=question_text, **newer,
    )  # fmt: skip
