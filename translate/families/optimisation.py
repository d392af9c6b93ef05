"""The optimisation flags every family shares (``--loss``, ``--batch-size``, ``--lr``,
``--beta1``, ``--beta2``, ``--gp-weight``), declared once with each family's defaults, and
checked the same way for all of them."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from translate.config import ConfigBase, check_weight
from translate.errors import ConfigError
from translate.modeling.losses import LOSS_NAMES


@dataclass(frozen=True)
class OptimisationDefaults:
    """A family's defaults for the shared optimisation flags. A None learning rate or beta is
    the family's to pick from ``--loss``; ``by_loss`` says how, for ``--help``."""

    loss: str
    batch_size: int
    lr: float | None = 2e-4
    beta1: float | None = 0.5
    beta2: float | None = 0.999
    gp_weight: float = 10.0
    batch_help: str = "images per step"
    by_loss: dict[str, str] | None = None  # flag name -> how its default follows --loss


def add_optimisation_options(parser: argparse.ArgumentParser,
                             defaults: OptimisationDefaults) -> argparse._ArgumentGroup:
    """The "optimisation" group with the shared flags at ``defaults``; a family adds its own to it."""
    by_loss = defaults.by_loss or {}
    group = parser.add_argument_group("optimisation")
    group.add_argument("--loss", default=defaults.loss, help=f"one of {', '.join(LOSS_NAMES)}")
    group.add_argument("--batch-size", type=int, default=defaults.batch_size, help=defaults.batch_help)
    for name in ("lr", "beta1", "beta2"):
        value = getattr(defaults, name)
        group.add_argument(f"--{name}", type=float, default=value,
                           help=by_loss.get(name) if value is None else f"default {value:g}")
    group.add_argument("--gp-weight", type=float, default=defaults.gp_weight,
                       help="gradient penalty lambda for wgan-gp")
    return group


@dataclass
class OptimiserHyper(ConfigBase):
    """The shared flags' values as a run records them (``hyper`` in its ``config.json``); a
    family's settings subclass it, with their own ``loss`` default and fields."""

    loss: str = "lsgan"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    gp_weight: float = 10.0

    def validate(self) -> None:
        if self.loss not in LOSS_NAMES:
            raise ConfigError(f"unknown loss {self.loss!r}: choose one of {', '.join(LOSS_NAMES)}")
        check_optimiser(self.lr, self.beta1, self.beta2, self.gp_weight)


def check_optimiser(lr: float, beta1: float, beta2: float, gp_weight: float) -> None:
    """Adam settings and the gradient-penalty weight any recipe can use, or a ConfigError naming the flag."""
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"--lr must be a positive number, got {lr}")
    for name, beta in (("--beta1", beta1), ("--beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ConfigError(f"{name} must lie in [0, 1), got {beta}")
    check_weight("--gp-weight", gp_weight)
