"""Helpers for tests that need exported models: small real-trained checkpoints."""

from __future__ import annotations

from pathlib import Path

from translate.cli import run_cli
from translate.train import main as train_main

from .cyclegan_data import horse2zebra, horse_zebra_argv

TINY = ["--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "16"]  # a tiny DCGAN / cDCGAN


def trained_run(root: Path, family: str, steps: int = 4, extra: tuple[str, ...] = (), name: str = "") -> Path:
    """A tiny DCGAN / cDCGAN, or a tiny CycleGAN, trained for a few steps on real data."""
    run = root / f"{name or family}-run"
    argv = horse_zebra_argv(horse2zebra(root / "data")) if family == "cyclegan" else [family, *TINY]
    run_cli(train_main, [*argv, *extra, "--out", str(run), "--max-steps", str(steps)])
    return run

