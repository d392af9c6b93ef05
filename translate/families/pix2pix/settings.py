"""What a pix2pix run is trained with, as its checkpoints record it: the optimisation settings
with the reference implementation's defaults, and the run's own."""

from __future__ import annotations

import math
from dataclasses import dataclass

from translate.config import ConfigBase, check_seed
from translate.errors import ConfigError
from translate.families.optimisation import check_optimiser
from translate.modeling.losses import LOSS_NAMES

REFERENCE_EPOCHS = (100, 100)  # epochs at the full learning rate, then of linear decay to zero


@dataclass
class Pix2PixHyper(ConfigBase):
    """Optimisation settings, with the reference implementation's defaults (its ``vanilla`` GAN
    loss is our ``bce``). ``l1_only`` trains the generator on the L1 term alone, with no
    discriminator: the paper's ablation, whose outputs are blurry."""

    loss: str = "bce"
    lambda_l1: float = 100.0
    l1_only: bool = False
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epochs: int = 100
    epochs_decay: int = 100
    gp_weight: float = 10.0

    def validate(self) -> None:
        if self.loss not in LOSS_NAMES:
            raise ConfigError(f"unknown loss {self.loss!r}: choose one of {', '.join(LOSS_NAMES)}")
        check_optimiser(self.lr, self.beta1, self.beta2, self.gp_weight)
        if not (math.isfinite(self.lambda_l1) and self.lambda_l1 >= 0):
            raise ConfigError(f"--lambda-l1 must be a number of 0 or more, got {self.lambda_l1}")
        if self.l1_only and self.lambda_l1 == 0:
            raise ConfigError("--l1-only with --lambda-l1 0 leaves nothing to train on")
        if self.epochs < 1 or self.epochs_decay < 0:
            raise ConfigError("--epochs must be at least 1 and --epochs-decay not negative")


@dataclass
class Pix2PixTrainConfig(ConfigBase):
    """What a pix2pix checkpoint records about its training (``config.json``'s ``train``)."""

    load_size: int
    batch_size: int
    seed: int
    hyper: Pix2PixHyper
    world_size: int = 1
    precision: str | None = None  # fp32 or bf16
    compile: bool = False
    eval_every: int | None = None  # epochs between scorings on the test pairs

    def validate(self) -> None:
        if self.load_size < 1 or self.batch_size < 1 or self.world_size < 1:
            raise ConfigError("--load-size, --batch-size and the number of processes must be positive")
        if self.eval_every is not None and self.eval_every < 0:
            raise ConfigError(f"--eval-every must be 0 (off) or more, got {self.eval_every}")
        check_seed(self.seed)
