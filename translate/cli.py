"""Imported first by every command that needs PyTorch: without it, one line naming the extra to
install. It also gives those commands :func:`translate.command_line.run_cli`."""

from __future__ import annotations

import importlib.util
import sys

from translate.command_line import run_cli


def require_training_install() -> None:
    """A command that trains, exports, scores or reads a checkpoint needs PyTorch, which the base
    install (the torch-free runtime) leaves out: say which extra to install, rather than let the
    first ``import torch`` end in a traceback. Each such command imports this module before torch."""
    if importlib.util.find_spec("torch") is None:
        print("error: this command needs PyTorch, which the runtime-only install leaves out: "
              "pip install 'translate-gan[train]' (or pip install -e '.[train]' in a clone)", file=sys.stderr)
        sys.exit(2)  # a command-line error's code, as run_cli's


require_training_install()

__all__ = ["require_training_install", "run_cli"]
