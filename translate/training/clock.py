"""How long a run has trained, over its whole life: its checkpoints carry the count, so a run
stopped and resumed over several sessions still knows its hours. Comparing recipes "for the
same CPU time" (``--max-cpu-hours``; ``--max-hours`` is wall clock, pauses included) and a model
card's CPU-hours come from here, not from estimates. CPU time is the training process's own
(its threads): child processes (data-loader workers, ``torch.compile``'s compiler runs) are not
counted, nor is scoring."""

from __future__ import annotations

import math
import time
from typing import Any


class RunClock:
    """Wall-clock seconds spent training (steps, data loading, checkpoints; not the scoring),
    and the CPU seconds this process used meanwhile (all its threads; not the data-loader
    processes). ``from_step``: the step the count began at, 0 unless the run was resumed from
    a checkpoint written before runs were timed.

    The figures read (``hours``, ``cpu_hours``, ``record``, ``state``) are those of the last
    ``lap``, which the trainer takes as each step ends: the limits are judged on, and the
    metrics and checkpoint of that step record, one and the same count. What runs after a lap
    (a checkpoint's writing) is counted at the next one."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.from_step = 0
        self._mark: tuple[float, float] | None = None

    def start(self) -> None:
        self._mark = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        self.lap()
        self._mark = None

    def hours(self) -> float:
        """Hours trained up to the last lap."""
        return self.seconds / 3600

    def cpu_hours(self) -> float:
        """CPU hours this process had used training up to the last lap."""
        return self.cpu_seconds / 3600

    def lap(self) -> None:
        """Add the time since the last lap (or start) to the count: a step has ended."""
        if self._mark is not None:
            now = (time.perf_counter(), time.process_time())
            self.seconds += now[0] - self._mark[0]
            self.cpu_seconds += now[1] - self._mark[1]
            self._mark = now

    def record(self) -> dict[str, float | int]:
        """The figures for metrics.jsonl."""
        return {"train_hours": round(self.seconds / 3600, 6), "cpu_hours": round(self.cpu_seconds / 3600, 6),
                "clock_from_step": self.from_step}  # to 6 decimals: 3.6 ms, so a few fast steps are not 0

    def state(self) -> dict[str, float | int]:
        """For the checkpoint."""
        return {"train_seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "clock_from_step": self.from_step}

    def load(self, state: dict[str, Any], step: int) -> None:
        """Go on from a checkpoint's count; one written before runs were timed starts it at ``step``."""
        if "train_seconds" not in state:
            self.seconds, self.cpu_seconds, self.from_step = 0.0, 0.0, step
            return
        self.seconds, self.cpu_seconds = float(state["train_seconds"]), float(state["cpu_seconds"])
        self.from_step = int(state["clock_from_step"])
        if not (0 <= self.seconds < math.inf and 0 <= self.cpu_seconds < math.inf and self.from_step >= 0):
            raise ValueError(f"a training time of {self.seconds} s ({self.cpu_seconds} CPU s) from step "
                             f"{self.from_step}")
