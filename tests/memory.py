"""Peak resident memory of this process, read from /proc (Linux).

``getrusage``'s ``ru_maxrss`` cannot serve: it never goes down within a process and it
survives ``exec``, so a child started by pytest reports pytest's own peak. ``VmHWM`` is the
current address space's high-water mark, and writing 5 to ``clear_refs`` resets it.
"""

from __future__ import annotations

from pathlib import Path


def reset_peak_rss() -> None:
    """Start a new high-water mark at the current resident size."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_kb() -> int:
    """The high-water mark of resident memory since the process began or the last reset, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/status has no VmHWM line")
