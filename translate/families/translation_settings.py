"""What every translation family's run records about its training (``config.json``'s
``train``): the two domains, the data's sizes, the run's own settings, and the family's
optimisation settings under ``hyper``, whose schedule and weight average every translation
family (CycleGAN, CUT, pix2pix) shares."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from translate.config import ConfigBase, check_seed
from translate.errors import ConfigError
from translate.families.optimisation import OptimiserHyper

# The shared flags a resume may change (see resume_settings): the schedule's length, speed, scoring.
RESUMABLE_FLAGS = frozenset({"download", "epochs_decay", "compile", "eval_every", "eval_every_averaged"})

# Norms whose layers keep no weight-dependent buffers: the only ones a weight average fits.
AVERAGEABLE_NORMS = ("instance", "instance_affine", "layer", "none")


@dataclass
class ScheduledHyper(OptimiserHyper):
    """Adam, a constant learning rate for ``epochs`` then a linear decay to zero over
    ``epochs_decay``, and a uniform average of the generators' weights from a chosen epoch on."""

    epochs: int = 100
    epochs_decay: int = 100
    average_from_epoch: int = 0  # first epoch whose weights enter the generators' average; 0: no average
    average_every: int = 500  # steps between the weights the average takes

    def validate(self) -> None:
        super().validate()
        if self.epochs_decay < 0:
            raise ConfigError(f"--epochs-decay must not be negative, got {self.epochs_decay}")
        if self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        last = self.epochs + self.epochs_decay
        if not 0 <= self.average_from_epoch <= last:
            raise ConfigError(f"--average-from-epoch must be one of the run's epochs, 1..{last}, or 0 (no average), "
                              f"got {self.average_from_epoch}")
        if self.average_every < 1:
            raise ConfigError(f"--average-every must be at least 1 step, got {self.average_every}")

    def check_norm(self, norm: str) -> None:
        """A weight average only of networks whose norms keep no buffers (see AVERAGEABLE_NORMS)."""
        if self.average_from_epoch and norm not in AVERAGEABLE_NORMS:
            raise ConfigError(f"--average-from-epoch needs a norm without running statistics or power-iteration "
                              f"vectors, which averaged weights would not fit: use --norm "
                              f"{' / '.join(AVERAGEABLE_NORMS)} or --average-from-epoch 0, not --norm {norm}")


@dataclass
class TranslationTrainConfig(ConfigBase):
    """The settings every translation run has; a family subclasses it and types ``hyper`` as
    its own optimisation settings."""

    domains: list[str]
    load_size: int
    batch_size: int
    seed: int
    hyper: ScheduledHyper
    world_size: int = 1
    precision: str | None = None  # fp32 or bf16; None in runs from before --precision
    compile: bool = False
    eval_every: int | None = None  # epochs between FID/KID scores on the test sets
    preset: str | None = None  # the named recipe the run started from, if any
    eval_every_averaged: int | None = None  # epochs between scores once the weight average runs; None: eval_every

    def validate(self) -> None:
        if len(self.domains) != 2 or not all(self.domains):
            raise ConfigError(f"domains must be two names, got {self.domains}")
        if self.load_size < 1 or self.batch_size < 1 or self.world_size < 1:
            raise ConfigError("--load-size, --batch-size and the number of processes must be positive")
        if self.eval_every is not None and self.eval_every < 0:
            raise ConfigError(f"--eval-every must be 0 (off) or more, got {self.eval_every}")
        if self.eval_every_averaged is not None and self.eval_every_averaged < 1:
            raise ConfigError(f"--eval-every-averaged must be 1 or more, got {self.eval_every_averaged}")
        check_seed(self.seed)

    def check_compile(self) -> None:
        """Once the flags are applied (a new run's, or a resume's --no-compile): else the first
        step fails inside torch. Not in ``validate``, which reading a checkpoint runs first."""
        if self.compile and self.hyper.loss == "wgan-gp":
            raise ConfigError("--loss wgan-gp cannot train compiled: its gradient penalty needs a double backward, "
                              "which torch.compile does not support; add --no-compile (the CPU preset compiles)")

    def averaged_scoring(self) -> tuple[int, int] | None:
        """(first epoch, N): from the weight average's first epoch on, score every N epochs
        (``eval_every_averaged``), as each snapshot of the average is a candidate for ``best/``
        that scoring every few epochs would skip; None: every ``eval_every`` epochs throughout,
        or never where ``eval_every`` turns scoring off."""
        start = self.hyper.average_from_epoch
        return (start, self.eval_every_averaged) if self.eval_every and self.eval_every_averaged and start else None


def average_name(prefix: str) -> str:
    """The checkpoint prefix of the weight average of the generator saved under ``prefix``: what
    a recipe saves it as and what loading a model for sampling, export and scoring looks for."""
    return f"{prefix}_average"


def resume_settings(settings: TranslationTrainConfig, args: argparse.Namespace) -> None:
    """What the flags may change on --resume (RESUMABLE_FLAGS): the run's length, --compile and
    the scoring's schedule. The command checks that no other flag asks for a change
    (:mod:`translate.resume_flags`)."""
    hyper = settings.hyper
    hyper.epochs = args.epochs or hyper.epochs
    hyper.epochs_decay = hyper.epochs_decay if args.epochs_decay is None else args.epochs_decay
    hyper.validate()
    if args.compile is not None:
        settings.compile = args.compile
    if args.eval_every is not None:
        settings.eval_every = args.eval_every
    if args.eval_every_averaged is not None:
        settings.eval_every_averaged = args.eval_every_averaged
    settings.validate()
    settings.check_compile()
