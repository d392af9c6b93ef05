"""A run folder belongs to one training process at a time, and to translate alone.

- :class:`RunLock` holds an exclusive ``flock`` on ``RUN/.translate-lock`` for the life of a
  run: a second ``train`` (or a ``--resume``) on the same folder gets a one-line error
  naming the holder's PID. The kernel releases the lock when its process dies, however it
  dies, so a killed run never blocks the next one. The lock is the training process's
  alone: a forked child (a data-loader worker) closes its copy at once, since a flock
  belongs to the open file, and orphaned workers would otherwise hold a killed run's lock
  for seconds, under the PID of a process that no longer exists.
- :func:`claim_for_new_run` lets a new run start only in a folder that is absent, empty, or
  already marked as one of translate's runs (``RUN/.translate-run``); a folder with other
  files is refused unless the user says so (``--reuse-out``), and even then translate
  never writes over files it did not make.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from translate.errors import ConfigError, StorageError
from translate.io.fileio import write_failure, write_json
from translate.io.run_layout import LOCK_NAME, MARKER_NAME, RUN_ENTRIES
from translate.modeling.checkpoint import holds_checkpoints

_HELD: set[int] = set()  # the lock descriptors this process holds


def _close_held_locks() -> None:
    """In a forked child: let go of the parent's run locks (the lock is the parent's alone)."""
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held_locks)


class RunLock:
    """``with RunLock(run_dir):`` holds the run folder for this process."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_NAME
        self.fd: int | None = None
        self.created: list[Path] = []  # the folders this start makes, deepest first

    def __enter__(self) -> RunLock:
        self.created = _missing_folders(self.path.parent)
        while True:
            fd = self._lock_file()
            if _is_at(fd, self.path):
                break
            # A start that failed removed the file between our open and our lock (see __exit__): a
            # lock on it holds nothing, as a third process would create and lock a new one.
            os.close(fd)
        _HELD.add(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def _lock_file(self) -> int:
        """The lock file at ``self.path``, opened (created if need be) and locked by this process."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_failure(self.path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise StorageError(f"cannot lock {self.path}: {exc.strerror}") from exc
            raise ConfigError(f"{self.path.parent} is in use by {_describe_holder(holder)}: wait for it to finish or "
                              "stop it, or choose another --out") from None
        return fd

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.fd is None:
            return
        folder = self.path.parent
        if kind is not None and {p.name for p in folder.iterdir()} <= {LOCK_NAME, MARKER_NAME}:
            # A start that failed before writing anything (bad data, bad flags) leaves nothing behind.
            (folder / MARKER_NAME).unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)
            for made in self.created:  # and not the parents it made either (the default --out's runs/)
                with contextlib.suppress(OSError):  # another process has put something there meanwhile
                    made.rmdir()
        _HELD.discard(self.fd)
        os.close(self.fd)  # closing releases the lock; the file stays, for the next run to lock
        self.fd = None


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is the one ``path`` names now."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _describe_holder(recorded: str) -> str:
    """Who holds a lock, from the PID its holder wrote: named only while that process lives.

    A dead PID means something else holds the lock: a process the dead holder left behind
    (an earlier translate's loader workers did, for seconds), or a new holder that has not
    written its PID yet."""
    if recorded.isdigit():
        try:
            os.kill(int(recorded), 0)
        except ProcessLookupError:
            return (f"another process (the lock's recorded holder, PID {recorded}, is no longer running: a process "
                    "it left behind holds the lock)")
        except PermissionError:
            pass  # alive, another user's
        return f"another training process (PID {recorded})"
    return "another training process"


def claim_for_new_run(run_dir: Path, family: str, reuse: bool) -> None:
    """Mark ``run_dir`` as a translate run folder, or refuse it: a folder that already holds a
    run wants --resume; one with other files wants --reuse-out, and even then none of the
    names a run writes may be taken."""
    if holds_checkpoints(run_dir):
        raise ConfigError(f"{run_dir} already holds a run: pass --resume to continue it or choose another --out")
    if not (run_dir / MARKER_NAME).is_file():
        others = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_NAME) if run_dir.is_dir() else []
        if others and not reuse:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise ConfigError(f"--out {run_dir} is not empty ({shown}) and holds no translate run: choose a new "
                              "folder, or add --reuse-out to put the run beside those files")
        taken = [name for name in RUN_ENTRIES if (run_dir / name).exists()]
        if taken:
            raise ConfigError(f"--out {run_dir} already has {taken[0]}, which a run would write over: "
                              "choose another --out")
    write_json(run_dir / MARKER_NAME, {"family": family})
