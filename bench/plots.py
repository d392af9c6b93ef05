"""The benchmarks' plots are an extra: matplotlib comes with ``pip install -e ".[bench]"``,
which CI and ``make setup`` leave out. Without it a benchmark still prints and saves its
table, and says which plot it left out and how to get it, rather than ending in a traceback
after the measuring is done."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def new_figure(path: Path, **options: Any) -> Any | None:
    """A matplotlib ``Figure(**options)`` (the object API: a file, no display backend) for the
    plot to be saved at ``path``, or None, with a note on stderr, where matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"note: {path} not drawn: the plots need matplotlib (pip install -e '.[bench]')", file=sys.stderr)
        return None
    return Figure(**options)
