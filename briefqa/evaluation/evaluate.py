"""Retrieval evaluation against a hand-made question set (format: eval/README.md).

Relevance is by span: a passage is relevant to a question when it overlaps one of the question's
evidence quotes in the transcript, so a question set survives any change of chunking. Results are
scored as a user gets them, one per turn (``Index.rank_turns``): a turn is relevant when it holds
a relevant passage. Ranking metrics come from ir-measures (trec_eval's definitions).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, computed_field

from briefqa.choices import Split
from briefqa.hashing import text_sha256
from briefqa.options import BuildOptions, SearchOptions
from briefqa.paths import PROJECT_ROOT
from briefqa.records import Passage

EVAL_DEPTH = 10
PASS_DEPTH = 5  # a question passes when a relevant turn is in the top 5 (what a first screen shows)
# The question set scored by default: in the working directory, or in the checkout (default_questions).
DEFAULT_QUESTIONS = Path("eval/questions.jsonl")
# Our names for the metrics (METRICS, the order tables show them in), and ir-measures' names for
# them: the one place MRR@10 is called RR@10. Success@k (a relevant passage in the top k) is what
# a reader sees; R@k counts passages, so an answer split over two reads as 0.5.
IR_MEASURES = {
    "Success@1": "Success@1",
    "Success@5": "Success@5",
    "Success@10": "Success@10",
    "R@5": "R@5",
    "MRR@10": "RR@10",
    "nDCG@10": "nDCG@10",
}
SPEAKER_AT_1 = "speaker@1"
METRICS = (*IR_MEASURES, SPEAKER_AT_1)
# A shorter quote ("Yes.", "China", "the") recurs through a briefing: every turn holding it would
# count as relevant and the scores would mean nothing. The shortest quote in eval/ has 39 characters.
MIN_QUOTE_CHARS = 10  # not counting white space


def default_questions() -> Path:
    """The default question set: eval/questions.jsonl of the working directory when it has one,
    else the checkout's."""
    return DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.exists() else PROJECT_ROOT / DEFAULT_QUESTIONS


class EvalError(Exception):
    """A question set that cannot be evaluated; the message names the question and the fix."""


class Evidence(BaseModel):
    quote: str = Field(min_length=1, description="Exact text from the transcript that answers the question.")
    speaker: str = Field(description="Who says it, as labelled in the transcript.")


class EvalQuestion(BaseModel):
    id: str
    question: str = Field(min_length=1)
    briefing: str = Field(description="Id of the briefing holding the evidence.")
    evidence: list[Evidence] = Field(min_length=1)
    category: str | None = Field(default=None, description="figure, who, policy, event, outlet or handoff.")
    everyday: bool = Field(default=False, description="Asked in everyday words, sharing few with the answer.")
    split: Split | None = Field(
        default=None,
        description="tune: may be looked at to choose a lever or weight; test: held out, only ever reported.",
    )


class QuestionResult(BaseModel):
    id: str
    question: str
    metrics: dict[str, float]
    first_relevant_rank: int | None = Field(description="Rank of the first relevant turn in the top 10.")
    expected_speaker: str
    expected_quote: str
    top_passage_id: str | None
    top_speaker: str | None
    top_text: str | None


class ModeReport(BaseModel):
    options: SearchOptions = Field(description="How the questions were searched.")
    aggregate: dict[str, float] = Field(description="Mean of each metric over the questions.")
    questions: list[QuestionResult]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """'dense', 'bm25', or 'hybrid (weighted)': the mode, with the fusion where it matters."""
        return f"hybrid ({self.options.fusion})" if self.options.mode == "hybrid" else self.options.mode

    def missed(self, depth: int = PASS_DEPTH) -> list[QuestionResult]:
        return [q for q in self.questions if q.first_relevant_rank is None or q.first_relevant_rank > depth]


class EvalReport(BaseModel):
    questions_file: str
    split: Split | None = Field(default=None, description="The half of the question set scored (None: all of it).")
    index: str
    question_count: int
    modes: list[ModeReport]
    # What a --baseline run must share with this one (None in baselines saved before they were kept).
    build: BuildOptions | None = Field(default=None, description="The index's model, chunking and FAISS kind.")
    corpus_sha256: str | None = Field(default=None, description="Digest of the index's briefing ids.")
    questions_sha256: str | None = Field(
        default=None, description="Digest of the questions as scored (id, question, briefing, evidence)."
    )
    index_fingerprint: str | None = Field(
        default=None, description="The index's fingerprint; not compared, since it changes with briefqa's parsers."
    )


