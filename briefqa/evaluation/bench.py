"""Benchmark: prints figures, asserts nothing. Run:  python -m briefqa.evaluation.bench [--scale]

Measures, on this machine, in one run:
  cold ask      `briefqa ask` as a new process on a built index (median of 5)
  --help        `briefqa --help` as a new process (median of 5)
  warm search   Index.search p50/p95 per mode, k=10, over 200+ queries
  build         index build passages/s beside the bare model's encode of the same passages
                (--build-corpus DIR: a larger set than corpus/ for this one measure)
  size, memory  index size on disk; peak RSS of the benchmark and of a cold ask
  --index DIR   a built index (an archive) instead: cold ask plain and filtered, warm search, size
  --growth DIR  the product at growing sizes (--sizes) on briefings spread over a built archive:
                cold ask, filtered ask, warm search (p50 / p95), memory and index size; the
                archive's vectors are reused, so nothing is re-embedded; a size above the archive's
                is made of perturbed copies of it (synthesize: 1M and 3M passages)
  --scale       synthetic growth to 100k passages, FAISS alone: flat vs HNSW build time, size,
                query latency and HNSW recall@10 against flat (how HNSW's settings were chosen)
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import get_args

import numpy as np

from briefqa.choices import FaissKind, Mode
from briefqa.evaluation.evaluate import DEFAULT_QUESTIONS
from briefqa.paths import PROJECT_ROOT

# Runs the CLI, then prints the process's own peak memory (VmHWM; ru_maxrss of a child would
# include the benchmark's own size, inherited through fork).
_CLI_WITH_PEAK = (
    "import re, runpy, sys\n"
    "sys.argv = ['briefqa'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('briefqa.cli', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "sys.stderr.write(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
)


def _median_seconds(args: list[str], runs: int = 5, check: bool = True) -> tuple[float, int]:
    """Median wall time of the CLI as a new process, and its peak memory in KiB. ``check``: fail
    when the command does (a filtered ask that matches nothing exits 1)."""
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CLI_WITH_PEAK, *args],
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        times.append(time.perf_counter() - start)
        peak = max(peak, int(done.stderr.strip().rsplit(maxsplit=1)[-1]))
    return statistics.median(times), peak


def _results(args: list[str]) -> int:
    """How many results `briefqa ask ... --json` gives (it exits 1 when nothing matches the filters)."""
    done = subprocess.run([sys.executable, "-m", "briefqa.cli", *args], capture_output=True, text=True)
    return len(json.loads(done.stdout)["results"]) if done.returncode == 0 else 0


def _queries(index, questions_file: Path | None = None, minimum: int = 200) -> list[str]:
    """The evaluation's questions (real questions, 8-30 words), cycled to ``minimum``; without
    them, sentences of the passages."""
    questions_file = questions_file or PROJECT_ROOT / DEFAULT_QUESTIONS
    queries = []
    if questions_file.exists():
        queries = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    if not queries:
        from briefqa.reading.sentences import sentence_spans

        queries = [p.text[a:b] for p in index.passages for a, b in sentence_spans(p.text, p.language)]
    return list(itertools.islice(itertools.cycle(queries), max(minimum, len(queries))))


def _percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _p50_95(figures: tuple[float, float, int]) -> str:
    return f"{figures[0]:.1f} / {figures[1]:.1f} ms"


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name} | {value} | {note} |")


def typical_filters(path: Path) -> str:
    """Filters a user of this index would give: its most frequent official, since the middle of
    the days it covers (on the White House archive: --speaker 'Ms. Jean-Pierre' --since 2022-06-...)."""
    from briefqa.searching.index import load_index
    from briefqa.terminal_text import command

    index = load_index(path)
    officials = index.speakers(role="official")
    days = sorted(b.held_on for b in index.briefings() if b.held_on)
    words = ["--speaker", officials[0].name] if officials else []
    words += ["--since", days[len(days) // 2].isoformat()] if days else []
    return command(*words)


def measure_index(path: Path, questions: Path | None, filters: str) -> None:
    """The product's own costs on a built index: what a user of an archive waits for."""
    import shlex

    question = "What did the press secretary say about student loan forgiveness?"
    print(f"Index {path}\n\n| measure | figure | note |\n|---|---|---|")
    for label, extra in (("plain", []), (f"filtered ({filters})", shlex.split(filters))):
        seconds, peak = _median_seconds(["ask", question, "--index", str(path), *extra])
        row(
            f"`briefqa ask`, new process, {label}",
            f"{seconds * 1000:.0f} ms",
            f"median of 5, k=5; peak {peak / 1024:.0f} MB",
        )
        row(
            f"results of that ask, {label}",
            f"{_results(['ask', question, '--index', str(path), '--json', *extra])} of 5",
            "filters apply before ranking",
        )
    warm_rows(warm_search(path, questions))
    row("index size on disk", f"{_dir_size(path) / 1e6:.0f} MB", "")


