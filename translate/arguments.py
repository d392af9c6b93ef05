"""argparse types shared by the command lines, the demo's included: torch-free, so that the
demo and the runtime-only install can use them (:mod:`translate.cli` needs PyTorch)."""

from __future__ import annotations

import argparse


def positive_int(value: str) -> int:
    """A count or a size: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number
