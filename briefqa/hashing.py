"""The sha256 digests briefqa records and compares: of a text (UTF-8) and of a file's bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """Read in blocks of 1 MiB: model weights are 90 MB."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
