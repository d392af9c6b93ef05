"""Helpers shared by the command-line entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

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


def select_device(gpu: bool) -> torch.device:
    """CUDA when asked for and present; a clear error when asked for and absent."""
    if not gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError("--gpu was given but PyTorch sees no CUDA device: drop --gpu to run on the CPU")
    torch.backends.cudnn.benchmark = True
    return torch.device("cuda")


def autocast_for(device: torch.device) -> AbstractContextManager:
    """bf16 autocast on CUDA (no loss scaling needed); full fp32 on the CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()
