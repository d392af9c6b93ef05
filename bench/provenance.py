"""What every saved benchmark result carries beside its figures: the command that made it, the
CPU and the library versions, so that a table can be rerun as it was and its numbers compared
only with results of the same machine."""

from __future__ import annotations

import importlib.metadata
import shlex
import sys
from pathlib import Path
from typing import Any

from translate.io.fileio import atomic_write, write_json
from translate.modeling.device import describe_cpu

LIBRARIES = ("torch", "onnxruntime")


def command_line(script: str, argv: list[str] | None) -> str:
    """``python bench/NAME.py ARGS``: ``argv`` as main() was given it (None: this process's own)."""
    return shlex.join(["python", f"bench/{Path(script).name}", *(sys.argv[1:] if argv is None else argv)])


def library_versions() -> dict[str, str]:
    """The installed versions of the libraries whose kernels the figures time."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def save_result(md: Path, markdown: str, record: dict[str, Any], script: str, argv: list[str] | None) -> None:
    """``markdown`` to ``md`` and ``record`` to the ``.json`` beside it, each with the command line,
    the CPU and the versions added (printed too, under the table the benchmark printed)."""
    command, cpu, versions = command_line(script, argv), describe_cpu(), library_versions()
    footer = f"Command: `{command}`; {cpu}; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "."
    print(footer)
    md.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(md, lambda tmp: tmp.write_text(markdown.rstrip("\n") + "\n\n" + footer + "\n"))
    write_json(md.with_suffix(".json"), {"command": command, "cpu": cpu, **versions, **record})
