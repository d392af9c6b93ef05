"""What a run writes besides its checkpoints, on rank 0 only: ``metrics.jsonl`` (one JSON
object a line), TensorBoard scalars and sample grids; and, when it starts, the removal of
what a killed run of its own left half written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from translate.io.fileio import atomic_write, remove_temporaries, write_image
from translate.modeling.pixels import grid_image
from translate.training.checkpoint import checkpoint_root
from translate.training.run_folder import METRICS_FILE


class RunRecords:
    """The records of the run in ``run_dir``; every method does nothing where ``enabled`` is
    False (the other ranks of a distributed run)."""

    def __init__(self, run_dir: Path, enabled: bool):
        self.run_dir, self.enabled = run_dir, enabled
        self.writer = None

    def open(self, step: int) -> None:
        """Clear a killed run's temporaries and start TensorBoard at ``step`` (later events are dropped)."""
        if not self.enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.run_dir, checkpoint_root(self.run_dir), self.run_dir / "samples"):
            remove_temporaries(folder)
        self.writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=step or None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def metrics(self, record: dict[str, Any]) -> None:
        """Append ``record`` to metrics.jsonl (the file is replaced whole, never left half written)."""
        if not self.enabled:
            return
        path = self.run_dir / METRICS_FILE
        previous = path.read_text() if path.exists() else ""
        atomic_write(path, lambda tmp: tmp.write_text(previous + json.dumps(record) + "\n"))

    def grid(self, name: str, images: torch.Tensor, nrow: int) -> None:
        if self.enabled:
            write_image(self.run_dir / "samples" / f"{name}.png", grid_image(images, nrow))
