"""Ctrl-C during training stops at the next step boundary, where a checkpoint is whole,
rather than wherever the interrupt lands (between a step's two optimiser updates, say)."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType


class GracefulStop:
    """While entered, the first SIGINT only sets ``requested``; a second one raises
    KeyboardInterrupt as usual, for whoever will not wait for the step to end.

    Disabled (Ctrl-C interrupts at once) when ``enabled`` is False, as in a distributed
    run, whose processes would each see the signal at a different step, and off the main
    thread, where Python cannot install signal handlers.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous = None

    def __enter__(self) -> GracefulStop:
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind: type | None, value: BaseException | None, traceback: TracebackType | None) -> None:
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
