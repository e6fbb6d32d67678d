"""Fit the confidence of search results, on tuning halves; report the held-out halves.

    python eval/calibrate.py \
        --corpus index eval/questions.jsonl --unanswerable eval/unanswerable-scio.jsonl eval/no-answer.jsonl \
        --corpus ARCHIVE eval/whitehouse-2022q4.jsonl eval/whitehouse-other.jsonl \
        --unanswerable eval/unanswerable-whitehouse.jsonl

Each ``--corpus`` names an index and its answerable question sets; the ``--unanswerable`` after it,
its unanswerable ones.
The top 5 results of the default search of every question are labelled: relevant when its turn
holds an evidence quote, never for an unanswerable question. A logistic regression of that label on
``MatchEvidence.features`` (similarity, coverage, no figure, held before the period), fitted on the questions
whose "split" is "tune", gives CONFIDENCE_WEIGHTS; GOOD_MATCH is the confidence that best tells the
tuning halves' answerable questions (a result at or above it in their top 5) from their
unanswerable ones (none), each corpus weighing the same. Both are printed for
briefqa/searching/cite.py, then the share accepted and refused on each half of each corpus, with the
held-out questions that fall on the wrong side.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from briefqa.evaluation.evaluate import evidence_spans, load_questions, relevant_passages
from briefqa.searching.cite import MatchEvidence
from briefqa.searching.index import load_index

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 5


@dataclass
class Asked:
    """One question's top results, as (features, relevant) pairs."""

    corpus: str
    id: str
    question: str
    split: str
    answerable: bool
    results: list[tuple[tuple[float, ...], int]] = field(default_factory=list)


def fit_logistic(x: np.ndarray, y: np.ndarray, iterations: int = 50, l2: float = 1e-2) -> np.ndarray:
    """Weights (w..., intercept) of a logistic regression, by Newton's method (a little L2 keeps
    a feature that never varies in the tuning data at 0 instead of anywhere)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + l2 * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + l2 * np.eye(len(weights))
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def unanswerable_questions(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if missing := [r["id"] for r in rows if r.get("split") not in ("tune", "test")]:
        sys.exit(f"{path}: questions without a 'split' of tune or test: {', '.join(missing[:5])}")
    return rows


def features(result) -> tuple[float, ...]:
    return MatchEvidence(
        similarity=result.similarity,
        coverage=result.coverage,
        before_period=result.before_period,
        figure=result.holds_figure,
    ).features()


def ask_corpus(index_dir: Path, answerable: list[Path], unanswerable: list[Path]) -> list[Asked]:
    index = load_index(index_dir)
    texts = index.texts()
    asked = []
    for q in load_questions(*answerable):
        if q.split is None:
            sys.exit(f"question {q.id} has no 'split'")
        relevant = relevant_passages(q, evidence_spans(q, texts), index.passages)
        turns = {(p.briefing_id, p.turn_index) for p in index.passages if p.id in relevant}
        one = Asked(str(index_dir), q.id, q.question, q.split, True)
        for r in index.search(q.question, k=DEPTH):
            one.results.append((features(r), int((r.briefing_id, r.turn_index) in turns)))
        asked.append(one)
    for path in unanswerable:
        for row in unanswerable_questions(path):
            one = Asked(str(index_dir), row["id"], row["question"], row["split"], False)
            one.results = [(features(r), 0) for r in index.search(row["question"], k=DEPTH)]
            asked.append(one)
    return asked


def confidence(weights: np.ndarray, x: tuple[float, ...]) -> float:
    return 1 / (1 + math.exp(-(float(np.dot(weights[:-1], x)) + weights[-1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", nargs="+", action="append", required=True, metavar="PATH", help="INDEX ANSWERABLE.jsonl..."
    )
    parser.add_argument(
        "--unanswerable",
        nargs="+",
        action="append",
        required=True,
        metavar="FILE",
        help="The unanswerable question sets of the --corpus before it.",
    )
    parser.add_argument("--json", type=Path, help="Also write every question's best confidence here.")
    args = parser.parse_args()
    if len(args.corpus) != len(args.unanswerable) or any(len(group) < 2 for group in args.corpus):
        parser.error("give each --corpus INDEX ANSWERABLE... its --unanswerable FILE...")
    asked: list[Asked] = []
    for (index_dir, *answerable), unanswerable in zip(args.corpus, args.unanswerable):
        asked += ask_corpus(Path(index_dir), [Path(f) for f in answerable], [Path(f) for f in unanswerable])

    tune = [a for a in asked if a.split == "tune"]
    x = np.array([f for a in tune for f, _ in a.results])
    y = np.array([rel for a in tune for _, rel in a.results], float)
    weights = fit_logistic(x, y)

    def best(a: Asked) -> float:
        return max((confidence(weights, f) for f, _ in a.results), default=0.0)

    corpora = sorted({a.corpus for a in asked})

    def balanced(threshold: float) -> float:
        scores: list[float] = []
        for corpus in corpora:
            mine = [a for a in tune if a.corpus == corpus]
            good = [best(a) >= threshold for a in mine if a.answerable]
            bad = [best(a) < threshold for a in mine if not a.answerable]
            scores += [sum(good) / len(good) if good else 1.0, sum(bad) / len(bad) if bad else 1.0]
        return min(scores) + sum(scores) / len(scores)  # the worst side first, then the mean

    thresholds = np.round(np.arange(0.05, 0.96, 0.01), 2)
    threshold = float(max(thresholds, key=balanced))
    names = ("similarity", "coverage", "no figure", "before the period")
    print(f"fitted on {len(tune)} tuning questions ({int(y.sum())} relevant of {len(y)} results)")
    print("CONFIDENCE_WEIGHTS = (" + ", ".join(f"{w:.2f}" for w in weights) + ")  # " + ", ".join(names))
    print(f"GOOD_MATCH = {threshold}")
    print()
    print("| corpus | half | answerable accepted | unanswerable refused |")
    print("|---|---|---|---|")
    for corpus in corpora:
        for split in ("tune", "test"):
            mine = [a for a in asked if a.corpus == corpus and a.split == split]
            good = [a for a in mine if a.answerable]
            bad = [a for a in mine if not a.answerable]
            accepted = sum(best(a) >= threshold for a in good)
            refused = sum(best(a) < threshold for a in bad)
            print(
                f"| {corpus} | {split} | {accepted}/{len(good)} ({accepted / max(len(good), 1):.0%}) "
                f"| {refused}/{len(bad)} ({refused / max(len(bad), 1):.0%}) |"
            )
    print()
    for a in asked:
        if a.split == "test" and (best(a) >= threshold) != a.answerable:
            side = "refused, answerable" if a.answerable else "accepted, unanswerable"
            print(f"held out, {side}: {a.id} ({best(a):.2f}) {a.question}")
    if args.json:
        rows = [
            {"corpus": a.corpus, "id": a.id, "split": a.split, "answerable": a.answerable, "best": round(best(a), 4)}
            for a in asked
        ]
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