def corpus_digest(briefing_ids: Iterable[str]) -> str:
    return text_sha256("\n".join(sorted(briefing_ids)))


def questions_digest(questions: list[EvalQuestion]) -> str:
    fields = {"id", "question", "briefing", "evidence"}
    rows = sorted((q.model_dump(include=fields) for q in questions), key=lambda q: q["id"])
    return text_sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False))


def quote_problem(quote: str) -> str | None:
    """Why an evidence quote cannot mark an answer (blank, or so short it is found everywhere)."""
    length = len("".join(quote.split()))
    if length >= MIN_QUOTE_CHARS:
        return None
    what = "is blank" if not length else f"has only {length} character{'s' if length > 1 else ''}"
    return (
        f"{what}, too short to mark an answer (it could be found all over the briefing). Copy the "
        f"sentence that answers the question from the transcript (at least {MIN_QUOTE_CHARS} characters)"
    )


def load_questions(*paths: Path) -> list[EvalQuestion]:
    """The questions of one or more question files; ids must be unique across all of them."""
    questions: list[EvalQuestion] = []
    first_seen: dict[str, str] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise EvalError(f"{path}: no such question file")
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: a BOM some editors write
        except UnicodeDecodeError:
            raise EvalError(
                f"{path}: not a UTF-8 text file; a question set is JSON lines (see eval/README.md)"
            ) from None
        except OSError as err:
            raise EvalError(f"{path}: cannot be read ({err.strerror})") from None
        found = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                question = EvalQuestion.model_validate_json(line)
            except ValidationError as err:
                problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
                raise EvalError(f"{path}:{number}: not a valid question ({problem})") from None
            for n, evidence in enumerate(question.evidence, start=1):
                if why := quote_problem(evidence.quote):
                    raise EvalError(f"{path}:{number}: question '{question.id}', evidence quote {n} {why}")
            if question.id in first_seen:
                raise EvalError(
                    f"{path}:{number}: question id '{question.id}' is used twice (first in {first_seen[question.id]})"
                )
            first_seen[question.id] = f"{path}:{number}"
            questions.append(question)
            found += 1
        if not found:
            raise EvalError(f"{path}: holds no questions")
    return questions


def select_split(questions: list[EvalQuestion], split: Split | None) -> list[EvalQuestion]:
    """The questions of one half of a set (all of them for None)."""
    if split is None:
        return questions
    if unsplit := [q.id for q in questions if q.split is None]:
        named = ", ".join(unsplit[:3]) + (", …" if len(unsplit) > 3 else "")
        raise EvalError(
            f"{len(unsplit)} question(s) belong to no half ({named}): "
            'give each a "split" of "tune" or "test", or evaluate the whole set'
        )
    return [q for q in questions if q.split == split]


def evidence_spans(question: EvalQuestion, texts: dict[str, str]) -> list[tuple[int, int]]:
    """Every place each evidence quote stands in its briefing's text. White space in a quote
    matches any white space (hard-wrapped transcripts break lines mid-sentence); every other
    character must be exact."""
    text = texts.get(question.briefing)
    if text is None:
        raise EvalError(f"question {question.id}: briefing '{question.briefing}' is not in the index")
    spans = []
    for evidence in question.evidence:
        if problem := quote_problem(evidence.quote):
            raise EvalError(f"question {question.id}: the evidence quote {evidence.quote!r} {problem}")
        pattern = re.compile(r"\s+".join(map(re.escape, evidence.quote.split())))
        found = [(m.start(), m.end()) for m in pattern.finditer(text)]
        if not found:
            raise EvalError(
                f"question {question.id}: quote not found in {question.briefing}: {evidence.quote[:80]!r}. "
                "Copy the quote exactly from the transcript (line breaks may be written as spaces)."
            )
        spans += found
    return spans


