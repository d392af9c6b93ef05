"""What a CycleGAN run is trained with, as its checkpoints record it: the optimisation
settings with the reference implementation's defaults, and the run's own."""

from __future__ import annotations

from dataclasses import dataclass

from translate.config import check_weight
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
        check_weight("--lambda-cycle", self.lambda_cycle)
        check_weight("--lambda-identity", self.lambda_identity)
        if self.pool_size < 0:
            raise ConfigError(f"--pool-size must not be negative, got {self.pool_size}")


@dataclass
class CycleGANTrainConfig(TranslationTrainConfig):
    """What a CycleGAN checkpoint records about its training (``config.json``'s ``train``)."""

    hyper: CycleGANHyper
