"""Helpers for tests that need exported models: small real-trained checkpoints."""

from __future__ import annotations

from pathlib import Path

from translate.cli import run_cli
from translate.pairs import main as pairs_main
from translate.train import main as train_main

from .cyclegan_data import horse2zebra, horse_zebra_argv

TINY = ["--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "16"]  # a tiny DCGAN / cDCGAN


def trained_run(root: Path, family: str, steps: int = 4, extra: tuple[str, ...] = (), name: str = "") -> Path:
    """A tiny DCGAN / cDCGAN, or a tiny horse -> zebra CycleGAN or CUT, trained for a few steps
    on real data."""
    run = root / f"{name or family}-run"
    unpaired = family in ("cyclegan", "cut")
    argv = horse_zebra_argv(horse2zebra(root / "data"), family=family) if unpaired else [family, *TINY]
    run_cli(train_main, [*argv, *extra, "--out", str(run), "--max-steps", str(steps)])
    return run



SKETCH_TINY = ["--ngf", "4", "--ndf", "4", "--depth", "3", "--load-size", "72", "--crop-size", "64", "--workers", "0"]


def trained_sketch_run(root: Path, steps: int = 4) -> Path:
    """A tiny pix2pix trained for a few steps on edges -> zebra pairs that ``translate.pairs``
    made of real zebras (3 training, 1 test), as the demo's sketch model is made."""
    zebras = horse2zebra(root / "zebras", {"trainB": 3, "testB": 1}) / "horse2zebra"
    run_cli(pairs_main, ["edges", str(zebras / "trainB"), str(root / "data" / "edges2zebra"), "--test",
                         str(zebras / "testB"), "--size", "72", "--domains", "edges", "zebra"])
    run = root / "sketch-run"
    run_cli(train_main, ["pix2pix", "--dataset", "edges2zebra", "--data", str(root / "data"), *SKETCH_TINY,
                         "--out", str(run), "--max-steps", str(steps)])
    return run
