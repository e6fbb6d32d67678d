"""With the real packaged model: end to end on the bundled corpus, and ONNX/torch parity."""

import json
import shutil

import pytest

from briefqa.indexing.build import add_to_index, build_index
from briefqa.indexing.embed import ModelError, SentenceTransformerEmbedder
from briefqa.indexing.layout import ONNX_DIR
from briefqa.indexing.onnx_encoder import OnnxEncoder
from briefqa.options import DEFAULT_MODEL, SearchOptions
from briefqa.searching.cite import GOOD_MATCH
from briefqa.searching.index import load_index
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.model
BORDERS = "scio-2023-03-20-customs-safeguard-borders"


@pytest.fixture(scope="session")
def torch_embedder():
    return SentenceTransformerEmbedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, torch_embedder):
    out = tmp_path_factory.mktemp("real") / "index"
    build_index([CORPUS], out, embedder=torch_embedder)
    return out


def test_packaged_model_with_altered_weights_is_refused(torch_embedder, tmp_path, monkeypatch):
    """A copy of the packaged model with one byte of its weights changed: the constructor hashes
    the file and refuses it before loading anything."""
    from briefqa.indexing.embed import model_dir

    original = model_dir(DEFAULT_MODEL)
    copy = tmp_path / "model"
    copy.mkdir()
    for item in original.iterdir():
        if item.name != "model.safetensors":
            (copy / item.name).symlink_to(item)
    weights = bytearray((original / "model.safetensors").read_bytes())
    weights[len(weights) // 2] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(weights))
    monkeypatch.setattr("briefqa.indexing.embed.model_dir", lambda name: copy)
    with pytest.raises(ModelError, match="do not match the expected sha256"):
        SentenceTransformerEmbedder(DEFAULT_MODEL)


def test_known_question_finds_its_passage(real_index):
    index = load_index(real_index)
    results = index.search("What did customs say about exotic pets?", k=3)
    top = results[0]
    assert top.briefing_id == BORDERS and top.speaker in ("Zhao Zenglian", "Yu Jianhua")
    assert "exotic" in top.text.lower()
    # in everyday words, sharing no keyword with the answer, dense retrieval still finds it
    dense = index.search(
        "strange creatures young people keep at home as companions", k=3, options=SearchOptions(mode="dense")
    )
    assert any(r.briefing_id == BORDERS and r.turn_index in (21, 22, 23) for r in dense)
    olympics = index.search("How many Olympic flights did Beijing customs handle?", k=3)
    assert any("196 Olympic-related flights" in r.text for r in olympics)


def test_query_path_uses_onnx(real_index):
    index = load_index(real_index)
    assert (real_index / ONNX_DIR / "model.onnx").exists()
    assert isinstance(index.embedder, OnnxEncoder)


TEXTS = [
    "What did customs say about exotic pets?",
    "how many",
    "Li Kuiwen",
    "The GACC will make due contributions to safeguarding the security of the Chinese capital city. " * 12,
    "Exportaciones de coches eléctricos y baterías de litio",
    "RCEP tariff preferences 2023 ¥1.05 trillion (about $145.3 billion)",
    "",
]


def test_onnx_encoder_matches_sentence_transformers(real_index, torch_embedder):
    onnx = OnnxEncoder(real_index / ONNX_DIR)
    a, b = onnx.encode(TEXTS), torch_embedder.encode(TEXTS)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_onnx_and_torch_give_identical_top10_on_eval_questions(real_index, torch_embedder):
    questions_file = ROOT / "eval" / "questions.jsonl"
    questions = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    assert len(questions) >= 20
    onnx_index, torch_index = load_index(real_index), load_index(real_index)
    torch_index.use_embedder(torch_embedder)
    for q in questions:
        rows_onnx = [row for row, _ in onnx_index.rank(q, 10, SearchOptions(mode="dense"))]
        rows_torch = [row for row, _ in torch_index.rank(q, 10, SearchOptions(mode="dense"))]
        assert rows_onnx == rows_torch, q


def test_add_reuses_the_query_encoder_and_finds_the_new_briefing(real_index, torch_embedder, tmp_path):
    small = tmp_path / "index"
    build_index([CORPUS / "scio-2022-01-14-import-export-2021.txt"], small, embedder=torch_embedder)
    exported = (small / ONNX_DIR / "model.onnx").stat().st_ino
    report = add_to_index([CORPUS / "scio-2024-04-12-imports-exports-q1-2024.txt"], small, embedder=torch_embedder)
    assert report.written and report.added == ["scio-2024-04-12-imports-exports-q1-2024"]
    assert (small / ONNX_DIR / "model.onnx").stat().st_ino == exported  # linked, not exported again
    index = load_index(small)
    assert isinstance(index.embedder, OnnxEncoder)
    top = index.search("first quarter of 2024 imports and exports", k=1)[0]
    assert top.briefing_id == "scio-2024-04-12-imports-exports-q1-2024"


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json", "encoder.json"])
def test_damaged_query_encoder_names_its_file(real_index, tmp_path, name):
    from briefqa.indexing.manifest import IndexLoadError

    copy = tmp_path / "copy"
    shutil.copytree(real_index, copy)
    target = copy / ONNX_DIR / name
    target.write_bytes(bytes((i * 7 + 3) % 256 for i in range(target.stat().st_size)))  # same size
    with pytest.raises(IndexLoadError, match=f"onnx/{name} is damaged. Rebuild it with: briefqa index build"):
        load_index(copy).search("exports", k=1)


def test_text_longer_than_the_model_window_is_cut_not_a_crash(real_index, torch_embedder, tmp_path):
    """A turn whose embedded context (a long question) runs past the model's 512 positions, and a
    question of 3,000 characters: both are cut at the model's window (256 tokens)."""
    long_question = "Why did exports of electric vehicles and batteries grow so fast this year? " * 40
    transcript = tmp_path / "long.txt"
    transcript.write_text(
        f"A briefing on exports\n\nCCTV:\n\n{long_question}\n\nLi Kuiwen:\n\nBecause demand abroad rose.\n"
    )
    out = tmp_path / "index"
    build_index([transcript], out, embedder=torch_embedder)
    results = load_index(out).search("why did exports grow", k=2)
    assert sorted(r.speaker for r in results) == ["CCTV", "Li Kuiwen"]  # both turns indexed and found
    answer = next(r for r in results if r.speaker == "Li Kuiwen")
    assert answer.text == "Because demand abroad rose."
    # the question the answer was embedded with is cut for the model, never in what is cited
    assert answer.question is not None and answer.question.text.split() == long_question.split()
    results = load_index(real_index).search("exotic pets " * 300, k=3)
    assert len(results) == 3
    onnx = OnnxEncoder(real_index / ONNX_DIR)
    cosine = float((onnx.encode([long_question]) * torch_embedder.encode([long_question])).sum())
    assert cosine >= 0.999


def test_confidence_tells_an_answer_from_nothing(real_index):
    index = load_index(real_index)
    pets = index.search("What did customs say about exotic pets?", k=5)
    assert pets.good_match and pets[0].confidence > 2 * GOOD_MATCH
    # about a time after every briefing: what they said before it began is no answer (the example)
    later = index.search("How much did China's foreign trade grow in the first quarter of 2025?", k=5)
    assert not later.good_match and later[0].before_period is True, [(r.passage_id, r.confidence) for r in later]
    for question in ("Who won the 2018 football World Cup?", "How do I make sourdough starter at home?"):
        results = index.search(question, k=5)
        assert not results.good_match, [(r.passage_id, r.confidence) for r in results]
    # inside one briefing, a question the corpus answers but nothing there does: the chair's
    # turns that say nothing ('The last two questions.', the closing thanks) are no match
    chair = index.search(
        "import and export growth",
        k=4,
        options=SearchOptions(filters={"briefing": BORDERS, "role": "chair"}),
    )
    said = {r.turn_index: r for r in chair}
    assert sorted(said) == [1, 3, 24, 30] and said[24].text == "The last two questions."
    assert not chair.good_match and said[24].confidence < GOOD_MATCH and said[30].confidence < GOOD_MATCH, {
        turn: r.confidence for turn, r in said.items()
    }


def test_the_build_embeds_with_the_fused_export_and_its_vectors_are_torchs(real_index, torch_embedder):
    import onnx

    ops = {node.op_type for node in onnx.load(str(real_index / ONNX_DIR / "model.onnx")).graph.node}
    assert {"Attention", "SkipLayerNormalization", "EmbedLayerNormalization"} <= ops  # fused
    # the torch model is left with the attention it had (the export switched it to eager)
    assert torch_embedder.model[0].auto_model.config._attn_implementation != "eager"
    index = load_index(real_index)
    texts = [p.text for p in index.passages]  # unit vectors of the passages as built...
    built = index.vectors.vectors(list(range(len(texts))))
    from briefqa.options import ChunkSettings
    from briefqa.reading.corpus import load_corpus
    from briefqa.reading.passages import chunk_briefings

    passages = chunk_briefings(load_corpus([CORPUS]).briefings, ChunkSettings(), torch_embedder.count_tokens)
    assert [p.text for p in passages] == texts
    reference = torch_embedder.encode([p.embedded_text for p in passages])  # ...and as torch embeds them
    cosines = (built * reference).sum(axis=1)
    assert cosines.min() >= 0.9995, cosines.min()  # fp16 storage rounds at about 1e-4


def test_a_build_stopped_while_onnx_embeds_loses_nothing(real_index, torch_embedder, tmp_path, monkeypatch):
    import briefqa.indexing.build
    from briefqa.indexing.onnx_encoder import OnnxEncoder

    out = tmp_path / "index"
    shutil.copytree(real_index, out)
    before = load_index(out).search("exotic pets", k=3)
    extra = tmp_path / "more"
    extra.mkdir()
    fixture = ROOT / "tests" / "fixtures" / "scio" / "scio-2025-02-10-port-security.txt"
    shutil.copy(fixture, extra / fixture.name)
    monkeypatch.setattr(briefqa.indexing.build, "BATCH", 4)
    monkeypatch.setattr(briefqa.indexing.build.LocalRunner, "export_min", 1)  # embed the new passages with the export
    calls = []
    real_encode = OnnxEncoder.encode

    def encode_then_stop(self, texts, *args, **kwargs):
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if stopped after one saved batch
        return real_encode(self, texts, *args, **kwargs)

    monkeypatch.setattr(OnnxEncoder, "encode", encode_then_stop)
    with pytest.raises(KeyboardInterrupt):
        build_index([CORPUS, extra], out, embedder=torch_embedder)
    assert calls[0] == 4
    # the index that was there answers as before
    assert [r.passage_id for r in load_index(out).search("exotic pets", k=3)] == [r.passage_id for r in before]
    monkeypatch.setattr(OnnxEncoder, "encode", real_encode)
    report = build_index([CORPUS, extra], out, embedder=torch_embedder)
    new = report.passages - len(load_index(real_index).passages)
    assert report.embedded == new - 4  # the batch saved before the stop is not embedded again
    assert not list(tmp_path.glob(".index.tmp-*"))  # the stopped build's export is gone
    assert load_index(out).search("smart port Tianjin", k=1)[0].briefing_id == fixture.stem


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_device_cuda_on_a_machine_without_one_says_what_to_install_and_writes_nothing(tmp_path):
    """The tested default is the CPU; asking for a GPU that torch cannot reach is a clear error."""
    if _has_cuda():
        pytest.skip("this machine's torch reaches a GPU: the error is for machines without one")
    from typer.testing import CliRunner

    from briefqa.cli import app

    out = tmp_path / "index"
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(CORPUS / f"{BORDERS}.txt", one)
    result = CliRunner().invoke(app, ["index", "build", str(one), "--out", str(out), "--device", "cuda"])
    assert result.exit_code == 1, result.output
    assert "--device cuda needs PyTorch built with CUDA" in result.output and "Traceback" not in result.output
    assert not (out / "manifest.json").exists()


@pytest.mark.skipif(not _has_cuda(), reason="needs a CUDA GPU that torch reaches (none here)")
def test_a_build_on_the_gpu_writes_the_cpu_build_s_index(real_index, torch_embedder, tmp_path):
    """Same passages, vectors equal to float tolerance, same answers."""
    import numpy as np

    from briefqa.indexing.build import LocalRunner

    out = tmp_path / "index"
    build_index([CORPUS], out, embedder=SentenceTransformerEmbedder(DEFAULT_MODEL), runner=LocalRunner("cuda"))
    cpu, gpu = load_index(real_index), load_index(out)
    assert [p.id for p in gpu.passages] == [p.id for p in cpu.passages]
    rows = list(range(len(cpu.passages)))
    np.testing.assert_allclose(gpu.vectors.vectors(rows), cpu.vectors.vectors(rows), atol=2e-3)
    question = "What did customs say about exotic pets?"
    assert [r.passage_id for r in gpu.search(question, k=5)] == [r.passage_id for r in cpu.search(question, k=5)]