def relevant_passages(question: EvalQuestion, spans: list[tuple[int, int]], passages: list[Passage]) -> set[str]:
    """Ids of the passages that overlap an evidence span."""
    return {
        p.id
        for p in passages
        if p.briefing_id == question.briefing and any(p.char_start < end and start < p.char_end for start, end in spans)
    }


def score_run(
    qrels: dict[str, set[str]], run: dict[str, list[str]]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """ir-measures over a run (question -> passage ids, best first): (aggregate, per question)."""
    import ir_measures

    measures = {name: ir_measures.parse_measure(spec) for name, spec in IR_MEASURES.items()}
    names = {str(m): name for name, m in measures.items()}
    qrel_rows = [ir_measures.Qrel(q, doc, 1) for q, docs in qrels.items() for doc in docs]
    # Scores fall with rank so that trec_eval keeps our order (it breaks score ties by doc id).
    run_rows = [
        ir_measures.ScoredDoc(q, doc, float(len(docs) - i)) for q, docs in run.items() for i, doc in enumerate(docs)
    ]
    per_question: dict[str, dict[str, float]] = {q: {name: 0.0 for name in IR_MEASURES} for q in qrels}
    for metric in ir_measures.iter_calc(list(measures.values()), qrel_rows, run_rows):
        per_question[metric.query_id][names[str(metric.measure)]] = float(metric.value)
    aggregate = {name: sum(v[name] for v in per_question.values()) / len(per_question) for name in IR_MEASURES}
    return aggregate, per_question


def turn_id(p: Passage) -> str:
    return f"{p.briefing_id}#{p.turn_index}"


def evaluate(
    index, questions: list[EvalQuestion], variants: Sequence[SearchOptions], by: Literal["turn", "passage"] = "turn"
) -> list[ModeReport]:
    """Run every question through a loaded index once per search variant and score the turns it
    returns, as ``Index.search`` gives them (each turn's best passage stands for it); ``by="passage"``
    scores the flat passage ranking instead (``Index.search_passages``), for comparison."""
    unit = turn_id if by == "turn" else (lambda p: p.id)
    texts = index.texts()
    passages = index.passages
    spans = {q.id: evidence_spans(q, texts) for q in questions}
    qrels = {}
    for q in questions:
        relevant = relevant_passages(q, spans[q.id], passages)
        if not relevant:
            raise EvalError(
                f"question {q.id}: its evidence is in briefing '{q.briefing}' but in no passage of the index (text "
                "outside every speaker's turn, such as a page header or a translator's credit, is not indexed); "
                "quote a sentence that a speaker says"
            )
        qrels[q.id] = {unit(p) for p in passages if p.id in relevant}
    reports = []
    for options in variants:
        tops = {q.id: _top_rows(index, q.question, options, by) for q in questions}
        run = {qid: [unit(passages[row]) for row in rows] for qid, rows in tops.items()}
        aggregate, per_question = score_run(qrels, run)
        results = []
        for q in questions:
            ids = run[q.id]
            top = passages[tops[q.id][0]] if tops[q.id] else None
            speakers = {e.speaker.casefold() for e in q.evidence}
            spoken = top is not None and top.speaker.casefold() in speakers
            metrics = per_question[q.id] | {SPEAKER_AT_1: float(spoken)}
            first = next((i for i, tid in enumerate(ids, start=1) if tid in qrels[q.id]), None)
            results.append(
                QuestionResult(
                    id=q.id,
                    question=q.question,
                    metrics=metrics,
                    first_relevant_rank=first,
                    expected_speaker=q.evidence[0].speaker,
                    expected_quote=q.evidence[0].quote,
                    top_passage_id=top.id if top else None,
                    top_speaker=top.speaker if top else None,
                    top_text=top.text if top else None,
                )
            )
        aggregate[SPEAKER_AT_1] = sum(r.metrics[SPEAKER_AT_1] for r in results) / len(results)
        reports.append(ModeReport(options=options, aggregate=aggregate, questions=results))
    return reports


def _top_rows(index, question: str, options: SearchOptions, by: str) -> list[int]:
    if by == "turn":
        return [group[0][0] for group in index.rank_turns(question, EVAL_DEPTH, options)]
    return [row for row, _ in index.rank(question, EVAL_DEPTH, options)]


def parse_floor(spec: str) -> tuple[str, float]:
    """'R@5=0.8' -> ('R@5', 0.8). Every metric lies in 0-1: a floor above 1 always fails, one
    below 0 never does, so both are refused (80 meant 0.8)."""
    name, _, value = spec.partition("=")
    name = name.strip()
    if name not in METRICS:
        raise ValueError(f"unknown metric '{name}' in --fail-under; choose from {', '.join(METRICS)}")
    try:
        floor = float(value)
    except ValueError:
        raise ValueError(f"--fail-under {spec}: the floor must be a number, e.g. {name}=0.8") from None
    if not 0 <= floor <= 1:  # NaN too
        raise ValueError(f"--fail-under {spec}: the floor must be between 0 and 1, a fraction: e.g. {name}=0.8")
    return name, floor


def failed_floors(reports: list[ModeReport], floors: list[tuple[str, float]]) -> list[str]:
    """One line per metric below its floor, in any mode evaluated."""
    return [
        f"{report.label}: {name} = {report.aggregate[name]:.3f} is under the floor {floor:.3f}"
        for report in reports
        for name, floor in floors
        if report.aggregate[name] < floor
    ]


def report_json(report: EvalReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False)


def load_report(path: Path) -> EvalReport:
    """A report saved with ``briefqa eval --save-baseline``."""
    try:
        return EvalReport.model_validate_json(Path(path).read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except OSError as err:
        raise EvalError(f"{path}: cannot read the baseline ({err.strerror})") from None
    except ValidationError:
        raise EvalError(f"{path}: not a baseline saved by 'briefqa eval --save-baseline'; save one again") from None


def setting_differences(report: EvalReport, baseline: EvalReport) -> list[str]:
    """What differs between a run and its baseline other than the code: the modes and their search
    options, the questions, the index's build options and briefings. Scores of other settings
    cannot be compared, so ``--baseline`` refuses them. A baseline saved before the index and
    question digests were kept is compared on its modes and question ids only."""
    lines = []
    before = {m.label: m for m in baseline.modes}
    now = {m.label: m for m in report.modes}
    if set(before) != set(now):  # in any order
        lines.append(f"modes: {', '.join(before)} in the baseline, {', '.join(now)} now")
    for label in [label for label in before if label in now]:
        lines += [f"{label}: {d}" for d in _differences(before[label].options, now[label].options)]
    old_ids = {q.id for m in baseline.modes[:1] for q in m.questions}
    new_ids = {q.id for m in report.modes[:1] for q in m.questions}
    if old_ids - new_ids:
        lines.append(f"questions not asked now: {', '.join(sorted(old_ids - new_ids))}")
    if new_ids - old_ids:
        lines.append(f"questions not in the baseline: {', '.join(sorted(new_ids - old_ids))}")
    if old_ids == new_ids and _both_and_differ(baseline.questions_sha256, report.questions_sha256):
        lines.append("questions: the same ids, but a question's text, briefing or evidence changed")
    if baseline.build is not None and report.build is not None:
        lines += [f"index {d}" for d in _differences(baseline.build, report.build)]
    if _both_and_differ(baseline.corpus_sha256, report.corpus_sha256):
        lines.append("index: it holds other briefings than the baseline's index")
    return lines


def _both_and_differ(old: str | None, new: str | None) -> bool:
    """Both recorded (an old baseline lacks some) and different."""
    return old is not None and new is not None and old != new


def _differences(before: BaseModel, now: BaseModel) -> list[str]:
    """'dense_weight: 0.6 in the baseline, 0.5 now' for each field that differs (nested fields dotted)."""

    def flat(data: dict, prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in data.items():
            out |= flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
        return out

    old, new = flat(before.model_dump(mode="json")), flat(now.model_dump(mode="json"))
    return [
        f"{key}: {old.get(key)} in the baseline, {new.get(key)} now"
        for key in old | new
        if old.get(key) != new.get(key)
    ]


def regressions(report: EvalReport, baseline: EvalReport, tolerance: float) -> list[str]:
    """One line per metric that fell by more than ``tolerance`` since the baseline, and per
    question that passed then and fails now (with what comes first instead), mode by mode."""
    lines = []
    before = {m.label: m for m in baseline.modes}
    for mode in report.modes:
        old = before.get(mode.label)
        if old is None:
            continue
        for name, value in mode.aggregate.items():
            if name in old.aggregate and value < old.aggregate[name] - tolerance:
                lines.append(f"{mode.label}: {name} fell from {old.aggregate[name]:.3f} to {value:.3f}")
        passed = {q.id for q in old.questions if q.first_relevant_rank and q.first_relevant_rank <= PASS_DEPTH}
        for q in mode.missed(PASS_DEPTH):
            if q.id in passed:
                first = " ".join((q.top_text or "").split())[:100]
                lines.append(f"{mode.label}: {q.id} passed and now fails; first is {q.top_speaker}: {first}")
    return lines


def report_markdown(report: EvalReport, failures: Sequence[str] = ()) -> str:
    """The metrics table and the missed questions, for a CI job's summary page; first the floors
    not met and the regressions from a baseline (``failures``), if any."""
    labels = [m.label for m in report.modes]
    lines = [f"### Retrieval: {report.question_count} questions ({report.questions_file})", ""]
    if failures:
        lines += [f"- **FAIL** {line}" for line in failures] + [""]
    lines += ["| metric | " + " | ".join(labels) + " |", "|---" * (1 + len(labels)) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{m.aggregate[name]:.3f}" for m in report.modes) + " |" for name in METRICS]
    for m in report.modes:
        missed = m.missed(PASS_DEPTH)
        lines += ["", f"**{m.label}**: {len(missed)} question(s) missed in the top {PASS_DEPTH}", ""]
        lines += [f"- `{q.id}` {q.question} (expected {q.expected_speaker}; first {q.top_speaker})" for q in missed]
    return "\n".join(lines) + "\n"


def report_junit(report: EvalReport) -> str:
    """JUnit XML: a test suite per mode, a test case per question, failed when no relevant turn is
    in the top PASS_DEPTH; for CI systems that show test results."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="briefqa eval")
    for m in report.modes:
        missed = {q.id for q in m.missed(PASS_DEPTH)}
        suite = ET.SubElement(
            suites, "testsuite", name=f"briefqa eval {m.label}", tests=str(len(m.questions)), failures=str(len(missed))
        )
        for q in m.questions:
            case = ET.SubElement(
                suite, "testcase", classname=f"briefqa.eval.{m.options.mode}", name=f"{q.id} {q.question}"
            )
            if q.id in missed:
                found = f"rank {q.first_relevant_rank}" if q.first_relevant_rank else "not in the top 10"
                failure = ET.SubElement(case, "failure", message=f"no relevant turn in the top {PASS_DEPTH} ({found})")
                failure.text = (
                    f"expected {q.expected_speaker}: {q.expected_quote}\n"
                    f"first    {q.top_speaker} ({q.top_passage_id}): {' '.join((q.top_text or '').split())[:300]}"
                )
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def check_report_file(path: Path, kind: Literal["baseline", "junit"], inputs: list[Path]) -> None:
    """Raise EvalError unless ``path`` may receive a report: a new file, or a report of this kind
    that briefqa wrote before; never one of the run's question files, a file inside an index, or
    anything else (a write only ever replaces what briefqa made)."""
    real = Path(os.path.realpath(path))
    if any(real == Path(os.path.realpath(q)) for q in inputs):
        raise EvalError(f"{path}: is a question file of this run; write the {kind} to another file")
    if (real.parent / "manifest.json").is_file():
        raise EvalError(f"{path}: is inside an index directory; write the {kind} somewhere else")
    if real.is_dir():
        raise EvalError(f"{path}: is a directory; name a file to write the {kind} to")
    if not real.exists():
        return
    try:
        head = real.read_bytes()[:4096] if kind == "junit" else b""
        ours = b'name="briefqa eval"' in head if kind == "junit" else bool(load_report(real).modes)
    except (OSError, EvalError, ValueError):
        ours = False
    if not ours:
        raise EvalError(
            f"{path}: holds a file that is not a {kind} briefqa wrote, and writing would replace it; "
            "choose a new file name, or remove that file first"
        )
