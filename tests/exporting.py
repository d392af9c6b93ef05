"""Helpers for tests that need exported models: small real-trained checkpoints."""

from __future__ import annotations

from pathlib import Path

from translate.cli import run_cli
from translate.train import main as train_main

TINY = ["--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "16"]


def trained_run(root: Path, family: str, steps: int = 4) -> Path:
    """A tiny DCGAN / cDCGAN trained for a few real MNIST steps."""
    run = root / f"{family}-run"
    run_cli(train_main, [family, "--out", str(run), "--max-steps", str(steps), *TINY])
    return run
