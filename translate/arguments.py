"""argparse types shared by the command lines, the demo's included: torch-free, so that the
demo and the runtime-only install can use them (:mod:`translate.cli` needs PyTorch)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path


def positive_int(value: str) -> int:
    """A count or a size: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


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
