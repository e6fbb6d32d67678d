"""The decisions a user can make, one typed model each.

* ``ChunkSettings``: how turns become passages and what is embedded with them (shapes an index).
* ``BuildOptions``: the model, the chunking and the FAISS index type of a build (shapes an index).
* ``Filters``: which passages a search may return.
* ``SearchOptions``: every setting of a search's ranking, step by step (depth, fusion, best
  sentence, preferences), ``QuestionRules`` (which cues of a question it reads, each a switch for
  an ablation) and its filters.

The library, the evaluation, the benchmark and the CLI all take these models; the CLI offers
their ``Literal`` choices (``briefqa.choices``) as they are spelled there. The defaults are the
best row of the evaluation (eval/README.md, eval/compare.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from briefqa.choices import DEFAULT_FUSION, DEFAULT_MODE, DEFAULT_MODEL, EmbedContext, FaissKind, Fusion, Mode, Role

__all__ = [
    "BuildOptions",
    "ChunkSettings",
    "Filters",
    "QuestionRules",
    "SearchOptions",
    "DEFAULT_MODEL",
    "EmbedContext",
    "FaissKind",
    "Fusion",
    "Mode",
    "Role",
]


# The longest passage of the bundled SCIO corpus is 1,148 characters, of the 888 White House
# briefings 1,206 (both at 200 tokens): 4,000 leaves room for a model with a 512-token window, and
# bounds what a run of text without spaces (Chinese script: one "word") makes of a passage.
DEFAULT_MAX_CHARS = 4000


class ChunkSettings(BaseModel):
    """How turns become passages, and what is embedded with each (part of an index's fingerprint)."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(default=200, ge=16, description="Longest passage, in model tokens.")
    max_chars: int = Field(
        default=DEFAULT_MAX_CHARS,
        ge=100,
        description="Longest passage, in characters: a bound beside max_tokens for text that tokenizes into "
        "few tokens (a long run without spaces).",
    )
    overlap_tokens: int = Field(default=40, ge=0, description="Tokens shared by consecutive passages.")
    context: list[EmbedContext] = Field(
        default_factory=lambda: list(get_args(EmbedContext)),
        description="What is embedded before the passage text (the text shown is never changed).",
    )

    @model_serializer(mode="wrap")
    def _default_char_bound_unsaid(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The default max_chars is left out of a dump (and so of a fingerprint): the manifest of an
        index built before the setting existed does not name it, and it still matches its fingerprint
        (it loads, and a build can reuse it) instead of reading as a manifest changed by hand."""
        data = handler(self)
        if isinstance(data, dict) and self.max_chars == DEFAULT_MAX_CHARS:
            data.pop("max_chars", None)
        return data


class BuildOptions(BaseModel):
    """Everything a build decides that shapes the index (all of it is in the index's fingerprint)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Embedding model: the packaged all-MiniLM-L6-v2, a sentence-transformers model "
        "directory, or 'hash' (no model: deterministic word hashing, for tests).",
    )
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    faiss_index: FaissKind = Field(
        default="auto",
        description="auto: flat below 200,000 passages, ivf from there; flat: exact search; ivf (inverted lists) "
        "or hnsw (a graph): approximate, for large corpora.",
    )


class Filters(BaseModel):
    """Which passages may be returned. Names match case-insensitively, from the start of a word."""

    model_config = ConfigDict(extra="forbid")

    # Each field is also an option of `briefqa ask`, its description the option's help and
    # json_schema_extra's metavar its placeholder (briefqa.cli.filter_options).
    speaker: str | None = Field(
        default=None,
        description="Only this speaker's turns (a person, or a reporter's outlet), matched from the start of "
        "a word of the name, case-insensitively: 'li', 'kui' or 'li kui' finds Li Kuiwen; 'wen' does not. A "
        "label matches by the full name the transcript gives it too: 'karine' finds 'Ms. Jean-Pierre'.",
        json_schema_extra={"metavar": "NAME"},
    )
    role: Role | None = Field(default=None, description="Only turns of this role: official, chair or reporter.")
    outlet: str | None = Field(
        default=None,
        description="Only this outlet's questions and the answers to them; the name matched as for speaker.",
        json_schema_extra={"metavar": "NAME"},
    )
    briefing: str | None = Field(
        default=None,
        description="Only this briefing: its whole id, as results and 'briefqa briefings' give it.",
        json_schema_extra={"metavar": "ID"},
    )
    collection: str | None = Field(
        default=None,
        description="Only briefings of this source, in an archive of several: the folder they were indexed "
        "from, or a briefqa.toml's collection; matched as for speaker.",
        json_schema_extra={"metavar": "NAME"},
    )
    since: date | None = Field(
        default=None, description="Only briefings held on or after this day (one with no date is left out)."
    )
    until: date | None = Field(
        default=None, description="Only briefings held on or before this day (one with no date is left out)."
    )

    def active(self) -> bool:
        return any(v is not None for v in self.model_dump().values())

    @model_validator(mode="after")
    def _dates_in_order(self) -> Filters:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}): no day is in between")
        return self


