"""Helpers shared by the command-line entry points."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

from translate.errors import TranslateError


def require_training_install() -> None:
    """Every command line trains, exports or scores with PyTorch, which the base install (the
    torch-free runtime) leaves out: say which extra to install, rather than let the first
    ``import torch`` end in a traceback. Each command imports this module before torch."""
    if importlib.util.find_spec("torch") is None:
        sys.exit("error: this command needs PyTorch, which the runtime-only install leaves out: "
                 "pip install 'translate-gan[train]' (or pip install -e '.[train]' in a clone)")


require_training_install()


def run_cli(main: Callable[[list[str] | None], None], argv: list[str] | None = None) -> None:
    """Run ``main``; our own errors become one line on stderr and exit code 2."""
    try:
        main(argv)
    except TranslateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt as exc:  # 130 for Ctrl-C; a stop on SIGTERM exits 143, as the shell reports it
        raise SystemExit(getattr(exc, "exit_code", 130)) from None
