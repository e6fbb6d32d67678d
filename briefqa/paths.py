"""Where briefqa looks for things by default."""

from __future__ import annotations

import os
from pathlib import Path

# A checkout (or editable install) keeps corpus/ and index/ beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_dir(env: str, name: str) -> Path:
    """$ENV if set, else ./NAME when the working directory has it, else the checkout's NAME."""
    if os.environ.get(env):
        return Path(os.environ[env])
    local = Path.cwd() / name
    if local.exists() or not (PROJECT_ROOT / name).exists():
        return Path(name)
    return PROJECT_ROOT / name


def default_corpus_dir() -> Path:
    return _default_dir("BRIEFQA_CORPUS", "corpus")


def default_index_dir() -> Path:
    return _default_dir("BRIEFQA_INDEX", "index")
