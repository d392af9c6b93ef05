"""What a run writes besides its checkpoints, on rank 0 only: ``metrics.jsonl`` (one JSON
object a line), TensorBoard scalars and sample grids; and, when it starts, the removal of
what a killed run of its own left half written."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from translate.io.fileio import atomic_write, open_regular, remove_temporaries, write_failure, write_image
from translate.io.run_layout import METRICS_FILE, SAMPLES, TENSORBOARD, parse_metrics
from translate.modeling.checkpoint import checkpoint_root
from translate.modeling.pixels import grid_image


class RunRecords:
    """The records of the run in ``run_dir``; every method does nothing where ``enabled`` is
    False (the other ranks of a distributed run)."""

    def __init__(self, run_dir: Path, enabled: bool):
        self.run_dir, self.enabled = run_dir, enabled
        self.writer = None
        self._excepthook: ThreadHook = threading.excepthook  # put back on close
        self._quiet_hook: ThreadHook | None = None

    def open(self, step: int) -> None:
        """Clear a killed run's temporaries, and drop what was recorded after the checkpoint of
        ``step`` that the run goes on from: TensorBoard's later events, and metrics.jsonl's
        lines of later steps (an epoch's line is written just before its checkpoint: a save that
        failed would otherwise leave a line that the steps trained again write a second time)."""
        if not self.enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.run_dir, checkpoint_root(self.run_dir), self.run_dir / SAMPLES):
            remove_temporaries(folder)
        lines = self._read_metrics().splitlines(keepends=True)  # a FIFO or a link there fails now, not later
        kept = [line for line in lines if not _after(line, step)]
        if len(kept) < len(lines):
            atomic_write(self.run_dir / METRICS_FILE, lambda tmp: tmp.write_text("".join(kept)))
        # A killed run's events after its checkpoint are dropped; those at the checkpoint's own step
        # (written before it was saved, and not written again) stay.
        # Its writer thread (started by the constructor) fails first, printing a traceback; our next
        # call raises the same error in one line.
        self._excepthook = threading.excepthook
        self._quiet_hook = threading.excepthook = _quiet_writer_thread(self._excepthook)
        try:
            with self._tensorboard_writes():
                self.writer = SummaryWriter(str(self.run_dir / TENSORBOARD), purge_step=step + 1 if step else None)
        except BaseException:
            self._put_back_hook()
            raise

    def _put_back_hook(self) -> None:
        """The thread hook as it was, unless something installed another since."""
        if threading.excepthook is self._quiet_hook:
            threading.excepthook = self._excepthook

    @contextlib.contextmanager
    def _tensorboard_writes(self) -> Iterator[None]:
        """TensorBoard's own write errors (a full disk) as our one-line error, not its traceback."""
        try:
            yield
        except OSError as exc:
            raise write_failure(self.run_dir / TENSORBOARD, exc) from exc

    def close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            try:
                with self._tensorboard_writes():
                    writer.close()
            finally:
                self._put_back_hook()

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        if self.writer is not None:
            with self._tensorboard_writes():
                for key, value in values.items():
                    self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def metrics(self, record: dict[str, Any]) -> None:
        """Append ``record`` to metrics.jsonl (the file is replaced whole, never left half written)."""
        if not self.enabled:
            return
        previous = self._read_metrics()
        atomic_write(self.run_dir / METRICS_FILE, lambda tmp: tmp.write_text(previous + json.dumps(record) + "\n"))

    def scored(self, epoch: int) -> bool:
        """Whether metrics.jsonl holds the scores taken after ``epoch`` (False on other ranks)."""
        records = parse_metrics(self._read_metrics().encode()) if self.enabled else []
        return any("eval" in record and record.get("epoch") == epoch for record in records)

    def _read_metrics(self) -> str:
        """metrics.jsonl as the run wrote it ("" before its first record). Only a regular file is
        read: a FIFO there would block the run forever (SIGTERM included), a link read elsewhere."""
        try:
            with open_regular(self.run_dir / METRICS_FILE, "remove it, or put back the run's own metrics.jsonl",
                              follow_links=False) as file:
                return file.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def grid(self, name: str, images: torch.Tensor, nrow: int) -> None:
        if self.enabled:
            write_image(self.run_dir / SAMPLES / f"{name}.png", grid_image(images, nrow))


def start_record(command: str, step: int, processes: int = 1) -> dict[str, Any]:
    """What metrics.jsonl keeps of a start (the first or a ``--resume``, from ``step``): its
    command line as given (``processes`` > 1 under torchrun), the toolkit's
    commit where it runs from a git checkout, and the time, so that a model card can say how
    its weights were trained, stop by stop."""
    return {"command": command, "from_step": step, "processes": processes,
            "commit": source_commit(), "time": datetime.now(UTC).isoformat(timespec="seconds")}


def source_commit() -> str | None:
    """The toolkit's git commit, with ``+changes`` where tracked files differ from it; None
    outside a git checkout (an installed wheel) or without git."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "-s", "-uno"], capture_output=True, text=True,
                                 timeout=10, check=True,  # tracked files only, without taking the index lock
                                 env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head[:12] + ("+changes" if changed else "")


def _after(line: str, step: int) -> bool:
    """Whether a metrics.jsonl line records a step after ``step`` (a line that does not parse
    is kept, as the run wrote it)."""
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] > step


ThreadHook = Callable[[threading.ExceptHookArgs], Any]


def _quiet_writer_thread(previous: ThreadHook) -> ThreadHook:
    """``previous`` but for an OSError in TensorBoard's writer thread, which the run reports itself."""

    def hook(args: threading.ExceptHookArgs) -> Any:
        if not (isinstance(args.exc_value, OSError) and type(args.thread).__name__ == "_AsyncWriterThread"):
            return previous(args)
        return None

    return hook
