"""Compare retrieval variants: prints the tables in eval/README.md.

    python eval/compare.py --levers --archive ARCHIVE_INDEX   # search levers, both question sets
    python eval/compare.py [--questions eval/questions.jsonl] [--corpus corpus]   # build variants

--levers scores the search-time levers one at a time, each added to the ones above it, on the
SCIO set over index/ and on the White House set over a built archive index, side by side: a lever
is kept only when it wins on both. Without it: for each embedding context (what is embedded
before a passage's text) and passage size, builds an index of the SCIO corpus with the real model
in a temporary directory, then scores dense, BM25 and both fusions for hybrid. Queries are
encoded as `briefqa ask` encodes them (the index's ONNX export).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from briefqa.evaluation.evaluate import DEFAULT_QUESTIONS, METRICS, evaluate, load_questions
from briefqa.indexing.build import build_index
from briefqa.indexing.embed import load_embedder
from briefqa.options import BuildOptions, ChunkSettings, EmbedContext, SearchOptions
from briefqa.searching.index import load_index

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS: list[list[EmbedContext]] = [[], ["speaker"], ["speaker", "question"], ["title", "speaker", "question"]]
PASSAGE_TOKENS = [200, 120]
DENSE_WEIGHTS = [0.3, 0.5, 0.7]  # for weighted fusion: the dense score's share


WH_QUESTIONS = [ROOT / "eval" / "whitehouse-2022q4.jsonl", ROOT / "eval" / "whitehouse-other.jsonl"]
LEVER_METRICS = ("Success@1", "Success@5", "MRR@10", "speaker@1")  # of METRICS
# hybrid as it was before the levers
BEFORE = SearchOptions(
    date_weight=0, reporter_weight=0, depth=50, dense_weight=0.5, figure_dense_weight=None, sentence_weight=0
)
NO_SENTENCES = SearchOptions(sentence_weight=0)
# (label, options, scored by): each row adds one lever to the row above; "~" rows try a variant of
# a kept lever and are not carried down.
LEVERS: list[tuple[str, SearchOptions, str]] = [
    ("dense alone", BEFORE.model_copy(update={"mode": "dense"}), "passage"),
    ("bm25 alone", BEFORE.model_copy(update={"mode": "bm25"}), "passage"),
    ("hybrid, weighted 0.5, 50 deep (before)", BEFORE, "passage"),
    ("~ rrf fusion", BEFORE.model_copy(update={"fusion": "rrf"}), "passage"),
    ("+ date preference 0.5", DATED := BEFORE.model_copy(update={"date_weight": 0.5}), "passage"),
    ("+ reporters' restatements yield 0.2", YIELD := DATED.model_copy(update={"reporter_weight": 0.2}), "passage"),
    ("+ one result per turn", YIELD, "turn"),
    (
        "+ candidates 100 deep",
        DEEP := NO_SENTENCES.model_copy(update={"dense_weight": 0.5, "figure_dense_weight": None}),
        "turn",
    ),
    ("+ dense 0.6, figures 0.5", NO_SENTENCES, "turn"),
    ("+ best sentence 0.15 (the defaults)", SearchOptions(), "turn"),
    ("~ best sentence 0.05", SearchOptions(sentence_weight=0.05), "turn"),
    ("~ best sentence 0.3", SearchOptions(sentence_weight=0.3), "turn"),
    ("~ dense 0.6 for every question", SearchOptions(figure_dense_weight=None), "turn"),
    ("~ dense 0.6, figures 0.4", SearchOptions(figure_dense_weight=0.4), "turn"),
    ("~ date preference 0.3", DEEP.model_copy(update={"date_weight": 0.3}), "turn"),
    ("~ date preference 0.7", DEEP.model_copy(update={"date_weight": 0.7}), "turn"),
    ("~ reporters yield 0.3", DEEP.model_copy(update={"reporter_weight": 0.3}), "turn"),
    ("~ dense 0.4 for every question", SearchOptions(dense_weight=0.4, figure_dense_weight=None), "turn"),
    ("~ rrf fusion", SearchOptions(fusion="rrf"), "turn"),
]


def levers(scio_index: Path, archive: Path) -> None:
    sets = [("SCIO", load_index(scio_index), load_questions(ROOT / DEFAULT_QUESTIONS))]
    sets.append(("White House", load_index(archive), load_questions(*WH_QUESTIONS)))
    header = " | ".join(f"{name} {m}" for name, _, _ in sets for m in LEVER_METRICS)
    print(f"| lever | scored by | {header} |")
    print("|---" * (2 + len(sets) * len(LEVER_METRICS)) + "|")
    for label, options, by in LEVERS:
        cells = []
        for _, index, questions in sets:
            (report,) = evaluate(index, questions, [options], by=by)  # type: ignore[arg-type]
            cells += [f"{report.aggregate[m]:.3f}" for m in LEVER_METRICS]
        print(f"| {label} | {by} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / DEFAULT_QUESTIONS)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--levers", action="store_true", help="score the search levers on both question sets")
    parser.add_argument("--index", type=Path, default=ROOT / "index", help="--levers: the SCIO index")
    parser.add_argument("--archive", type=Path, help="--levers: an index of the White House archive")
    args = parser.parse_args()
    if args.levers:
        if not args.archive:
            parser.error("--levers needs --archive: an index of ../shared/corpora/whitehouse-press-briefings")
        levers(args.index, args.archive)
        return

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
            # scored as the table in eval/README.md was: flat passages, before the search levers
            searches = [BEFORE.model_copy(update={"mode": m}) for m in ("dense", "bm25")]
            searches += [BEFORE.model_copy(update={"fusion": "rrf"})]
            searches += [BEFORE.model_copy(update={"dense_weight": w}) for w in DENSE_WEIGHTS]
            labels = ["dense", "bm25", "hybrid (rrf)"] + [f"hybrid (weighted, dense {w})" for w in DENSE_WEIGHTS]
            rows = evaluate(index, questions, searches, by="passage")
            for mode, report in zip(labels, rows):
                figures = " | ".join(f"{report.aggregate[m]:.3f}" for m in METRICS)
                print(f"| {context} | {chunking.max_tokens} | {mode} | {figures} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
