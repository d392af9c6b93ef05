"""Running a command line: our own errors become one line on stderr and exit code 2. Torch-free,
so that a command that can run without PyTorch (``apply`` on an ONNX file) uses it too."""

from __future__ import annotations

import sys
from collections.abc import Callable

from translate.errors import TranslateError


def run_cli(main: Callable[[list[str] | None], None], argv: list[str] | None = None) -> None:
    """Run ``main``; our own errors become one line on stderr and exit code 2."""
    try:
        main(argv)
    except TranslateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt as exc:  # 130 for Ctrl-C; a stop on SIGTERM exits 143, as the shell reports it
        raise SystemExit(getattr(exc, "exit_code", 130)) from None
