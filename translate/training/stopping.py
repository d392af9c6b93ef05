"""Ctrl-C or SIGTERM during training stops at the next step boundary, where a checkpoint is
whole, rather than wherever the signal lands (between a step's two optimiser updates, say).
SIGTERM is what ``docker stop``, ``systemctl stop`` and cluster schedulers send."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(KeyboardInterrupt):
    """Raised once the run has stopped at a step boundary; its exit code is the shell's for the signal."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


class GracefulStop:
    """While entered, the first SIGINT or SIGTERM only sets ``requested`` (and ``signum``); a
    second one raises KeyboardInterrupt as usual, for whoever will not wait for the step to end.

    Disabled (the signal interrupts at once) when ``enabled`` is False, as in a distributed
    run, whose processes would each see the signal at a different step, and off the main
    thread, where Python cannot install signal handlers.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self.signum = signal.SIGINT
        self._previous: dict[int, object] = {}

    def __enter__(self) -> GracefulStop:
        if self.enabled:
            self._previous = {signum: signal.signal(signum, self._handle) for signum in SIGNALS}
        return self

    def __exit__(self, kind: type | None, value: BaseException | None, traceback: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested, self.signum = True, signum
