"""What a CycleGAN run is trained with, as its checkpoints record it: the optimisation
settings with the reference implementation's defaults, and the run's own."""

from __future__ import annotations

import math
from dataclasses import dataclass

from translate.config import ConfigBase, check_seed
from translate.errors import ConfigError
from translate.families.optimisation import check_optimiser
from translate.modeling.losses import LOSS_NAMES

REFERENCE_EPOCHS = (100, 100)  # epochs at the full learning rate, then of linear decay to zero
# Norms whose layers keep no weight-dependent buffers: the only ones a weight average fits.
AVERAGEABLE_NORMS = ("instance", "layer", "none")


@dataclass
class CycleGANHyper(ConfigBase):
    """Optimisation settings, with the reference implementation's defaults."""

    loss: str = "lsgan"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epochs: int = 100
    epochs_decay: int = 100
    gp_weight: float = 10.0
    average_from_epoch: int = 0  # first epoch whose weights enter the generators' average; 0: no average
    average_every: int = 500  # steps between the weights the average takes

    def validate(self) -> None:
        if self.loss not in LOSS_NAMES:
            raise ConfigError(f"unknown loss {self.loss!r}: choose one of {', '.join(LOSS_NAMES)}")
        check_optimiser(self.lr, self.beta1, self.beta2, self.gp_weight)
        for name, value in (("--lambda-cycle", self.lambda_cycle), ("--lambda-identity", self.lambda_identity)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a number of 0 or more, got {value}")
        if self.pool_size < 0 or self.epochs_decay < 0:
            raise ConfigError("--pool-size and --epochs-decay must not be negative")
        if self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        last = self.epochs + self.epochs_decay
        if not 0 <= self.average_from_epoch <= last:
            raise ConfigError(f"--average-from-epoch must be one of the run's epochs, 1..{last}, or 0 (no average), "
                              f"got {self.average_from_epoch}")
        if self.average_every < 1:
            raise ConfigError(f"--average-every must be at least 1 step, got {self.average_every}")


@dataclass
class CycleGANTrainConfig(ConfigBase):
    """What a CycleGAN checkpoint records about its training (``config.json``'s ``train``)."""

    domains: list[str]
    load_size: int
    batch_size: int
    seed: int
    hyper: CycleGANHyper
    world_size: int = 1
    precision: str | None = None  # fp32 or bf16; None in runs from before --precision
    compile: bool = False
    eval_every: int | None = None  # epochs between FID/KID scores on the test sets
    preset: str | None = None  # the named recipe the run started from, if any

    def validate(self) -> None:
        if len(self.domains) != 2 or not all(self.domains):
            raise ConfigError(f"domains must be two names, got {self.domains}")
        if self.load_size < 1 or self.batch_size < 1 or self.world_size < 1:
            raise ConfigError("--load-size, --batch-size and the number of processes must be positive")
        if self.eval_every is not None and self.eval_every < 0:
            raise ConfigError(f"--eval-every must be 0 (off) or more, got {self.eval_every}")
        check_seed(self.seed)
