"""Assertions shared by the command-line tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from translate.cli import run_cli


def one_line_error(capsys, main: Callable[[list[str] | None], object], *argv: str) -> str:
    """Run a CLI that must fail: exit code 2 and a single ``error: ...`` line, no traceback."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(main, list(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err
