"""How a long pass over images (scoring, translating a folder) says what it is doing and how
far it is: a redrawn bar on a terminal; elsewhere (a log file, CI) plain lines, at the start,
every so often and at the end, because a bar redrawn with carriage returns reads as one
endless line in a file and says nothing until it is flushed. Torch-free (tqdm is a
dependency of the base install).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol

from tqdm import tqdm

DEFAULT_EVERY = 30.0  # seconds between lines off a terminal (a pass of minutes; a training epoch's are a minute apart)


class Tracker(Protocol):
    """What a pass reports to: ``update(images done since the last call)``, and ``note`` for a
    message of its own (a skipped file), which a bar keeps from breaking into."""

    def update(self, n: int = 1) -> object:
        """``n`` more images done."""

    def note(self, message: str) -> object:
        """Print ``message`` without breaking the bar."""


@dataclass(frozen=True)
class Progress:
    """``bar`` (a terminal), ``lines`` every ``every`` seconds (a log file), or ``off``."""

    mode: str = "off"
    every: float = DEFAULT_EVERY

    @classmethod
    def for_stderr(cls, every: float = DEFAULT_EVERY) -> Progress:
        """A bar if stderr is a terminal, else lines."""
        return cls("bar" if sys.stderr.isatty() else "lines", every)

    def track(self, what: str, total: int | None = None, unit: str = "images") -> ProgressBar | ProgressLines:
        """A context manager to ``update`` while ``what`` is done to ``total`` of ``unit``
        (``images``, ``photos``..., or ``bytes``, shown in MB; None: a total not known)."""
        if self.mode == "lines":
            return ProgressLines(what, total, self.every, unit)
        in_bytes = unit == "bytes"
        return ProgressBar(total=total, desc=what, unit="B" if in_bytes else f" {unit}", unit_scale=in_bytes,
                           file=sys.stderr, disable=self.mode != "bar", dynamic_ncols=True)


QUIET = Progress()


class ProgressBar(tqdm):
    """tqdm's bar, with ``note`` printing a line above it on stderr (``tqdm.write`` keeps the bar whole)."""

    def note(self, message: str) -> None:
        tqdm.write(message, file=sys.stderr)


class ProgressLines:
    """Lines on stderr: ``what: i/n images (p%), s elapsed`` (or ``12.5/116.0 MB``) when it
    starts, when ``every`` seconds have passed since the last line, and when it ends."""

    def __init__(self, what: str, total: int | None, every: float, unit: str = "images"):
        self.what, self.total, self.every, self.unit = what, total, every, unit
        self.done = 0
        self.start = self.last = time.perf_counter()

    def __enter__(self) -> ProgressLines:
        if self.total:  # a pass of unknown length (a folder's images, read as it goes) waits for news
            self._line()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None and (self.total or self.done):  # an empty pass ends in its caller's error alone
            self._line("done" if not self.total or self.done >= self.total else "")  # short of it: the caller says why

    def note(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.done != self.total and time.perf_counter() - self.last >= self.every:  # the end has its own line
            self._line()

    def _line(self, state: str = "") -> None:
        self.last = time.perf_counter()
        amount = (lambda n: f"{n / 1e6:.1f}") if self.unit == "bytes" else str
        unit = "MB" if self.unit == "bytes" else self.unit
        count = f"{amount(self.done)} {unit}"
        if self.total is not None:
            count = f"{amount(self.done)}/{amount(self.total)} {unit} ({100 * self.done // max(self.total, 1)}%)"
        ending = f", {state}" if state else ""
        print(f"{self.what}: {count}, {self.last - self.start:.0f} s{ending}", file=sys.stderr, flush=True)
