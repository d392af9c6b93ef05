"""The toy family: its flags, settings and how its generator loads; export, sampling and
scoring come with :class:`~translate.families.translation.TranslationFamily`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import nn

from translate.config import ConfigBase, check_seed
from translate.errors import ConfigError
from translate.families.base import RunOptions
from translate.families.optimisation import OptimisationDefaults, check_optimiser
from translate.families.translation import TranslationFamily
from translate.modeling.checkpoint import Checkpoint, build_loaded, train_config

from .nets import GENERATOR, SIZE_MULTIPLE, ToyConfig, ToyGenerator

if TYPE_CHECKING:
    from translate.training.trainer import Trainer


@dataclass
class ToyTrainConfig(ConfigBase):
    """What a toy checkpoint records about its training."""

    domains: list[str]
    load_size: int
    batch_size: int
    seed: int
    lr: float
    beta1: float
    beta2: float
    epochs: int
    eval_every: int = 0

    def validate(self) -> None:
        if len(self.domains) != 2 or self.batch_size < 1:
            raise ConfigError("--domains takes two names and --batch-size must be positive")
        check_optimiser(self.lr, self.beta1, self.beta2, 0.0)
        check_seed(self.seed)


class ToyFamily(TranslationFamily):
    name = "toy"
    summary = "a toy one-way translator (the tests' new family)"
    directions = ("AtoB",)
    config_class = ToyConfig
    size_multiple = SIZE_MULTIPLE
    min_size = SIZE_MULTIPLE
    optimisation = OptimisationDefaults(loss="lsgan", batch_size=2, lr=1e-3)
    presets = {"wide": {"width": 8, "lr": 5e-4}}  # a named recipe: its flags' defaults

    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        parser.add_argument("--domains", nargs=2, metavar=("A", "B"))
        parser.add_argument("--load-size", type=int, default=36)
        parser.add_argument("--crop-size", type=int, default=32)
        parser.add_argument("--width", type=int, default=4)
        parser.add_argument("--eval-every", type=int, default=0, metavar="EPOCHS")

    def new_settings(self, args: argparse.Namespace) -> tuple[ToyConfig, ToyTrainConfig]:
        model = ToyConfig(width=args.width, image_size=args.crop_size, domain_a=args.domains[0],
                          domain_b=args.domains[1])
        model.validate()
        settings = ToyTrainConfig(list(args.domains), args.load_size, args.batch_size, args.seed, args.lr,
                                  args.beta1, args.beta2, args.epochs or 10, args.eval_every)
        settings.validate()
        return model, settings

    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[ToyConfig,
                                                                                          ToyTrainConfig]:
        return self.model_config(checkpoint), train_config(checkpoint, ToyTrainConfig)

    def train(self, model: ToyConfig, settings: ToyTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        from .training import train_run  # training's modules load only to train

        return train_run(self, model, settings, run, checkpoint)

    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module, ToyConfig]:
        self.check_direction(direction, checkpoint)
        config = self.model_config(checkpoint)
        return build_loaded(lambda: ToyGenerator(config), checkpoint, GENERATOR).eval(), config

    def generator_prefix(self, direction: str | None) -> str:
        return GENERATOR


FAMILIES = [ToyFamily()]
