"""What the progress bar reports: a speed that a slow CPU can read, timed without the
start-up, and an ETA from the same clock; into a log file, the same as plain lines."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm


class Throughput:
    """Images per second over a run of steps, timed from the end of the first: the first step
    of every start also pays for loader processes, compiling and caches."""

    def __init__(self) -> None:
        self.steps, self.images, self.since = 0, 0, 0.0

    def add(self, images: int) -> bool:
        """Count a finished step's images; True after the first step, when the clock starts."""
        self.steps += 1
        if self.steps == 1:
            self.since = time.perf_counter()
            return True
        self.images += images
        return False

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.since
        return self.images / elapsed if self.steps > 1 and elapsed > 0 else 0.0

    def postfix(self) -> dict[str, str]:
        """For the progress bar: images per second, or seconds per image when below one."""
        rate = self.rate()
        if not rate:
            return {}
        return {"img/s": f"{rate:.1f}"} if rate >= 1 else {"s/img": f"{1 / rate:.2f}"}


class LogLines:
    """An epoch's progress for a log file (a run under nohup): a line when it starts and every
    ``every`` seconds, with the bar's figures and the latest losses. A bar there is carriage
    returns, which make each epoch one line of thousands of characters that grep and tail
    cannot read. Takes the calls the trainer makes of a tqdm bar."""

    def __init__(self, total: int, initial: int, desc: str, every: float = 60.0, disable: bool = False):
        self.total, self.n, self.desc, self.every, self.disable = total, initial, desc, every, disable
        self.postfix: dict[str, Any] = {}
        self.since, self.since_n = time.perf_counter(), initial
        self.last, self.timed, self.due = self.since, False, False

    def __enter__(self) -> LogLines:
        self._line()
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing: the trainer's epoch line follows."""

    def update(self, n: int = 1) -> None:
        """Count steps; a line is due once a minute has passed, written with the step's figures."""
        self.n += n
        self.due = time.perf_counter() - self.last >= self.every

    def set_postfix(self, values: dict[str, Any], refresh: bool = False) -> None:
        self.postfix = values
        if self.due:
            self._line()

    def restart_clock(self) -> None:
        """Time the rate and the time left from now (the first step paid for the start-up)."""
        self.since, self.since_n, self.timed = time.perf_counter(), self.n, True

    def _line(self) -> None:
        self.last, self.due = time.perf_counter(), False
        if self.disable:
            return
        steps, seconds = self.n - self.since_n, self.last - self.since
        timed = self.timed and steps and seconds  # not from the start-up alone
        left = f", {_clock((self.total - self.n) * seconds / steps)} left" if timed else ""
        figures = "".join(f", {key} {value}" for key, value in self.postfix.items())
        print(f"{self.desc}: {self.n}/{self.total} steps ({100 * self.n // max(self.total, 1)}%){left}{figures}",
              file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def epoch_progress(total: int, initial: int, desc: str, disable: bool) -> tqdm | LogLines:
    """A redrawn bar on a terminal; plain lines into a file or a pipe."""
    if sys.stderr.isatty():
        return tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, mininterval=0.1, disable=disable)
    return LogLines(total, initial, desc, disable=disable)


def restart_clock(bar: tqdm | LogLines) -> None:
    """Time the bar's rate and ETA from now, as if it had started at its current count."""
    if isinstance(bar, LogLines):
        bar.restart_clock()
        return
    done = bar.n
    bar.initial = 0  # reset() redraws the bar at 0: with no rate, rather than a negative one
    bar.reset()
    bar.initial = bar.n = bar.last_print_n = done
    bar.refresh()