class QuestionRules(BaseModel):
    """Which cues hybrid search reads in a question besides its words (``briefqa.searching.cues``).
    Each rule can be switched off for an ablation; the defaults are the evaluated behaviour."""

    model_config = ConfigDict(extra="forbid")

    dates: bool = Field(
        default=True,
        description="Read the time a question names ('in October 2022', 'Q1 2024', 'late 2021'): passages held "
        "then are preferred (date_weight) and those held near it join the candidates (near_days).",
    )
    year_reaches_next_q1: bool = Field(
        default=True,
        description="A bare year ('in 2022') reaches into the next year's first quarter, when its totals are "
        "given; off: the year alone.",
    )
    asks_what_was_asked: bool = Field(
        default=True,
        description="Read whether the question asks what reporters asked ('what did CCTV ask ...', 'which outlet "
        "raised ...'): then reporters' turns are answers (asked_reporter_share) and keep their best sentence.",
    )
    names_an_outlet: bool = Field(
        default=True,
        description="When the question asks what was asked, read the outlet it names: that outlet's turns gain "
        "all of reporter_weight.",
    )
    asks_for_a_figure: bool = Field(
        default=True,
        description="Read whether the question asks for a figure ('how many', 'what share', a noun of measure): "
        "then an answer must hold a number to be confident (MatchEvidence), and weighted fusion takes "
        "figure_dense_weight when set.",
    )


class SearchOptions(BaseModel):
    """How a search ranks passages, and which it may return: every setting of the ranking pipeline
    (``briefqa.searching.pipeline``), step by step."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field(default=DEFAULT_MODE, description="dense (FAISS), bm25, or hybrid (both, fused).")
    depth: int = Field(
        default=100,
        ge=1,
        description="Candidates taken from each ranker (before fusing, and grouping by turn): this many, or "
        "depth_per_result times the results asked for (k) when that is more.",
    )
    depth_per_result: int = Field(
        default=3,
        ge=1,
        description="Candidates per result asked for, at least: k turns need more than k passages to group.",
    )
    fusion: Fusion = Field(
        default=DEFAULT_FUSION,
        description="How hybrid combines its two rankings: weighted (min-max normalised scores) or "
        "rrf (reciprocal rank fusion).",
    )
    dense_weight: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Weighted fusion: the dense score's share (eval/README.md)."
    )
    figure_dense_weight: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Weighted fusion, for a question that asks for a figure ('how many', 'what share'): the dense "
        "score's share; None (the default since the held-out halves: 0.5 lost on the SCIO tuning half and tied "
        "on the White House one): dense_weight for every question.",
    )
    rrf_k: int = Field(
        default=60,
        ge=0,
        description="RRF fusion: added to each rank (1 / (rrf_k + rank)); the constant from Cormack et al. "
        "(2009), which damps the weight of top ranks.",
    )
    sentence_weight: float = Field(
        default=0.15,
        ge=0.0,
        description="Hybrid: added to the fused score (0-1, either fusion) of each candidate by its best sentence's "
        "similarity to the question (min-max normalised), so that one figure in a long answer counts; 0 turns "
        "it off.",
    )
    sentence_candidates: int = Field(
        default=50,
        ge=1,
        description="Weighted fusion: how many of the best fused candidates are scored by their best sentence "
        "(the head of the list it reorders).",
    )
    date_weight: float = Field(
        default=0.5,
        ge=0.0,
        description="Hybrid: for a question that names a time ('in October 2022'), added to the fused score "
        "(0-1) of passages held then, less with each month away; 0 turns it off.",
    )
    date_decay_days: float = Field(
        default=30.0,
        gt=0.0,
        description="Hybrid: the date preference is multiplied by 1/e (0.37) for each this many days a "
        "briefing was held outside the question's window.",
    )
    near_days: int = Field(
        default=21,
        ge=0,
        description="Hybrid: passages held within this many days of a dated question's window join the "
        "candidates (at 21 days of 30's decay, about half the preference).",
    )
    reporter_weight: float = Field(
        default=0.2,
        ge=0.0,
        description="Hybrid: taken from the fused score of reporters' turns (a question restates its topic but "
        "does not answer it); when the question asks what was asked, asked_reporter_share of it is added "
        "instead (all of it to the outlet the question names).",
    )
    asked_reporter_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Hybrid, for a question that asks what was asked: the share of reporter_weight added to "
        "reporters' turns whose outlet it does not name.",
    )
    filler_weight: float = Field(
        default=0.3,
        ge=0.0,
        description="Hybrid: taken from the fused score of a passage that carries no content (an "
        "acknowledgement, a hand-over, an interrupted or inaudible fragment: briefqa.searching.rankings.is_filler), "
        "so that it never leads an answer; 0 turns it off.",
    )
    question: QuestionRules = Field(
        default_factory=QuestionRules, description="Which cues are read in the question (each a switch)."
    )
    filters: Filters = Field(default_factory=Filters)


def options_error(err: Any, name: Callable[[str], str] = str) -> str:
    """A pydantic ValidationError of an options model, one clause per problem, each field called
    by ``name`` (the CLI's '--since', the web form's 'since'): 'since: Input should be ...'."""
    parts = []
    for e in err.errors():
        names = [str(x) for x in e["loc"] if x != "filters"]
        message = e["msg"].removeprefix("Value error, ")
        parts.append(f"{name(names[-1])}: {message}" if names else message)
    return "; ".join(parts)
