"""A full disk, as a test can make one: a child process that may write files of a few bytes only."""

from __future__ import annotations

import resource
import signal
from collections.abc import Callable


def file_size_limit(max_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` for subprocess: the child may write files of ``max_bytes`` at most, and a
    larger write fails with EFBIG (as a full disk fails it with ENOSPC) instead of a SIGXFSZ kill."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit
