"""Fit the confidence model of search results: prints CONFIDENCE_WEIGHTS for briefqa/searching/cite.py.

    python eval/calibrate.py [--index index] [--questions eval/questions.jsonl ...]

The first result of the default search for every question of the evaluation sets is labelled
relevant (its turn holds an evidence quote) or not; for every question of eval/no-answer.jsonl
(questions the corpus cannot answer) it is not. A logistic regression of relevance on (cosine
similarity, IDF-weighted word coverage) gives the weights: a result's confidence is then the
chance that a first result with its figures answers the question. GOOD_MATCH is the confidence
that best tells answerable questions (their best of 5) from unanswerable ones.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from briefqa.evaluation.evaluate import DEFAULT_QUESTIONS, evidence_spans, load_questions, relevant_passages
from briefqa.searching.index import load_index

ROOT = Path(__file__).resolve().parent.parent


def fit_logistic(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Weights (w..., intercept) of a logistic regression, by Newton's method (tiny L2 for stability)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + 1e-3 * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-3 * np.eye(len(weights))
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--questions", type=Path, nargs="+", default=[ROOT / DEFAULT_QUESTIONS])
    parser.add_argument("--no-answer", type=Path, default=ROOT / "eval" / "no-answer.jsonl")
    args = parser.parse_args()

    index = load_index(args.index)
    texts = index.texts()
    answerable: list[list[tuple[float, float, int]]] = []  # per question: (similarity, coverage, relevant)
    for path in args.questions:
        for q in load_questions(path):
            relevant = relevant_passages(q, evidence_spans(q, texts), index.passages)
            turns = {(p.briefing_id, p.turn_index) for p in index.passages if p.id in relevant}
            results = index.search(q.question, k=5)  # one per turn, as the evaluation scores them
            answerable.append(
                [(r.similarity, r.coverage, int((r.briefing_id, r.turn_index) in turns)) for r in results]
            )
    no_answer = [json.loads(line)["question"] for line in args.no_answer.read_text().splitlines() if line.strip()]
    unanswerable = [[(r.similarity, r.coverage, 0) for r in index.search(q, k=5)] for q in no_answer]

    firsts = [group[0] for group in answerable + unanswerable]
    weights = fit_logistic(np.array([(s, c) for s, c, _ in firsts]), np.array([rel for *_, rel in firsts], float))

    def best(group: list[tuple[float, float, int]]) -> float:
        return max(1 / (1 + math.exp(-(weights[0] * s + weights[1] * c + weights[2]))) for s, c, _ in group)

    good, bad = np.array([best(g) for g in answerable]), np.array([best(g) for g in unanswerable])
    thresholds = np.round(np.arange(0.05, 0.95, 0.01), 2)
    balanced = [((good >= t).mean() + (bad < t).mean()) / 2 for t in thresholds]
    threshold = float(thresholds[int(np.argmax(balanced))])
    print(
        f"{len(answerable)} answerable and {len(unanswerable)} unanswerable questions; "
        f"first results relevant: {sum(rel for *_, rel in firsts)}"
    )
    print(f"CONFIDENCE_WEIGHTS = ({weights[0]:.2f}, {weights[1]:.2f}, {weights[2]:.2f})")
    print(f"GOOD_MATCH = {threshold}")
    print(
        f"answerable: a good match in the top 5 for {(good >= threshold).sum()} of {len(good)}; "
        f"unanswerable: 'no good match' for {(bad < threshold).sum()} of {len(bad)} "
        f"(highest {bad.max():.2f})"
    )


if __name__ == "__main__":
    main()
