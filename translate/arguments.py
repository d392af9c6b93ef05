"""argparse types shared by the command lines, the demo's included: torch-free, so that the
demo and the runtime-only install can use them (:mod:`translate.cli` needs PyTorch)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

# What --precision takes wherever networks run in PyTorch (translate.modeling.device resolves it).
PRECISIONS = ("auto", "fp32", "bf16")


def _whole_number(value: str, least: int, takes: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = least - 1
    if number < least:
        raise argparse.ArgumentTypeError(f"must be {takes}, got {value}")
    return number


def positive_int(value: str) -> int:
    """A count or a size: a whole number of at least 1."""
    return _whole_number(value, 1, "a positive integer")


def non_negative_int(value: str) -> int:
    """A count that may be 0 (data-loader processes: 0 loads in the training process)."""
    return _whole_number(value, 0, "a whole number of 0 or more")


def positive_hours(value: str) -> float:
    """A time budget: a finite number of hours above 0 (0.5 is half an hour)."""
    try:
        hours = float(value)
    except ValueError:
        hours = math.nan
    if not 0 < hours < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of hours above 0, got {value}")
    return hours


def output_file(example: str) -> Callable[[str], Path]:
    """An argparse ``type`` for a file to write (an image, a JSON record), refused at once where
    it names a folder: that would fail only once the work is done, or, given with a trailing
    slash, quietly become a file of the folder's name. ``example`` is the file name to suggest."""

    def check(value: str) -> Path:
        path = Path(value)
        if value.endswith(("/", os.sep)) or path.is_dir():
            raise argparse.ArgumentTypeError(f"{value} is a folder: name the file to write, e.g. {path / example}")
        return path

    return check
