"""What a model family supplies, so that every command looks it up instead of branching
on its name (see :mod:`translate.families`).

A family owns its networks, its configs (the architecture a checkpoint's ``model`` key
rebuilds, and the training settings under its ``train`` key), how a run of it is built
from those, how its generator is loaded, how it is exported to ONNX and how it is scored.
The functions that read an ``argparse`` namespace are the command line's edge: they turn
flags into the typed configs that everything else takes.
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from translate.config import LOG_EVERY, ConfigBase
from translate.errors import ConfigError
from translate.families.optimisation import OptimisationDefaults

if TYPE_CHECKING:
    from translate.evaluation.protocols import EvaluationRequest
    from translate.modeling.checkpoint import Checkpoint
    from translate.onnx_export import ExportPlan
    from translate.training.trainer import RunSpec, Trainer


@dataclass(frozen=True)
class RunOptions:
    """A training run's settings that come from the command line on every start, resumed or
    not: where, how long, on what, and how faults are handled."""

    out: Path
    data: str | None = None
    epochs: int | None = None  # None: the family's default (or on --resume, the run's own)
    max_steps: int | None = None
    max_hours: float | None = None
    max_cpu_hours: float | None = None
    resume: bool = False
    gpu: bool = False
    workers: int = 0
    save_every_steps: int | None = None
    log_every: int = LOG_EVERY
    skip_nonfinite: bool = False
    precision: str | None = None  # None: auto (or on --resume, the run's own)
    download: bool = False  # fetch a missing dataset
    fid_weights: str | None = None  # the FID network, for families that score during training
    command: str = ""  # the command line of this start, as metrics.jsonl records it
    continue_command: str = ""  # what continues the run as this start ran it, for its stop messages

    def run_spec(self, family: str, model_config: dict[str, Any], train_config: dict[str, Any], epochs: int,
                 eval_every: int | None = None, eval_every_from: tuple[int, int] | None = None) -> RunSpec:
        """The trainer's spec for this run: what the family decides (its configs, its length,
        its scoring), with the limits, checkpointing and logging the command line sets for every
        family, so that no family can leave one out."""
        from translate.training.trainer import RunSpec

        return RunSpec(run_dir=self.out, family=family, model_config=model_config, train_config=train_config,
                       epochs=epochs, max_steps=self.max_steps, max_hours=self.max_hours,
                       max_cpu_hours=self.max_cpu_hours, save_every_steps=self.save_every_steps,
                       log_every=self.log_every, eval_every=eval_every, eval_every_from=eval_every_from,
                       command=self.command, continue_command=self.continue_command)


class Family(ABC):
    """One model family: subclass it in a module of ``translate.families`` and list an
    instance in the module's ``FAMILIES``."""

    name: str  # the command-line and checkpoint name, e.g. "cyclegan"
    summary: str  # one line for --help
    task: str  # "sample" (codes to images) or "translate" (images to images)
    directions: tuple[str, ...] = ()  # the generators a translate family holds, e.g. ("AtoB", "BtoA")
    presets: dict[str, dict[str, Any]] = {}  # named defaults for its training flags
    # Its training flags (by dest) that --resume takes from the command line; any other it is
    # given must match what the run recorded (translate.resume_flags), under the field name
    # recorded_names gives where that differs from the flag's.
    resumable_flags: frozenset[str] = frozenset({"download"})
    recorded_names: dict[str, str] = {}
    grid_count: int = 64  # what translate.sample draws without --n: images, or rows of translations
    optimisation: OptimisationDefaults  # its defaults for the optimisation flags every family has
    # The input sizes its generator takes: a multiple of size_multiple pixels a side, at least
    # min_size (translate families: apply, scoring and the ONNX metadata pad images to them);
    # a family whose architecture sets them per model says so in input_sizes.
    size_multiple: int = 1
    min_size: int = 1
    data_parallel: bool = False  # whether torchrun may launch it in several processes (DDP)

    # -- command line (the edge: namespaces in, typed configs out) --------------------
    @abstractmethod
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        """The family's own ``train`` flags (architecture, data, and in ``optim`` optimisation
        beyond the shared flags of :mod:`translate.families.optimisation`)."""

    @abstractmethod
    def new_settings(self, args: argparse.Namespace) -> tuple[ConfigBase, ConfigBase]:
        """(model config, train config) of a new run, from the flags."""

    @abstractmethod
    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[ConfigBase, ConfigBase]:
        """(model config, train config) recorded in ``checkpoint``, with what the flags may change on --resume."""

    # -- library ----------------------------------------------------------------------
    @abstractmethod
    def train(self, model: ConfigBase, settings: ConfigBase, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        """Build the run (data, recipe, trainer), continue ``checkpoint`` if given, and train it."""

    @abstractmethod
    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module, ConfigBase]:
        """The generator the family ships (in eval mode), and its model config."""

    @abstractmethod
    def export_plan(self, checkpoint: Checkpoint, direction: str | None = None) -> ExportPlan:
        """What ``translate.export`` writes for this family, and the inputs it checks it on."""

    @abstractmethod
    def evaluate(self, checkpoint: Checkpoint, request: EvaluationRequest) -> dict[str, Any]:
        """Scores of a checkpoint under the family's protocol, with the protocol stated."""

    def shipped_weights(self, checkpoint: Checkpoint, state: dict[str, Any]) -> str:
        """What the weights ``shipped_modules`` takes from ``checkpoint`` (whose training state
        is ``state``) are, for a model card, where they are not the trained ones (a weight
        average); "" where they are."""
        return ""

    def shipped_modules(self, checkpoint: Checkpoint) -> dict[str, nn.Module]:
        """What a model folder of this family holds, by checkpoint prefix: its generator(s)
        (as ``load_generator`` gives them), without discriminators or training state."""
        return {self.generator_prefix(direction): self.load_generator(checkpoint, direction)[0]
                for direction in self.directions or (None,)}

    def input_sizes(self, config: ConfigBase) -> tuple[int, int]:
        """(size multiple, minimum side) of the inputs the generator of ``config`` takes: the
        family's ``size_multiple`` and ``min_size``, unless its architecture sets them (a U-Net's
        depth does)."""
        return self.size_multiple, self.min_size

    def generator_prefix(self, direction: str | None) -> str:
        """The checkpoint prefix a model folder stores a generator under."""
        return "generator"

    @abstractmethod
    def sample(self, checkpoint: Checkpoint, n: int, label: int | None, seed: int, device: torch.device,
               data: str | None = None, truncation: float | None = None) -> tuple[torch.Tensor, int, list[str]]:
        """A grid's cells in [-1, 1], its row length and its columns' titles (``translate.sample``):
        ``n`` drawn images (from codes truncated at ``truncation``, see
        :func:`translate.latent.latent_codes`; no titles), or ``n`` rows of test images of the data
        root ``data`` and their translations (titled by what each column shows)."""

    def walk(self, checkpoint: Checkpoint, rows: int, steps: int, seeds: tuple[int, int], label: int | None,
             labels: tuple[int, int] | None, truncation: float | None, device: torch.device) -> torch.Tensor:
        """``rows`` walks of ``steps`` images, row by row, in [-1, 1] (``translate.sample
        --interpolate`` / ``--interpolate-labels``): between code i of ``seeds[0]`` and of
        ``seeds[1]``, and from the conditioning of ``labels[0]`` to that of ``labels[1]`` (or
        at ``label``). Only families that draw from latent codes have walks."""
        raise ConfigError(f"--interpolate and --interpolate-labels walk between latent codes; {checkpoint.path} "
                          f"is a {self.name} model, which translates images and draws no codes")

    def check_direction(self, direction: str | None, checkpoint: Checkpoint) -> str | None:
        """``direction`` if this family has it (the first by default); an error otherwise."""
        if not self.directions:
            if direction is not None:
                raise ConfigError(f"--direction applies to translation models; {checkpoint.path} is a "
                                  f"{self.name} checkpoint")
            return None
        if direction is None:
            return self.directions[0]
        if direction not in self.directions:
            raise ConfigError(f"unknown direction {direction!r}: choose one of {', '.join(self.directions)}")
        return direction
