"""Where briefqa looks for things by default."""

from __future__ import annotations

import os
from pathlib import Path

# A checkout (or editable install) keeps corpus/ and index/ beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_home() -> Path:
    """Where the default corpus/ and index/ are, together: the working directory when it has
    either, else the checkout (or editable install) when it has corpus/, else the working
    directory. Together, so that a corpus in one place is never indexed into another's index/."""
    cwd = Path.cwd()
    if (cwd / "corpus").exists() or (cwd / "index").exists() or not (PROJECT_ROOT / "corpus").exists():
        return Path(".")
    return PROJECT_ROOT


def default_corpus_dir() -> Path:
    """$BRIEFQA_CORPUS if set, else corpus/ in ``default_home``."""
    return Path(os.environ.get("BRIEFQA_CORPUS") or default_home() / "corpus")


def default_index_dir() -> Path:
    """$BRIEFQA_INDEX if set, else index/ in ``default_home``."""
    return Path(os.environ.get("BRIEFQA_INDEX") or default_home() / "index")
