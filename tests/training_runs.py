"""Helpers for the tests that train: the command line, run in-process, and a run's weights."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from translate.cli import run_cli
from translate.modeling.checkpoint import WEIGHTS, find_checkpoint, read_checkpoint
from translate.train import main as train_main


def train(*argv: str) -> None:
    """``python -m translate.train ARGV``, with the command line's error handling."""
    run_cli(train_main, list(argv))


def weights(run: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the checkpoint ``run/checkpoints/latest`` names."""
    return load_file(find_checkpoint(run) / WEIGHTS)


def optimizer_states(run: Path) -> dict[str, dict]:
    """The optimisers' states of the checkpoint ``run/checkpoints/latest`` names, by optimiser."""
    return read_checkpoint(run).training_state()["optimizers"]


def assert_same_state(first: Path, second: Path) -> None:
    """The latest checkpoints of two runs hold the same weights and optimiser states, bit for bit."""
    a, b = weights(first), weights(second)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]
    states = [optimizer_states(run) for run in (first, second)]
    assert states[0].keys() == states[1].keys()
    for name in states[0]:
        for index, saved in states[0][name]["state"].items():
            other = states[1][name]["state"][index]
            assert all(torch.equal(saved[key], other[key]) for key in saved), (name, index)


def recorded(run: Path) -> list[dict]:
    """The records of the run's metrics.jsonl (epochs, log intervals, scorings) without each
    start's own line (``start``: the command, commit and step a start went on from)."""
    return [record for line in (run / "metrics.jsonl").read_text().splitlines()
            if "start" not in (record := json.loads(line))]
