"""The names a user chooses from, as ``Literal`` types.

Apart from ``briefqa.options`` so that the CLI can offer them without importing pydantic
(``briefqa --help`` stays instant).
"""

from typing import Literal

Role = Literal["official", "chair", "reporter"]
Mode = Literal["dense", "bm25", "hybrid"]
Fusion = Literal["weighted", "rrf"]
# auto: flat below a size, an approximate index above (briefqa.indexing.vectors.kind_for)
FaissKind = Literal["auto", "flat", "hnsw", "ivf"]
BuiltKind = Literal["flat", "hnsw", "ivf"]  # what an index file holds
EmbedContext = Literal["title", "speaker", "question"]
# Where a build embeds: the CPU (tested default) or an NVIDIA GPU through ONNX Runtime's CUDA provider.
Device = Literal["cpu", "cuda"]
OutputFormat = Literal["text", "json", "markdown", "csv"]
# A question set's halves: tune may be looked at to choose a lever or weight; test is only reported.
Split = Literal["tune", "test"]

# Defaults chosen by the evaluation: see the table in eval/README.md (eval/compare.py).
DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MODE: Mode = "hybrid"
DEFAULT_FUSION: Fusion = "weighted"