def _warm_latencies(path: Path, questions: Path | None = None) -> dict[str, tuple[float, float, int]]:
    """Index.search p50 and p95 in ms per mode, k=10, the index loaded once; and the query count."""
    from briefqa.options import SearchOptions
    from briefqa.searching.index import load_index

    index = load_index(path)
    queries = _queries(index, questions)
    index.search("warm up", k=10)
    figures = {}
    for mode in get_args(Mode):
        options = SearchOptions(mode=mode)
        latencies = []
        for q in queries:
            start = time.perf_counter()
            index.search(q, k=10, options=options)
            latencies.append((time.perf_counter() - start) * 1000)
        figures[mode] = (*_percentiles(latencies), len(queries))
    return figures


def warm_search(path: Path, questions: Path | None = None) -> dict[str, tuple[float, float, int]]:
    """Warm latencies measured in a new process that never imports torch, as a user's would: in
    this one, torch's idle worker threads would compete with ONNX Runtime's."""
    command = [sys.executable, "-m", "briefqa.evaluation.bench", "--warm-search", str(path)]
    if questions:
        command += ["--questions", str(questions)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return {mode: tuple(figures) for mode, figures in json.loads(done.stdout).items()}


def warm_rows(figures: dict[str, tuple[float, float, int]]) -> None:
    for mode, (p50, p95, count) in figures.items():
        row(
            f"warm search {mode}, k=10",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
            f"{count} queries (eval questions); target p50 dense <= 10 ms, hybrid <= 15 ms",
        )


def growth(source: Path, sizes: list[int], questions: Path | None, filters: str) -> None:
    """The product at growing sizes: briefings spread evenly over the archive indexed at ``source``
    (so date and speaker filters match at every size), each set indexed into a copy of it, so
    every vector is reused and nothing is re-embedded. A size at or above the archive's is the
    archive itself."""
    import shlex
    import sqlite3

    from briefqa.indexing.build import build_index
    from briefqa.searching.index import load_index

    archive = load_index(source)
    with sqlite3.connect(f"file:{source / 'content.sqlite'}?mode=ro", uri=True) as db:
        counts = db.execute(
            "SELECT b.source, COUNT(*) FROM briefings b JOIN passages p ON p.briefing_id = b.id "
            "GROUP BY b.id ORDER BY b.position"
        ).fetchall()
    total = sum(n for _, n in counts)
    question = "What did the press secretary say about student loan forgiveness?"
    work = Path(tempfile.mkdtemp(prefix="briefqa-growth-"))
    print(
        f"Growth over {source} ({len(counts)} briefings, {total} passages); cold asks are medians "
        f"of 5 new processes, k=5; filtered: {filters}; warm search: k=10, 200 queries, p50.\n"
    )
    columns = "passages briefings vectors cold-ask filtered-ask peak-RSS results warm-hybrid warm-dense warm-bm25 size"
    print("| " + " | ".join(c.replace("-", " ") for c in columns.split()) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    embedder = None
    for size in sizes:
        if size == total:
            path = source
        elif size > total:  # more than the archive holds: copies of it, perturbed (synthesize)
            path = work / f"n{size}"
            start = time.perf_counter()
            synthesize(source, size, path)
            print(f"(synthesized {size} passages in {time.perf_counter() - start:.0f} s)", flush=True)
        else:
            share, picked, carry = size / total, [], 0.0
            for file, _ in counts:  # every (1/share)-th briefing, Bresenham style
                carry += share
                if carry >= 1:
                    picked.append(file)
                    carry -= 1
            path = work / f"n{size}"
            shutil.copytree(source, path)
            if embedder is None:
                from briefqa.indexing.embed import load_embedder

                embedder = load_embedder(archive.manifest.model.name)
            build_index(picked, path, archive.manifest.build_options(), embedder=embedder)
        index = load_index(path)
        plain_s, plain_peak = _median_seconds(["ask", question, "--index", str(path)])
        extra = shlex.split(filters)
        filtered_s, filtered_peak = _median_seconds(["ask", question, "--index", str(path), *extra], check=False)
        found = _results(["ask", question, "--index", str(path), "--json", *extra])
        warm = warm_search(path, questions)
        print(
            f"| {index.manifest.passages} | {len(index.manifest.corpus)} | {index.vectors.kind} "
            f"| {plain_s * 1000:.0f} ms | {filtered_s * 1000:.0f} ms | {max(plain_peak, filtered_peak) / 1024:.0f} MB "
            f"| {found} of 5 | {_p50_95(warm['hybrid'])} | {_p50_95(warm['dense'])} | {_p50_95(warm['bm25'])} "
            f"| {_dir_size(path) / 1e6:.0f} MB |",
            flush=True,
        )
        index.content.close()
        if path != source:
            shutil.rmtree(path)
    shutil.rmtree(work, ignore_errors=True)


# A word the synthetic copies may replace: a run of ASCII letters between non-word characters, so
# that a replacement of the same length keeps every offset and every word boundary.
_LETTERS = re.compile(r"\b([A-Za-z]{3,})\b")


def synthesize(source: Path, passages: int, out: Path, faiss_index: FaissKind = "auto") -> int:
    """An index of about ``passages`` passages made from the built archive at ``source``, without
    embedding anything: copy 0 is the archive itself, each further copy its briefings renamed
    (``<id>-x<copy>``, same days and speakers, so filters match the same share at every size),
    a quarter of their words each replaced by another word of the archive of the same length
    (offsets stay valid; BM25 sees new word statistics), and their passage and sentence vectors
    moved towards another passage's (85-95% their own, plus noise, unit length). Written part by
    part (content, BM25 with ``Bm25Writer``, vectors through a memory-mapped file), never holding
    every passage at once. Returns the passage count (whole briefings: about ``passages``)."""
    import os
    import sqlite3

    from briefqa.hashing import file_sha256, text_sha256
    from briefqa.indexing.bm25 import Bm25Writer
    from briefqa.indexing.content import CONTENT, write_content
    from briefqa.indexing.layout import _GITIGNORE, BM25_DIR, MANIFEST, ONNX_DIR, SENTENCE_STARTS, SENTENCES, VECTORS
    from briefqa.indexing.manifest import Manifest, now
    from briefqa.indexing.vectors import VectorIndex
    from briefqa.reading.passages import embedded_text
    from briefqa.searching.index import load_index

    archive = load_index(source)
    m = archive.manifest
    briefings = [b for b in map(archive.briefing, m.corpus) if b is not None]
    transcripts = {t.id: t for t in archive.content.transcripts()}
    rows_of: dict[str, list[int]] = {}
    for row, p in enumerate(archive.passages):
        rows_of.setdefault(p.briefing_id, []).append(row)
    base = archive.vectors.all_vectors()
    sentence_blocks = archive.sentences.blocks()
    all_sentences = np.concatenate(sentence_blocks)
    starts_of = np.concatenate([[0], np.cumsum([len(b) for b in sentence_blocks])])
    lengths: dict[int, set[str]] = {}
    for b in briefings:
        for word in set(_LETTERS.findall(b.text)):
            lengths.setdefault(len(word), set()).add(word.lower())
    pool = {n: sorted(words) for n, words in lengths.items()}  # words of the archive by length
    # the briefings of each copy: whole copies of the archive, then its first briefings up to the size
    plan: list[tuple[int, int]] = []  # (copy, briefing position)
    total = 0
    while total < passages:
        copy = len(plan) // len(briefings)
        position = len(plan) % len(briefings)
        plan.append((copy, position))
        total += len(rows_of[briefings[position].id])
    sentence_total = sum(len(sentence_blocks[r]) for _, i in plan for r in rows_of[briefings[i].id])
    out.mkdir(parents=True)
    dimension = base.shape[1]
    vectors = np.lib.format.open_memmap(out / "vectors.tmp.npy", "w+", np.float16, (total, dimension))
    sentences = np.lib.format.open_memmap(out / SENTENCES, "w+", np.float16, (sentence_total, dimension))
    starts = np.zeros(total + 1, dtype=np.int64)
    languages = sorted({b.language for b in briefings})
    bm25 = Bm25Writer(languages)
    corpus, readings = {}, {}
    row = sentence_row = 0
    for copy, group in itertools.groupby(plan, key=lambda step: step[0]):
        rng = np.random.default_rng(copy)
        chosen = [briefings[i] for _, i in group]
        new_briefings, new_transcripts, new_passages, source_rows = [], [], [], []
        for b in chosen:
            if copy == 0:
                new, parsed = b, transcripts[b.id]
            else:
                pieces = _LETTERS.split(b.text)
                words = np.arange(1, len(pieces), 2)
                for i in words[rng.random(len(words)) < 0.25]:
                    same = pool[len(pieces[i])]
                    word = same[rng.integers(len(same))]
                    pieces[i] = word.capitalize() if pieces[i][0].isupper() else word
                text = "".join(pieces)
                turns = [t.model_copy(update={"text": text[t.char_start : t.char_end]}) for t in b.turns]
                new = b.model_copy(update={"id": f"{b.id}-x{copy}", "text": text, "turns": turns})
                parsed = transcripts[b.id].model_copy(update={"id": new.id})
            new_briefings.append(new)
            new_transcripts.append(parsed)
            corpus[new.id] = text_sha256(new.text)
            readings[new.id] = text_sha256(f"synthetic {m.readings.get(b.id, '')} {copy}")
            for r in rows_of[b.id]:
                p = archive.passages[r]
                turn = new.turn(p.turn_index)
                asked = new.turn(p.answers_turn) if p.answers_turn is not None else None
                text = new.text[p.char_start : p.char_end]
                new_passages.append(
                    p.model_copy(
                        update={
                            "id": new.id + p.id[len(b.id) :],
                            "briefing_id": new.id,
                            "text": text,
                            "question_text": asked.text if asked is not None else None,
                            "embedded_text": embedded_text(text, turn, new, m.chunking),
                        }
                    )
                )
                source_rows.append(r)
        # content: the first copy makes the file, the others are written apart and appended
        part = out / (CONTENT if copy == 0 else "part.sqlite")
        write_content(part, new_transcripts, new_briefings, new_passages)
        if copy:
            with sqlite3.connect(out / CONTENT) as db:
                db.execute("ATTACH DATABASE ? AS part", (str(part),))
                briefing_columns = "title, held_on, published_on, source, chair, officials, outlets, text, "
                briefing_columns += "source_url, language, collection, reader"
                passage_columns = "id, briefing_id, turn, part, speaker, role, held_on, char_start, char_end, "
                passage_columns += "answers_turn, question_outlet, embedded_key, digest, outlet"
                db.execute(
                    f"INSERT INTO briefings SELECT id, position + ?, {briefing_columns} FROM part.briefings",
                    (copy * len(briefings),),
                )
                db.execute(f"INSERT INTO passages SELECT row + ?, {passage_columns} FROM part.passages", (row,))
                for table in ("turns", "speaker_names", "transcripts"):
                    db.execute(f"INSERT INTO {table} SELECT * FROM part.{table}")
            db.close()
            part.unlink()
        bm25.add([p.embedded_text for p in new_passages], [p.language for p in new_passages])
        # vectors: moved towards another passage's, each sentence of a passage with it
        own = np.array(source_rows)
        other = rng.integers(0, len(base), len(own))
        share = (
            rng.uniform(0.85, 0.95, (len(own), 1)).astype(np.float32) if copy else np.ones((len(own), 1), np.float32)
        )
        noise = 0.01 if copy else 0.0
        mixed = share * base[own] + (1 - share) * base[other]
        mixed += rng.normal(0, noise, mixed.shape).astype(np.float32)
        vectors[row : row + len(own)] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
        counts = starts_of[own + 1] - starts_of[own]
        which = np.repeat(np.arange(len(own)), counts)  # each sentence's passage, in this copy
        block = all_sentences[np.concatenate([np.arange(starts_of[r], starts_of[r + 1]) for r in own])]
        block = share[which] * block + (1 - share[which]) * base[other[which]]
        block += rng.normal(0, noise, block.shape).astype(np.float32)
        sentences[sentence_row : sentence_row + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        starts[row + 1 : row + len(own) + 1] = sentence_row + np.cumsum(counts)
        sentence_row += len(block)
        row += len(own)
    sentences.flush()
    del sentences
    np.save(out / SENTENCE_STARTS, starts, allow_pickle=False)
    (out / BM25_DIR).mkdir()
    bm25.save(out / BM25_DIR)
    del bm25
    VectorIndex.build(vectors, faiss_index).save(out / VECTORS)
    del vectors
    (out / "vectors.tmp.npy").unlink()
    if (source / ONNX_DIR).exists():
        shutil.copytree(source / ONNX_DIR, out / ONNX_DIR, copy_function=os.link)
    (out / ".gitignore").write_text(_GITIGNORE)
    manifest = Manifest(
        model=m.model,
        chunking=m.chunking,
        faiss_index=faiss_index,
        corpus=corpus,
        readings=readings,
        parsers=m.parsers,
        passages=total,
        created_at=now(),
    )
    written = sorted(f for f in out.rglob("*") if f.is_file())
    manifest.files = {str(f.relative_to(out)): f.stat().st_size for f in written}
    manifest.digests = {str(f.relative_to(out)): file_sha256(f) for f in written}
    manifest.fingerprint = manifest.compute_fingerprint()
    (out / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="store_true", help="also run the synthetic growth to 100k passages")
    parser.add_argument("--sizes", default="1000,10000,100000", help="passage counts for --scale and --growth")
    corpus = PROJECT_ROOT / "corpus"
    parser.add_argument(
        "--build-corpus",
        type=Path,
        default=corpus,
        help="transcripts for the build rate (default corpus/; more passages spread the export's cost)",
    )
    parser.add_argument(
        "--index", type=Path, help="measure this built index instead (an archive): cold ask, filtered ask, warm search"
    )
    parser.add_argument("--questions", type=Path, help=f"queries for warm search (default {DEFAULT_QUESTIONS})")
    parser.add_argument(
        "--filters",
        help="ask options for the filtered ask (default: the index's most frequent official, since its middle date)",
    )
    parser.add_argument(
        "--growth",
        type=Path,
        metavar="ARCHIVE",
        help="the product at --sizes passages, on this built index's briefings",
    )
    parser.add_argument("--warm-search", type=Path, help=argparse.SUPPRESS)  # the benchmark's own subprocess
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.warm_search:
        print(json.dumps(_warm_latencies(args.warm_search, args.questions)))
        return
    if args.index:
        measure_index(args.index, args.questions, args.filters or typical_filters(args.index))
        return
    if args.growth:
        growth(args.growth, sizes, args.questions, args.filters or typical_filters(args.growth))
        return

    from briefqa.indexing.build import build_index
    from briefqa.indexing.embed import SentenceTransformerEmbedder
    from briefqa.options import DEFAULT_MODEL, ChunkSettings
    from briefqa.reading.corpus import load_corpus
    from briefqa.reading.passages import chunk_briefings
    from briefqa.searching.index import load_index

    work = Path(tempfile.mkdtemp(prefix="briefqa-bench-"))
    print("| measure | figure | note |\n|---|---|---|")

    # build, beside the bare model and each encoder variant on the same passages (all warmed up
    # first, so none pays for first-call costs); the build also exports and fuses its encoder
    from briefqa.indexing.embed import BUILD_THREADS
    from briefqa.indexing.onnx_encoder import OnnxEncoder, export_onnx

    embedder = SentenceTransformerEmbedder(DEFAULT_MODEL)
    build_corpus = load_corpus([args.build_corpus])
    texts = [p.embedded_text for p in chunk_briefings(build_corpus.briefings, ChunkSettings(), embedder.count_tokens)]
    export_onnx(embedder, work / "unfused", fuse=False)
    export_onnx(embedder, work / "fused")
    encoders = {
        "bare model encode (sentence-transformers, torch, batch 16)": lambda t: embedder.model.encode(
            t, batch_size=16, normalize_embeddings=True, show_progress_bar=False
        ),
        "ONNX export, unfused (batches by token count)": OnnxEncoder(work / "unfused", BUILD_THREADS).encode,
        "ONNX export, fused (what a build embeds with)": OnnxEncoder(work / "fused", BUILD_THREADS).encode,
    }
    for encode in encoders.values():
        encode(texts[:32])
    # Best of two of each, alternating: one run of any varied by +-10% here.
    times: dict[str, list[float]] = {name: [] for name in [*encoders, "build"]}
    for attempt in range(2):
        for name, encode in encoders.items():
            start = time.perf_counter()
            encode(texts)
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        report = build_index([args.build_corpus], work / f"build-{attempt}", embedder=embedder)
        times["build"].append(time.perf_counter() - start)
    where = "corpus/" if args.build_corpus == corpus else args.build_corpus.name
    bare = len(texts) / min(next(iter(times.values())))
    for name in encoders:
        rate = len(texts) / min(times[name])
        row(name, f"{rate:.1f} passages/s", f"{len(texts)} passages of {where}, best of 2; {rate / bare:.2f}x bare")
    build_rate = report.passages / min(times["build"])
    embedded = report.embedded + report.sentences_embedded
    row(
        "index build (whole pipeline)",
        f"{build_rate:.1f} passages/s",
        f"same passages, {min(times['build']):.1f} s (best of 2), chunking, export and fusing included; "
        f"{embedded} texts embedded (the passages and {report.sentences_embedded} sentences), "
        f"{embedded / min(times['build']):.1f} texts/s",
    )
    row(
        "build / bare",
        f"{100 * build_rate / bare:.0f}%",
        "passages per second; target >= 150%, set when a build embedded passages only",
    )
    build_index([corpus], work / "index", embedder=embedder)
    row(
        "index size on disk",
        f"{_dir_size(work / 'index') / 1e6:.1f} MB",
        f"corpus/, of which the ONNX encoder {_dir_size(work / 'index' / 'onnx') / 1e6:.1f} MB",
    )

    # start-up
    help_s, _ = _median_seconds(["--help"])
    row("`briefqa --help`, new process", f"{help_s * 1000:.0f} ms", "median of 5; target <= 300 ms")
    question = "What did customs say about exotic pets?"
    ask_s, ask_peak = _median_seconds(["ask", question, "--index", str(work / "index")])
    row("`briefqa ask`, new process", f"{ask_s * 1000:.0f} ms", "median of 5, hybrid, k=5; target <= 1500 ms")
    row("peak memory of a cold ask", f"{ask_peak / 1024:.0f} MB", "VmHWM of the process")

    warm_rows(warm_search(work / "index"))
    row(
        "peak memory of this benchmark",
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
        "includes torch and the model",
    )

    if args.scale:
        scale(load_index(work / "index"), sizes)
    shutil.rmtree(work, ignore_errors=True)


def scale(index, sizes: list[int]) -> None:
    """Synthetic growth: vectors mixed from pairs of the bundled passages' vectors, up to each size.

    Mixtures (not copies) spread the synthetic passages over the space real ones occupy, so the
    nearest neighbours of a query are well defined and recall against flat search means something.
    """
    import faiss

    from briefqa.indexing.bm25 import build_bm25
    from briefqa.indexing.vectors import HNSW_EF_SEARCH, VectorIndex

    faiss.omp_set_num_threads(1)
    base = index.vectors.all_vectors()
    texts = [p.text for p in index.passages]  # what was embedded is not kept; the text is close
    rng = np.random.default_rng(0)
    queries = index.embedder.encode(_queries(index)[:200])
    print(
        f"\nFAISS alone, k=10, {len(queries)} queries, 1 thread; HNSW M=32, efConstruction=80. "
        f"The query's encoding (~5 ms) comes on top.\n"
    )
    print("| passages | index | build s | size MB | query p50 ms | query p95 ms | recall@10 vs flat | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        first, second = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
        share = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        vectors = share * base[first] + (1 - share) * base[second]
        vectors += rng.normal(0, 0.01, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        truth: list | None = None
        for kind in ("flat", "hnsw"):
            start = time.perf_counter()
            fi = VectorIndex.build(vectors, kind)._faiss  # FAISS itself: efSearch is varied below
            built = time.perf_counter() - start
            with tempfile.TemporaryDirectory() as tmp:
                faiss.write_index(fi, f"{tmp}/v.faiss")
                size = Path(f"{tmp}/v.faiss").stat().st_size / 1e6
            for ef in [HNSW_EF_SEARCH // 2, HNSW_EF_SEARCH, HNSW_EF_SEARCH * 2] if kind == "hnsw" else [None]:
                if ef is not None:
                    fi.hnsw.efSearch = ef
                latencies, found = [], []
                for q in queries:
                    start = time.perf_counter()
                    _, rows = fi.search(q.reshape(1, -1), 10)
                    latencies.append((time.perf_counter() - start) * 1000)
                    found.append(rows[0])
                if kind == "flat":
                    truth = found
                recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth or found)]))
                p50, p95 = _percentiles(latencies)
                label = kind if ef is None else f"hnsw efSearch={ef}"
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"| {n} | {label} | {built:.2f} | {size:.0f} | {p50:.2f} | {p95:.2f} | {recall:.3f} | {peak:.0f} |"
                )
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            build_bm25([texts[i] for i in first], Path(tmp), [index.passages[i].language for i in first])
            bm25_size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"| {n} | bm25 matrix | {time.perf_counter() - start:.2f} | {bm25_size:.0f} | | | | |")


if __name__ == "__main__":
    main()
