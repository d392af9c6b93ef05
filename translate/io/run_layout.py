"""What a training run folder holds, by name, and the refusal to write among those files:
what ``sample``, ``apply``, ``export`` and ``pack`` need to know about runs without training.
Torch-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from translate.errors import ConfigError

LOCK_NAME = ".translate-lock"
MARKER_NAME = ".translate-run"
# What a run writes at the top of its folder; in a reused folder none may be there already.
METRICS_FILE = "metrics.jsonl"  # one JSON line per start, epoch (or stop within one) and scoring
CHECKPOINTS, SAMPLES, TENSORBOARD, BEST = "checkpoints", "samples", "tensorboard", "best"
RUN_ENTRIES = (CHECKPOINTS, SAMPLES, TENSORBOARD, METRICS_FILE, BEST)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` (none where there is no such file)."""
    return parse_metrics(path.read_bytes()) if path.is_file() else []


def parse_metrics(content: bytes) -> list[dict[str, Any]]:
    """The records in the bytes of a ``metrics.jsonl``. A line cut short by a kill is passed
    over: it is no reason to lose what the others say."""
    records = []
    for line in content.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # a line cut short, or nested thousands deep
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a training run (runs from before the marker have checkpoints/)."""
    return any((folder / name).exists() for name in (MARKER_NAME, LOCK_NAME)) or (folder / CHECKPOINTS).is_dir()


def enclosing_run(path: Path) -> Path | None:
    """The run folder that ``path`` is or lies in (links resolved), the nearest if runs nest."""
    resolved = path.resolve()
    return next((folder for folder in (resolved, *resolved.parents) if is_run_folder(folder)), None)


def refuse_run_files(path: Path, flag: str) -> None:
    """ConfigError when writing ``path`` would put a file among what a run folder keeps (its
    checkpoints and ``latest``, metrics.jsonl, best/, samples, TensorBoard, marker and lock):
    the outputs of sample, apply, export and pack never replace a run's own files."""
    resolved = path.resolve()
    run = enclosing_run(resolved.parent)
    if run is not None:
        entry = resolved.relative_to(run).parts[0]
        if entry in (*RUN_ENTRIES, LOCK_NAME, MARKER_NAME):
            raise ConfigError(f"{flag} {path} would write into {run / entry}, which belongs to the training run "
                              f"{run}: choose a path outside it")
