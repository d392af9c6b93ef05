"""Timing that benchmarks share: loops run in turn, iteration by iteration, so that a busy
machine slows them alike, and each gets the median of its timed iterations."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def timed(fn: Callable[[], object], device: torch.device, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds ``fn()`` takes by ``clock`` (wall time; ``time.process_time`` for the CPU time
    of all this process's threads), waiting for CUDA's queued work before and after."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    began = clock()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return clock() - began


def alternating_medians(
    loops: dict[str, Callable[[int], object]], warmup: int, iters: int, device: torch.device,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each loop (called with the iteration's index) by ``clock``,
    the loops taking turns for ``warmup`` untimed and then ``iters`` timed iterations."""
    times: dict[str, list[float]] = {name: [] for name in loops}
    for i in range(warmup + iters):
        for name, loop in loops.items():
            seconds = timed(lambda loop=loop, i=i: loop(i), device, clock)
            if i >= warmup:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}
