"""Evaluation: metric values, span relevance, bad question sets, --fail-under."""

import json

import pytest
from typer.testing import CliRunner

from briefqa.build import build_index
from briefqa.cli import app
from briefqa.evaluate import EvalError, EvalQuestion, evidence_spans, load_questions, relevant_passages, score_run
from briefqa.models import Passage
from briefqa.options import BuildOptions, ChunkSettings
from tests.conftest import CORPUS

BORDERS = "scio-2023-03-20-customs-safeguard-borders"


def test_metrics_on_a_tiny_run_match_hand_computed_trec_eval_values():
    qrels = {"q1": {"a", "b"}, "q2": {"c"}, "q3": {"d"}}
    run = {"q1": ["x", "b", "a"], "q2": ["y", "z"], "q3": ["d", "e"]}
    aggregate, per_q = score_run(qrels, run)
    # q1: first relevant at rank 2 -> RR 1/2; both relevant in top 5 -> R@5 1; none at 1.
    assert per_q["q1"]["Success@1"] == 0 and per_q["q1"]["R@5"] == 1 and per_q["q1"]["MRR@10"] == 0.5
    assert per_q["q1"]["Success@5"] == 1
    # nDCG@10 for q1: (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3))
    assert per_q["q1"]["nDCG@10"] == pytest.approx((1 / 1.5849625 + 0.5) / (1 + 1 / 1.5849625), rel=1e-6)
    assert per_q["q2"] == {"Success@1": 0, "Success@5": 0, "Success@10": 0, "R@5": 0, "MRR@10": 0, "nDCG@10": 0}
    assert per_q["q3"]["Success@1"] == 1 and per_q["q3"]["nDCG@10"] == 1
    assert aggregate["MRR@10"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert aggregate["R@5"] == pytest.approx(2 / 3)


def test_success_counts_a_split_answer_whole_where_recall_counts_half():
    aggregate, _ = score_run({"q": {"a", "b"}}, {"q": ["a", "x", "y", "z", "w", "b"]})
    assert aggregate["Success@5"] == 1 and aggregate["R@5"] == 0.5 and aggregate["Success@1"] == 1


def test_score_run_keeps_our_order_when_ids_would_sort_otherwise():
    # trec_eval breaks score ties by doc id; our scores must encode rank so "z" stays first.
    aggregate, _ = score_run({"q": {"z"}}, {"q": ["z", "a"]})
    assert aggregate["Success@1"] == 1


def passage(pid, start, end, briefing="b"):
    return Passage(
        id=pid,
        briefing_id=briefing,
        briefing_title="t",
        held_on=None,
        turn_index=1,
        part=1,
        speaker="s",
        role="official",
        text="x" * (end - start),
        char_start=start,
        char_end=end,
        embedded_text="x",
    )


def test_span_relevance_overlap_no_overlap_and_split():
    text = "".join(chr(ord("A") + i % 26) + chr(ord("a") + i // 26) for i in range(50))  # no repeats
    q = EvalQuestion(id="q", question="?", briefing="b", evidence=[{"quote": text[25:45], "speaker": "s"}])
    spans = evidence_spans(q, {"b": text})
    assert spans[0] == (25, 45)
    passages = [
        passage("before", 0, 25),
        passage("split1", 20, 30),
        passage("split2", 30, 60),
        passage("after", 45, 90),
        passage("other", 25, 45, briefing="c"),
    ]
    # "before" ends where the quote starts and "after" starts where it ends: no overlap.
    assert relevant_passages(q, spans, passages) == {"split1", "split2"}


def test_missing_quote_is_reported_with_the_question():
    q = EvalQuestion(id="q42", question="?", briefing="b", evidence=[{"quote": "not there", "speaker": "s"}])
    with pytest.raises(EvalError, match="question q42: quote not found in b"):
        evidence_spans(q, {"b": "some other text"})


def test_bad_question_file_names_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "x", "briefing": "b", "evidence": [{"quote": "q", "speaker": "s"}]}\n{"id": "b"}\n'
    )
    with pytest.raises(EvalError, match=r"q.jsonl:2: not a valid question"):
        load_questions(path)


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "index"
    build_index([CORPUS], out, BuildOptions(model="hash", chunking=ChunkSettings(max_tokens=120, overlap_tokens=20)))
    return out


def write_questions(path, quote="Exotic pets are a threat to China's biological security."):
    rows = [
        {
            "id": "q1",
            "question": "exotic pets biological security threat",
            "briefing": BORDERS,
            "evidence": [{"quote": quote, "speaker": "Yu Jianhua"}],
            "category": "policy",
        },
        {
            "id": "q2",
            "question": "Winter Olympics flights personnel monitored Beijing customs",
            "briefing": "scio-2022-01-14-import-export-2021",
            "evidence": [
                {
                    "quote": "Beijing customs has monitored and handled a total of 196 Olympic-related flights",
                    "speaker": "Li Kuiwen",
                }
            ],
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


runner = CliRunner()


def test_eval_command_table_json_and_floors(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    base = ["eval", "--questions", str(questions), "--index", str(hash_index)]
    result = runner.invoke(app, base + ["--json", "--mode", "bm25", "--mode", "hybrid"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [m["options"]["mode"] for m in data["modes"]] == ["bm25", "hybrid"]
    assert [m["label"] for m in data["modes"]] == ["bm25", "hybrid (weighted)"]
    bm25 = data["modes"][0]
    assert set(bm25["aggregate"]) == {"Success@1", "Success@5", "Success@10", "R@5", "MRR@10", "nDCG@10", "speaker@1"}
    assert bm25["aggregate"]["Success@10"] == 1.0  # both are findable by their words

    ok = runner.invoke(app, base + ["--mode", "bm25", "--fail-under", "Success@10=0.5"])
    assert ok.exit_code == 0, ok.output
    assert "R@5" in ok.stdout and "missed in the top 5" in ok.stdout
    failed = runner.invoke(app, base + ["--mode", "bm25", "--fail-under", "Success@10=1.01"])
    assert failed.exit_code == 1
    assert "FAIL bm25: Success@10 = 1.000 is under the floor 1.010" in failed.output


def test_eval_command_missing_quote_stops(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl", quote="A sentence nobody said.")
    result = runner.invoke(app, ["eval", "--questions", str(questions), "--index", str(hash_index)])
    assert result.exit_code == 1
    assert "question q1: quote not found" in result.output and "Traceback" not in result.output


def test_eval_command_unknown_metric(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    result = runner.invoke(
        app, ["eval", "--questions", str(questions), "--index", str(hash_index), "--fail-under", "P@3=0.5"]
    )
    assert result.exit_code == 1 and "unknown metric 'P@3'" in result.output


def test_quotes_match_across_hard_wrapped_lines_and_nothing_else_is_loosened():
    text = "MS. ROE:  The grants will pay for new\ntransmission lines  and for batteries.\n"
    q = EvalQuestion(
        id="q",
        question="?",
        briefing="b",
        evidence=[{"quote": "pay for new transmission lines and for", "speaker": "MS. ROE"}],
    )
    ((start, end),) = evidence_spans(q, {"b": text})
    assert text[start:end] == "pay for new\ntransmission lines  and for"
    wrong = EvalQuestion(
        id="q2", question="?", briefing="b", evidence=[{"quote": "pay for New transmission", "speaker": "MS. ROE"}]
    )
    with pytest.raises(EvalError, match="quote not found"):
        evidence_spans(wrong, {"b": text})


def test_eval_baseline_catches_a_fallen_metric_and_a_question_that_now_fails(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    base = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "bm25"]
    saved = tmp_path / "ci" / "baseline.json"
    first = runner.invoke(app, base + ["--save-baseline", str(saved)])
    assert first.exit_code == 0, first.output
    same = runner.invoke(app, base + ["--baseline", str(saved)])
    assert same.exit_code == 0, same.output  # nothing changed, nothing fails

    # a baseline that did better: a higher MRR, and a question that passed which now fails
    data = json.loads(saved.read_text())
    mode = data["modes"][0]
    mode["aggregate"]["MRR@10"] += 0.2
    now = runner.invoke(app, base + ["--json"])
    mode["questions"][0]["first_relevant_rank"] = 1
    better = tmp_path / "better.json"
    better.write_text(json.dumps(data))
    report = json.loads(now.stdout)["modes"][0]
    report["questions"][0]["first_relevant_rank"] = None  # make the first question fail now
    from briefqa.evaluate import EvalReport, regressions

    current = EvalReport.model_validate({**json.loads(now.stdout), "modes": [report]})
    lines = regressions(current, EvalReport.model_validate(data), tolerance=0.01)
    assert any("MRR@10 fell from" in line for line in lines)
    assert any(f"{report['questions'][0]['id']} passed and now fails; first is" in line for line in lines)
    failed = runner.invoke(app, base + ["--baseline", str(better)])
    assert failed.exit_code == 1 and "FAIL bm25: MRR@10 fell from" in failed.output
    lenient = runner.invoke(app, base + ["--baseline", str(better), "--tolerance", "0.5"])
    assert lenient.exit_code == 0, lenient.output
    bad = runner.invoke(app, base + ["--baseline", str(questions)])
    assert bad.exit_code == 1 and "not a baseline saved by 'briefqa eval --save-baseline'" in bad.output


def test_eval_markdown_and_junit_reports(hash_index, tmp_path):
    from xml.etree import ElementTree as ET

    questions = write_questions(tmp_path / "q.jsonl")
    junit = tmp_path / "junit.xml"
    args = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "dense", "--mode", "bm25"]
    result = runner.invoke(app, args + ["--format", "markdown", "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("### Retrieval: 2 questions") and "| metric | dense | bm25 |" in result.stdout
    suites = ET.parse(junit).getroot()
    assert [s.get("name") for s in suites] == ["briefqa eval dense", "briefqa eval bm25"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert len(cases) == 2 and int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
