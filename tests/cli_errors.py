"""Assertions and runners shared by the command-line tests."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from translate.cli import run_cli

PROGRESS_BAR = re.compile(r"epoch \d+/\d+: ")  # the trainer's bar (after each \r) or lines, and its epoch lines
# translate.progress off a terminal: "downloading mnist: 0.0/1.6 MB (0%), 0 s", "...: 4/4 images (100%), 2 s, done"
PROGRESS_LINE = re.compile(r"[^:]+: [\d.]+(/[\d.]+)? \w+( \(\d+%\))?, \d+ s(, done)?$")
# The trainer's first line: "cdcgan run in /x/run: starting; records in ..." (or "resuming from ...").
RUN_START = re.compile(r"\w+ run in .+: (starting|resuming from .+); records in ")


def message_lines(stderr: str) -> list[str]:
    """What a command wrote to stderr besides its progress (the trainer's bar or lines and its first
    line, translate.progress's lines) and its notes (advice such as the CPU preset, not errors), line by line."""
    return [line for line in stderr.splitlines()
            if line.strip() and not PROGRESS_BAR.match(line) and not PROGRESS_LINE.match(line)
            and not RUN_START.match(line)
            and not line.startswith("note: ")]


def one_line_error(capsys, main: Callable[[list[str] | None], object], *argv: str) -> str:
    """Run a CLI that must fail: exit code 2 and a single ``error: ...`` line, no traceback."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(main, list(argv))
    assert info.value.code == 2
    [err] = message_lines(capsys.readouterr().err)
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def argparse_error(capsys, parse: Callable[[list[str]], object], *argv: str) -> str:
    """The line argparse refuses ``argv`` with (its last on stderr, after the usage), exit code 2."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        parse(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def run_without_torch(command: str, *argv: str) -> subprocess.CompletedProcess:
    """``python -m translate.COMMAND ARGV`` in an interpreter where ``import torch`` fails, as in
    the runtime-only install."""
    code = ("import sys; sys.modules['torch'] = None\n"
            f"from translate.{command} import run\n"
            f"sys.argv = [{command!r}, *{list(argv)!r}]\n"
            "run()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
