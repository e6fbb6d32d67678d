"""The model's ONNX export: the encoder that embeds a build's passages and every query.

Importing torch costs seconds; a query needs only a forward pass of milliseconds. So a build
exports the model (pooling and normalisation included) to ONNX in the index directory, and
queries are encoded with ONNX Runtime and the model's own tokenizer. The build embeds its
passages with the same export: with BERT's attention, layer norms and GELU fused by ONNX
Runtime's transformer optimizer it ran 2.3x the bare sentence-transformers encode on 1,500
archive passages, with cosine >= 0.9999999 to torch's vectors (fp32 throughout); on a whole
build's mix of passages and sentences, 1.99x (docs/performance.md).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from briefqa.indexing.embed import ModelError, Progress, SentenceTransformerEmbedder

ONNX_MODEL = "model.onnx"
ONNX_TOKENIZER = "tokenizer.json"
ONNX_CONFIG = "encoder.json"
# Two threads for one query, not spinning while idle. On this 2-core machine (eval questions,
# median encode): 1 thread 8.1 ms; 2 spinning threads 5.0 ms idle but 12.5 ms with the other core
# busy; 2 threads without spinning 6.2-7.2 ms idle and 6.9 ms busy. Beyond 2, a ~30-token
# query has little left to split.
QUERY_THREADS = min(2, os.cpu_count() or 1)


def _onnx_exportable(model) -> str | None:
    """The pooling mode when the model is Transformer + Pooling (mean or cls) [+ Normalize]."""
    modules = [type(m).__name__ for m in model]
    if modules[:2] != ["Transformer", "Pooling"] or modules[2:] not in ([], ["Normalize"]):
        return None
    config = model[1].get_config_dict()
    pooling = config.get("pooling_mode")
    if pooling is None:  # sentence-transformers < 6 keeps one flag per mode
        pooling = next(
            (
                m
                for m in ("mean", "cls")
                if config.get(f"pooling_mode_{m}_tokens" if m == "mean" else f"pooling_mode_{m}_token")
            ),
            None,
        )
    return pooling if pooling in ("mean", "cls") else None


def _fuse(path: Path, config) -> None:
    """Fuse a BERT export's attention, layer norms and GELU (ONNX Runtime's transformer
    optimizer), in place; the export stays as it is for other model types or if fusing fails."""
    if getattr(config, "model_type", None) != "bert":
        return
    import logging

    try:
        from onnxruntime.transformers import optimizer
        from onnxruntime.transformers.fusion_options import FusionOptions

        logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
        fused = optimizer.optimize_model(
            str(path),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            optimization_options=FusionOptions("bert"),
            opt_level=1,
            use_gpu=False,
        )
        fused.save_model_to_file(str(path))
    except Exception as err:  # the unfused export is correct, only slower
        logging.getLogger(__name__).warning("ONNX fusion skipped (%s); the export is used unfused", err)


def export_onnx(embedder: SentenceTransformerEmbedder, directory: Path, fuse: bool = True) -> bool:
    """Write the query encoder into ``directory``; False when the model's layout is not supported
    (queries then fall back to sentence-transformers)."""
    import json
    import warnings

    import torch

    pooling = _onnx_exportable(embedder.model)
    tokenizer_file = getattr(embedder.model.tokenizer, "backend_tokenizer", None)
    if pooling is None or tokenizer_file is None:
        return False
    transformer = embedder.model[0].auto_model.eval()  # type: ignore[union-attr]
    # Exported with eager attention: the fuser recognises BERT attention written as Add(mask),
    # Softmax, MatMul, not the SDPA form (scaled Q and K, Where on a boolean mask).
    attention = getattr(transformer.config, "_attn_implementation", None)
    if fuse and attention not in (None, "eager") and hasattr(transformer, "set_attn_implementation"):
        transformer.set_attn_implementation("eager")  # type: ignore[operator]

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    directory.mkdir(parents=True, exist_ok=True)
    dummy = torch.ones(2, 8, dtype=torch.long)
    inputs = ["input_ids", "attention_mask", "token_type_ids"]
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder(),
                (dummy, dummy, torch.zeros_like(dummy)),
                str(directory / ONNX_MODEL),
                input_names=inputs,
                output_names=["sentence_embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in inputs}, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
    finally:
        if attention is not None and getattr(transformer.config, "_attn_implementation", None) != attention:
            transformer.set_attn_implementation(attention)  # type: ignore[operator]  # torch goes on as it was
    if fuse:
        _fuse(directory / ONNX_MODEL, transformer.config)
    tokenizer_file.save(str(directory / ONNX_TOKENIZER))
    config = {
        "name": embedder.name,
        "dimension": embedder.dimension,
        "max_seq_length": embedder.model.max_seq_length,
        "pooling": pooling,
    }
    (directory / ONNX_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    return True


_ONNX_INPUTS = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}


def _padded(encodings: list, field: str) -> np.ndarray:
    """One field of a batch of tokenizer encodings, zero-padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    return np.array([getattr(e, field) + [0] * (width - len(e.ids)) for e in encodings], dtype=np.int64)


class QueryEncoderError(ModelError):
    """A file of an index's query encoder cannot be read."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"{name} of the query encoder is damaged")


class _EncoderConfig(BaseModel):
    name: str
    dimension: int = Field(ge=1)
    # BERT-style models have 512 positions; a longer input crashes the model instead of being cut.
    max_seq_length: int = Field(ge=1, le=512)
    pooling: Literal["mean", "cls"]


class OnnxEncoder:
    """Encodes with the ONNX export of a model: no torch, no sentence-transformers."""

    sha256: str | None = None
    window: int | None

    def __init__(self, directory: Path, threads: int = QUERY_THREADS, workers: int = 1):
        """``threads``: ONNX Runtime's threads within one batch (a query is one batch);
        ``workers``: batches run at once, each on ``threads`` threads (a build's many batches)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            config = _EncoderConfig.model_validate_json((directory / ONNX_CONFIG).read_bytes())
        except (OSError, ValueError):
            raise QueryEncoderError(ONNX_CONFIG) from None
        self.name, self.dimension, self.window = config.name, config.dimension, config.max_seq_length
        try:
            self.tokenizer = Tokenizer.from_file(str(directory / ONNX_TOKENIZER))
        except Exception:  # tokenizers raises a bare Exception for a file it cannot read
            raise QueryEncoderError(ONNX_TOKENIZER) from None
        self.tokenizer.enable_truncation(config.max_seq_length)
        self.tokenizer.no_padding()
        self.workers = workers
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(directory / ONNX_MODEL), options, providers=["CPUExecutionProvider"]
            )
        except Exception:  # onnxruntime's Fail / InvalidProtobuf / NoSuchFile
            raise QueryEncoderError(ONNX_MODEL) from None

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def export_query_encoder(self, directory: Path) -> bool:
        return False  # it is itself the export

    def encode(self, texts: list[str], batch_size: int = 16, progress: Progress | None = None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        everything = self.tokenizer.encode_batch(texts)
        # Batches of equal token counts: no padding to compute (sorting by characters left some).
        order = sorted(range(len(texts)), key=lambda i: len(everything[i].ids))
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> list[int]:
            encodings = [everything[i] for i in rows]
            feed = {name: _padded(encodings, field) for name, field in _ONNX_INPUTS.items()}
            vectors[rows] = self.session.run(None, feed)[0]
            return rows

        done = 0
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None  # ONNX Runtime lets go of the GIL
        try:
            for rows in pool.map(run, batches) if pool else map(run, batches):
                done += len(rows)
                if progress:
                    progress(done, len(texts))
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
        return vectors
