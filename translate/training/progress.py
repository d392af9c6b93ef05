"""What the progress bar reports: a speed that a slow CPU can read, timed without the
start-up, and an ETA from the same clock."""

from __future__ import annotations

import time

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


def restart_clock(bar: tqdm) -> None:
    """Time the bar's rate and ETA from now, as if it had started at its current count."""
    done = bar.n
    bar.initial = 0  # reset() redraws the bar at 0: with no rate, rather than a negative one
    bar.reset()
    bar.initial = bar.n = bar.last_print_n = done
    bar.refresh()
