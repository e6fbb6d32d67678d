"""The decisions a user can make, one typed model each.

* ``ChunkSettings``: how turns become passages and what is embedded with them (shapes an index).
* ``BuildOptions``: the model, the chunking and the FAISS index type of a build (shapes an index).
* ``Filters``: which passages a search may return.
* ``SearchOptions``: how a search ranks (mode, fusion, dense weight, depth) and its filters.

The library, the evaluation, the benchmark and the CLI all take these models; the CLI offers
their ``Literal`` choices (``briefqa.choices``) as they are spelled there. The defaults are the
best row of the evaluation (eval/README.md, eval/compare.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from briefqa.choices import DEFAULT_FUSION, DEFAULT_MODE, DEFAULT_MODEL, EmbedContext, FaissKind, Fusion, Mode, Role

__all__ = [
    "BuildOptions",
    "ChunkSettings",
    "Filters",
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
        default="flat", description="flat: exact search; hnsw: approximate, for large corpora."
    )


class Filters(BaseModel):
    """Which passages may be returned. Names match case-insensitively, from the start of a word."""

    model_config = ConfigDict(extra="forbid")

    speaker: str | None = Field(
        default=None, description="The speaker's name or outlet, or its first words or any word of it ('li')."
    )
    role: Role | None = Field(default=None, description="Only turns of this role.")
    outlet: str | None = Field(
        default=None, description="An outlet (or words of its name): its questions and their answers."
    )
    briefing: str | None = Field(default=None, description="A briefing id.")
    since: date | None = Field(default=None, description="Held on or after this day.")
    until: date | None = Field(default=None, description="Held on or before this day.")

    def active(self) -> bool:
        return any(v is not None for v in self.model_dump().values())

    @model_validator(mode="after")
    def _dates_in_order(self) -> Filters:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}): no day is in between")
        return self


class SearchOptions(BaseModel):
    """How a search ranks passages, and which it may return."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field(default=DEFAULT_MODE, description="dense (FAISS), bm25, or hybrid (both, fused).")
    fusion: Fusion = Field(
        default=DEFAULT_FUSION,
        description="How hybrid combines its two rankings: weighted (min-max normalised scores) or "
        "rrf (reciprocal rank fusion).",
    )
    dense_weight: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Weighted fusion: the dense score's share (eval/README.md)."
    )
    figure_dense_weight: float | None = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Weighted fusion, for a question that asks for a figure ('how many', a number): the dense "
        "score's share, since figures are found by their words; None: dense_weight for every question.",
    )
    sentence_weight: float = Field(
        default=0.15,
        ge=0.0,
        description="Weighted fusion: added to the fused score (0-1) of each candidate by its best sentence's "
        "similarity to the question (min-max normalised), so that one figure in a long answer counts; 0 turns "
        "it off.",
    )
    depth: int = Field(
        default=100, ge=1, description="Candidates taken from each ranker (before fusing, and grouping by turn)."
    )
    date_weight: float = Field(
        default=0.5,
        ge=0.0,
        description="Hybrid: for a question that names a time ('in October 2022'), added to the fused score "
        "(0-1) of passages held then, less with each month away; 0 turns it off.",
    )
    reporter_weight: float = Field(
        default=0.2,
        ge=0.0,
        description="Hybrid: taken from the fused score of reporters' turns (a question restates its topic but "
        "does not answer it); when the question asks what was asked, half of it is added instead (all of "
        "it to the outlet the question names).",
    )
    filters: Filters = Field(default_factory=Filters)
