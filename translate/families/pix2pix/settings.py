"""What a pix2pix run is trained with, as its checkpoints record it: the optimisation settings
with the reference implementation's defaults, and the run's own (those of every translation
run, :mod:`translate.families.translation_settings`)."""

from __future__ import annotations

from dataclasses import dataclass

from translate.config import check_weight
from translate.errors import ConfigError
from translate.families.translation_settings import ScheduledHyper, TranslationTrainConfig

REFERENCE_EPOCHS = (100, 100)  # epochs at the full learning rate, then of linear decay to zero


@dataclass
class Pix2PixHyper(ScheduledHyper):
    """Optimisation settings, with the reference implementation's defaults (its ``vanilla`` GAN
    loss is our ``bce``). ``l1_only`` trains the generator on the L1 term alone, with no
    discriminator: the paper's ablation, whose outputs are blurry."""

    loss: str = "bce"
    lambda_l1: float = 100.0
    l1_only: bool = False

    def validate(self) -> None:
        super().validate()
        check_weight("--lambda-l1", self.lambda_l1)
        if self.l1_only and self.lambda_l1 == 0:
            raise ConfigError("--l1-only with --lambda-l1 0 leaves nothing to train on")


@dataclass
class Pix2PixTrainConfig(TranslationTrainConfig):
    """What a pix2pix checkpoint records about its training (``config.json``'s ``train``); its
    ``domains`` are the names of the input and output sides, as the model's."""

    hyper: Pix2PixHyper
