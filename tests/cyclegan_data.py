"""Helpers for the CycleGAN tests: small copies of the real horse2zebra set, tiny settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2

# A greyscale zebra of the real set (7 trainB files are greyscale).
GREY_ZEBRA = "n02391049_226.jpg"
TINY = ["--ngf", "8", "--ndf", "8", "--n-blocks", "2", "--load-size", "36", "--crop-size", "32",
        "--workers", "0", "--log-every", "1"]


def horse_zebra_argv(data: Path, *options: str, family: str = "cyclegan") -> list[str]:
    """``train`` arguments for a tiny horse <-> zebra CycleGAN (or another unpaired family) on
    ``data`` (see :func:`horse2zebra`)."""
    return [family, "--domains", "horse", "zebra", "--data", str(data), *options, *TINY]


def horse2zebra(root: Path, counts: dict[str, int] | None = None) -> Path:
    """``root/horse2zebra/{trainA,trainB,testA,testB}`` holding the first real files of each
    split (trainB also the greyscale zebra); returns ``root`` (the data folder)."""
    source = Path(os.environ["TRANSLATE_DATA"]) / "horse2zebra"
    counts = counts or {"trainA": 4, "trainB": 3, "testA": 2, "testB": 2}
    for split, count in counts.items():
        dest = root / "horse2zebra" / split
        dest.mkdir(parents=True)
        for file in sorted((source / split).iterdir())[:count]:
            shutil.copy(file, dest / file.name)
    if counts.get("trainB"):
        shutil.copy(source / "trainB" / GREY_ZEBRA, root / "horse2zebra" / "trainB" / GREY_ZEBRA)
        assert cv2.imread(str(source / "trainB" / GREY_ZEBRA), cv2.IMREAD_UNCHANGED).ndim == 2
    return root
