"""Helpers for the tests that train: the command line, run in-process, and a run's weights."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from translate.cli import run_cli
from translate.families import get_family
from translate.modeling.checkpoint import WEIGHTS, Checkpoint, find_checkpoint, read_checkpoint
from translate.modeling.device import resolve_precision
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


def cpu_preset_run(run: Path, argv: list[str], resume: list[str], capsys) -> tuple[Checkpoint, dict]:
    """Train ``argv`` (a family, its data and flags over the preset) with ``--preset cpu`` for a
    step into ``run``, resume it with ``resume`` to step 2, and check what every CPU preset keeps:
    no no-preset note, the preset recorded, its schedule and bf16-where-native precision. The
    checkpoint and the preset, for the family's own checks."""
    train(*argv, "--preset", "cpu", "--max-steps", "1")
    assert "without a preset" not in capsys.readouterr().err
    train(*resume, "--max-steps", "2", "--resume")
    checkpoint = read_checkpoint(run)
    settings, preset = checkpoint.train, get_family(checkpoint.family).presets["cpu"]
    assert settings["preset"] == "cpu" and checkpoint.path.name == "step-00000002"
    hyper = settings["hyper"]
    assert (hyper["epochs"], hyper["epochs_decay"], hyper["average_from_epoch"]) == (
        preset["epochs"], preset["epochs_decay"], preset["average_from_epoch"])
    assert settings["precision"] == resolve_precision("auto", torch.device("cpu"))
    return checkpoint, preset
