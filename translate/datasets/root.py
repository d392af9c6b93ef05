"""Where the datasets are: one rule for every command."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_data_root(path: str | os.PathLike | None = None) -> Path:
    """The data folder: the given path, else $TRANSLATE_DATA, else ./data."""
    return Path(path or os.environ.get("TRANSLATE_DATA") or "data")
