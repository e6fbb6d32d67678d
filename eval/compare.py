"""Compare retrieval variants on the question set: prints the table in eval/README.md.

    python eval/compare.py [--questions eval/questions.jsonl] [--corpus corpus]

For each embedding context (what is embedded before a passage's text) and passage size, builds an
index with the real model in a temporary directory, then scores dense, BM25 and both fusions
for hybrid. Queries are encoded as `briefqa ask` encodes them (the index's ONNX export). The
defaults in briefqa (ChunkSettings, SearchOptions) are the best row of this table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from briefqa.build import build_index
from briefqa.embed import load_embedder
from briefqa.evaluate import METRICS, evaluate, load_questions
from briefqa.index import load_index
from briefqa.options import BuildOptions, ChunkSettings, SearchOptions

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS: list[list[str]] = [[], ["speaker"], ["speaker", "question"], ["title", "speaker", "question"]]
PASSAGE_TOKENS = [200, 120]
DENSE_WEIGHTS = [0.3, 0.5, 0.7]  # for weighted fusion: the dense score's share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args()

    questions = load_questions(args.questions)
    embedder = load_embedder("all-MiniLM-L6-v2")
    variants = [ChunkSettings(context=c) for c in CONTEXTS]
    variants += [
        ChunkSettings(max_tokens=n, overlap_tokens=n // 5) for n in PASSAGE_TOKENS if n != ChunkSettings().max_tokens
    ]
    print(f"{len(questions)} questions, model {embedder.name}\n")
    print("| context | passage tokens | mode | " + " | ".join(METRICS) + " |")
    print("|---" * (3 + len(METRICS)) + "|")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for number, chunking in enumerate(variants):
            out = Path(tmp) / f"index-{number}"
            build_index([args.corpus], out, BuildOptions(chunking=chunking), embedder=embedder)
            index = load_index(out)
            context = " + ".join(chunking.context) or "none"
            variants = [SearchOptions(mode="dense"), SearchOptions(mode="bm25"), SearchOptions(fusion="rrf")]
            variants += [SearchOptions(fusion="weighted", dense_weight=w) for w in DENSE_WEIGHTS]
            labels = ["dense", "bm25", "hybrid (rrf)"] + [f"hybrid (weighted, dense {w})" for w in DENSE_WEIGHTS]
            rows = evaluate(index, questions, variants)
            for mode, report in zip(labels, rows):
                figures = " | ".join(f"{report.aggregate[m]:.3f}" for m in METRICS)
                print(f"| {context} | {chunking.max_tokens} | {mode} | {figures} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
