"""Helpers for the tests that train: the command line, run in-process, and a run's weights."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from translate.cli import run_cli
from translate.modeling.checkpoint import WEIGHTS, find_checkpoint
from translate.train import main as train_main


def train(*argv: str) -> None:
    """``python -m translate.train ARGV``, with the command line's error handling."""
    run_cli(train_main, list(argv))


def weights(run: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the checkpoint ``run/checkpoints/latest`` names."""
    return load_file(find_checkpoint(run) / WEIGHTS)
