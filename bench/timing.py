"""Timing that benchmarks share: loops run in turn, iteration by iteration, so that a busy
machine slows them alike, and each gets the median of its timed iterations (and, for the
tables that show it, their range: how far one iteration strayed)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Timed:
    """A loop's timed iterations, in seconds: their median, and the fastest and slowest one."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timed:
        return cls(statistics.median(seconds), min(seconds), max(seconds))

    def range(self) -> str:
        """The fastest to the slowest iteration, as a table shows it: ``0.612–0.655``."""
        return f"{self.low:.3f}–{self.high:.3f}"


def alternating_medians(
    loops: dict[str, Callable[[int], object]], warmup: int, iters: int, device: torch.device,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each loop (called with the iteration's index) by ``clock``,
    the loops taking turns for ``warmup`` untimed and then ``iters`` timed iterations."""
    return alternating_medians_by_clock(loops, warmup, iters, device, {"": clock})[""]


def alternating_medians_by_clock(
    loops: dict[str, Callable[[int], object]], warmup: int, iters: int, device: torch.device,
    clocks: dict[str, Callable[[], float]],
) -> dict[str, dict[str, float]]:
    """As :func:`alternating_medians`, each call timed by every clock at once (e.g. wall and
    CPU time of the same steps): {clock name: {loop name: median seconds}}."""
    timed = alternating_timings_by_clock(loops, warmup, iters, device, clocks)
    return {c: {name: t.median for name, t in by_loop.items()} for c, by_loop in timed.items()}


def alternating_timings_by_clock(
    loops: dict[str, Callable[[int], object]], warmup: int, iters: int, device: torch.device,
    clocks: dict[str, Callable[[], float]],
) -> dict[str, dict[str, Timed]]:
    """As :func:`alternating_medians_by_clock`, with each loop's range beside its median. The
    order of the turns rotates from one iteration to the next, so that no loop always goes
    first (after another's allocations, or into a cache another has just warmed)."""
    times: dict[str, dict[str, list[float]]] = {c: {name: [] for name in loops} for c in clocks}
    names = list(loops)
    for i in range(warmup + iters):
        for name in names[i % len(names):] + names[: i % len(names)]:
            loop = loops[name]
            if device.type == "cuda":
                torch.cuda.synchronize()
            began = {c: clock() for c, clock in clocks.items()}
            loop(i)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                for c, clock in clocks.items():
                    times[c][name].append(clock() - began[c])
    return {c: {name: Timed.of(values) for name, values in by_loop.items()} for c, by_loop in times.items()}
