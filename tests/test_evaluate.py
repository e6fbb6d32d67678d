"""Evaluation: metric values, span relevance, bad question sets, --fail-under."""

import json

import pytest
from typer.testing import CliRunner

from briefqa.cli import app
from briefqa.evaluation.evaluate import (
    EvalError,
    EvalQuestion,
    evidence_spans,
    load_questions,
    relevant_passages,
    score_run,
)
from briefqa.indexing.build import build_index
from briefqa.records import Passage
from tests.conftest import CORPUS, HASH_SMALL

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
    q = EvalQuestion(id="q42", question="?", briefing="b", evidence=[{"quote": "not there at all", "speaker": "s"}])
    with pytest.raises(EvalError, match="question q42: quote not found in b"):
        evidence_spans(q, {"b": "some other text"})


def test_bad_question_file_names_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "x", "briefing": "b", "evidence": [{"quote": "long enough", "speaker": "s"}]}\n'
        '{"id": "b"}\n'
    )
    with pytest.raises(EvalError, match=r"q.jsonl:2: not a valid question"):
        load_questions(path)


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "index"
    build_index([CORPUS], out, HASH_SMALL)
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
    failed = runner.invoke(app, base + ["--mode", "dense", "--fail-under", "Success@1=0.9"])
    assert failed.exit_code == 1
    assert "FAIL dense: Success@1 = 0.500 is under the floor 0.900" in failed.output


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
    from briefqa.evaluation.evaluate import EvalReport, regressions

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


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        (" \t ", "evidence quote 1 is blank, too short to mark an answer"),
        ("Yes.", "evidence quote 1 has only 4 characters, too short to mark an answer"),
        ("  so  we  ", "evidence quote 1 has only 4 characters"),
    ],
)
def test_blank_or_tiny_evidence_quotes_are_refused_with_file_and_line(hash_index, tmp_path, quote, message):
    # A quote of white space matched everywhere: the whole briefing was relevant and any question scored 1.
    questions = write_questions(tmp_path / "q.jsonl", quote=quote)
    result = runner.invoke(app, ["eval", "--questions", str(questions), "--index", str(hash_index)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"q.jsonl:1: question 'q1', {message}" in result.output
    assert "Copy the sentence that answers the question from the transcript (at least 10 characters)" in result.output
    # built in code, not read from a file, it is refused too
    q = EvalQuestion(id="q9", question="?", briefing="b", evidence=[{"quote": quote, "speaker": "s"}])
    with pytest.raises(EvalError, match="question q9: the evidence quote .* too short"):
        evidence_spans(q, {"b": "Yes. So we said yes, and so we did."})


def test_a_quote_of_ten_characters_is_enough(tmp_path):
    path = write_questions(tmp_path / "q.jsonl", quote="196 flights")  # 10 without the space
    assert [q.evidence[0].quote for q in load_questions(path)][0] == "196 flights"


def test_question_file_with_a_byte_order_mark_reads(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    questions.write_text(questions.read_text(), encoding="utf-8-sig")
    assert questions.read_bytes().startswith(b"\xef\xbb\xbf")
    result = runner.invoke(
        app, ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "bm25", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["question_count"] == 2


@pytest.mark.parametrize("floor", ["80", "1.5", "-0.1", "nan", "inf"])
def test_floors_outside_zero_to_one_are_refused(hash_index, tmp_path, floor):
    questions = write_questions(tmp_path / "q.jsonl")
    args = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "bm25"]
    result = runner.invoke(app, args + ["--fail-under", f"Success@5={floor}"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"--fail-under Success@5={floor}: the floor must be between 0 and 1, a fraction: e.g. Success@5=0.8" in (
        result.output
    )
    assert "R@5" not in result.stdout  # refused before evaluating


def test_floors_of_zero_and_one_are_accepted(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    args = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "bm25"]
    result = runner.invoke(app, args + ["--fail-under", "Success@5=1", "--fail-under", "MRR@10=0"])
    assert result.exit_code == 0, result.output


def test_markdown_summary_lists_the_failures_which_still_go_to_stderr(hash_index, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl")
    args = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "dense", "--mode", "bm25"]
    result = runner.invoke(app, args + ["--format", "markdown", "--fail-under", "Success@1=0.9"])
    assert result.exit_code == 1
    line = "dense: Success@1 = 0.500 is under the floor 0.900"
    assert f"- **FAIL** {line}" in result.stdout
    assert f"FAIL {line}" in result.stderr
    assert "bm25: Success@1" not in result.output  # bm25 scores 1.0
    passed = runner.invoke(app, args + ["--format", "markdown"])
    assert passed.exit_code == 0 and "FAIL" not in passed.output


@pytest.fixture()
def saved_baseline(hash_index, tmp_path):
    """A bm25 baseline of the two questions, its command line, and the baseline's JSON."""
    questions = write_questions(tmp_path / "q.jsonl")
    base = ["eval", "--questions", str(questions), "--index", str(hash_index), "--mode", "bm25"]
    saved = tmp_path / "baseline.json"
    assert runner.invoke(app, base + ["--save-baseline", str(saved)]).exit_code == 0
    return base, saved, json.loads(saved.read_text())


def refused(args, *expected):
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "this run's settings differ from the baseline's, so their scores cannot be compared" in result.output
    assert "Run with the baseline's settings, or save a new baseline with --save-baseline." in result.output
    for line in expected:
        assert line in result.output
    return result


def test_baseline_records_the_settings_a_later_run_must_share(saved_baseline, hash_index):
    _, _, data = saved_baseline
    assert data["build"]["model"] == "hash" and data["build"]["chunking"]["max_tokens"] == 120
    assert len(data["corpus_sha256"]) == len(data["questions_sha256"]) == 64
    assert data["index_fingerprint"] == json.loads((hash_index / "manifest.json").read_text())["fingerprint"]


def test_baseline_of_another_mode_or_fusion_is_refused(saved_baseline, tmp_path):
    base, saved, data = saved_baseline
    refused(base[:-1] + ["hybrid", "--baseline", str(saved)], "modes: bm25 in the baseline, hybrid (weighted) now")
    hybrid = tmp_path / "hybrid.json"
    assert runner.invoke(app, base[:-1] + ["hybrid", "--save-baseline", str(hybrid)]).exit_code == 0
    refused(
        base[:-1] + ["hybrid", "--fusion", "rrf", "--baseline", str(hybrid)],
        "modes: hybrid (weighted) in the baseline, hybrid (rrf) now",
    )
    refused(base + ["--mode", "dense", "--baseline", str(saved)], "modes: bm25 in the baseline, bm25, dense now")
    both = tmp_path / "both.json"
    assert runner.invoke(app, base + ["--mode", "dense", "--save-baseline", str(both)]).exit_code == 0
    reordered = runner.invoke(app, base[:-1] + ["dense", "--mode", "bm25", "--baseline", str(both)])
    assert reordered.exit_code == 0, reordered.output  # the same modes, asked in another order


def test_baseline_of_other_weights_is_refused(saved_baseline, tmp_path):
    base, _, data = saved_baseline
    data["modes"][0]["options"]["dense_weight"] = 0.5
    data["modes"][0]["options"]["filters"]["speaker"] = "li"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    refused(
        base + ["--baseline", str(other)],
        "bm25: dense_weight: 0.5 in the baseline, 0.6 now",
        "bm25: filters.speaker: li in the baseline, None now",
    )


def test_baseline_with_a_question_lost_or_changed_is_refused(saved_baseline, tmp_path):
    base, saved, _ = saved_baseline
    questions = tmp_path / "q.jsonl"
    first, second = questions.read_text().splitlines()
    fewer = tmp_path / "fewer.jsonl"
    fewer.write_text(first + "\n")
    # it used to pass: the lost question was never compared
    refused(["eval", "--questions", str(fewer)] + base[3:] + ["--baseline", str(saved)], "questions not asked now: q2")
    edited = tmp_path / "edited.jsonl"
    edited.write_text(first.replace("exotic pets", "pets from abroad") + "\n" + second + "\n")
    refused(
        ["eval", "--questions", str(edited)] + base[3:] + ["--baseline", str(saved)],
        "questions: the same ids, but a question's text, briefing or evidence changed",
    )
    # comments, order and a question's category are not what is scored: the same questions
    same = tmp_path / "same.jsonl"
    row = json.loads(first) | {"category": "figure"}
    same.write_text("# reordered\n" + second + "\n" + json.dumps(row) + "\n")
    result = runner.invoke(app, ["eval", "--questions", str(same)] + base[3:] + ["--baseline", str(saved)])
    assert result.exit_code == 0, result.output


def test_baseline_of_another_index_is_refused(saved_baseline, tmp_path):
    base, _, data = saved_baseline
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data | {"build": data["build"] | {"model": "all-MiniLM-L6-v2"}}))
    refused(base + ["--baseline", str(other)], "index model: all-MiniLM-L6-v2 in the baseline, hash now")
    other.write_text(
        json.dumps(data | {"build": data["build"] | {"chunking": {**data["build"]["chunking"], "max_tokens": 200}}})
    )
    refused(base + ["--baseline", str(other)], "index chunking.max_tokens: 200 in the baseline, 120 now")
    other.write_text(json.dumps(data | {"corpus_sha256": "0" * 64}))
    refused(base + ["--baseline", str(other)], "index: it holds other briefings than the baseline's index")


def test_a_baseline_saved_before_settings_were_kept_is_still_read(saved_baseline, tmp_path):
    base, _, data = saved_baseline
    for key in ("build", "corpus_sha256", "questions_sha256", "index_fingerprint"):
        del data[key]
    old = tmp_path / "old.json"
    old.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())  # and a BOM, as an editor may add
    result = runner.invoke(app, base + ["--baseline", str(old)])
    assert result.exit_code == 0, result.output
    assert "only its modes and question ids were checked. Save it again to check them all." in result.stderr
    # what it does record is still compared
    refused(base[:-1] + ["dense", "--baseline", str(old)], "modes: bm25 in the baseline, dense now")


def test_baseline_of_other_question_rules_is_refused_and_one_saved_before_them_is_read(saved_baseline, tmp_path):
    base, _, data = saved_baseline
    assert data["modes"][0]["options"]["question"]["dates"] is True  # every ranking setting is recorded
    data["modes"][0]["options"]["question"]["dates"] = False
    data["modes"][0]["options"]["rrf_k"] = 30
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    refused(
        base + ["--baseline", str(other)],
        "bm25: question.dates: False in the baseline, True now",
        "bm25: rrf_k: 30 in the baseline, 60 now",
    )
    # a baseline saved before these settings were options: they were the defaults
    options = data["modes"][0]["options"]
    for key in ("question", "rrf_k", "sentence_candidates", "depth_per_result", "date_decay_days", "near_days"):
        del options[key]
    del options["asked_reporter_share"]
    other.write_text(json.dumps(data))
    result = runner.invoke(app, base + ["--baseline", str(other)])
    assert result.exit_code == 0, result.output
