"""Helpers shared by the command-line entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch

from translate.errors import ConfigError, TranslateError


def run_cli(main: Callable[[list[str] | None], None], argv: list[str] | None = None) -> None:
    """Run ``main``; our own errors become one line on stderr and exit code 2."""
    try:
        main(argv)
    except TranslateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def select_device(gpu: bool, cpu_hint: str = "") -> torch.device:
    """CUDA when asked for and present; a clear error when asked for and absent (``cpu_hint``
    adds what to run on the CPU instead)."""
    if not gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"--gpu was given but PyTorch sees no CUDA device: drop --gpu to run on the CPU{cpu_hint}")
    torch.backends.cudnn.benchmark = True
    return torch.device("cuda")
