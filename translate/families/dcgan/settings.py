"""What a DCGAN / cDCGAN run is trained with, as its checkpoints record it, and the
per-loss defaults of the flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from translate.config import ConfigBase, check_seed
from translate.errors import ConfigError
from translate.families.optimisation import OptimiserHyper

# Per-loss defaults from the papers: WGAN-GP trains a layer-normed critic 5x per G step.
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "wgan-gp": {"n_critic": 5, "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_norm": "layer"},
}
GENERIC_DEFAULTS = {"n_critic": 1, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "d_norm": "batch"}
DEFAULT_EPOCHS = 25


@dataclass
class GANHyper(OptimiserHyper):
    """Optimisation settings of a GAN recipe: the shared ones, critic steps and an EMA."""

    loss: str = "bce"
    n_critic: int = 1
    ema: float = 0.0  # decay of the generator's weight average; 0 trains without one

    def validate(self) -> None:
        super().validate()
        if self.n_critic < 1:
            raise ConfigError(f"--n-critic must be at least 1, got {self.n_critic}")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"--ema must be in [0, 1) (e.g. 0.999), not {self.ema}")


@dataclass
class GANTrainConfig(ConfigBase):
    """What a DCGAN / cDCGAN checkpoint records about its training (``config.json``'s ``train``)."""

    dataset: str  # "mnist" or "folder"
    batch_size: int
    seed: int
    hyper: GANHyper
    classes: list[str] = field(default_factory=list)  # cDCGAN: the class names, in label order
    epochs: int | None = None  # the run length it was last started with
    precision: str | None = None  # fp32 or bf16; None in runs from before --precision

    def validate(self) -> None:
        if self.dataset not in ("mnist", "folder"):
            raise ConfigError(f"dataset {self.dataset!r} is not mnist or folder")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        check_seed(self.seed)
