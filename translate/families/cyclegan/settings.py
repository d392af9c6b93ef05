"""What a CycleGAN run is trained with, as its checkpoints record it: the optimisation
settings with the reference implementation's defaults, and the run's own."""

from __future__ import annotations

import math
from dataclasses import dataclass

from translate.errors import ConfigError
from translate.families.translation_settings import ScheduledHyper, TranslationTrainConfig

REFERENCE_EPOCHS = (100, 100)  # epochs at the full learning rate, then of linear decay to zero


@dataclass
class CycleGANHyper(ScheduledHyper):
    """Optimisation settings, with the reference implementation's defaults."""

    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50

    def validate(self) -> None:
        super().validate()
        for name, value in (("--lambda-cycle", self.lambda_cycle), ("--lambda-identity", self.lambda_identity)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a number of 0 or more, got {value}")
        if self.pool_size < 0:
            raise ConfigError(f"--pool-size must not be negative, got {self.pool_size}")


@dataclass
class CycleGANTrainConfig(TranslationTrainConfig):
    """What a CycleGAN checkpoint records about its training (``config.json``'s ``train``)."""

    hyper: CycleGANHyper
