"""The CycleGAN family: its flags and presets, how a run's settings are made and resumed, and
how its generators load (networks in :mod:`.nets`, settings in :mod:`.settings`, the
training run in :mod:`.training`, its step in :mod:`.recipe`); export, sampling and scoring
are every translation family's (:mod:`translate.families.translation`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from translate.families.base import RunOptions
from translate.families.cyclegan.nets import (
    DIRECTIONS,
    GENERATOR_NAMES,
    CycleGANConfig,
    build_generator,
)
from translate.families.cyclegan.settings import REFERENCE_EPOCHS, CycleGANHyper, CycleGANTrainConfig
from translate.families.optimisation import OptimisationDefaults
from translate.families.translation import TranslationFamily
from translate.families.translation_options import (
    add_translation_options,
    new_model,
    new_settings,
    schedule,
)
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.resnet_generator import ResnetGenerator

if TYPE_CHECKING:
    from translate.training.trainer import Trainer


class CycleGANFamily(TranslationFamily):
    """CycleGAN: two generators and two discriminators, translating both ways."""

    name = "cyclegan"
    summary = "unpaired translation between two domains"
    directions = DIRECTIONS
    config_class = CycleGANConfig
    train_config_class = CycleGANTrainConfig
    generator_names = GENERATOR_NAMES
    build_generator = staticmethod(build_generator)
    size_multiple = ResnetGenerator.size_multiple
    min_size = ResnetGenerator.min_size
    optimisation = OptimisationDefaults(loss="lsgan", batch_size=1, batch_help="images per process and step")
    # Named recipes: defaults for the flags, under whatever flags the user gives. "cpu" is the
    # reference networks (ngf 64, 9 blocks) on 128-px crops of the photos at their own scale:
    # of five candidates given the same CPU time it scored best (docs/training.md has the
    # comparison). Its schedule, 30 epochs and 30 of decay (0.3 of the reference's steps), the
    # generators' weight average from epoch 33 on and its scorings (every 2 epochs, every epoch
    # of the average) are those of the horse <-> zebra run that is to ship as
    # models/cyclegan-horse2zebra (its card will give the FID over training), so that the
    # preset's RUN/best is that model again.
    presets = {
        "cpu": {"ngf": 64, "n_blocks": 9, "load_size": 256, "crop_size": 128, "lambda_identity": 0.5,
                "epochs": 30, "epochs_decay": 30, "average_from_epoch": 33, "precision": "auto", "compile": True,
                "eval_every": 2, "eval_every_averaged": 1},
    }

    # -- command line --------------------------------------------------------------------
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        add_translation_options(parser, optim, str(REFERENCE_EPOCHS[1]))
        optim.add_argument("--lambda-cycle", type=float, default=10.0, help="weight of the cycle-consistency L1")
        optim.add_argument("--lambda-identity", type=float, default=0.5, help="identity L1, times --lambda-cycle")
        optim.add_argument("--pool-size", type=int, default=50, help="generated-image history per domain")

    def new_settings(self, args: argparse.Namespace) -> tuple[CycleGANConfig, CycleGANTrainConfig]:
        model = new_model(args, CycleGANConfig)
        hyper = CycleGANHyper(lambda_cycle=args.lambda_cycle, lambda_identity=args.lambda_identity,
                              pool_size=args.pool_size, **schedule(args, REFERENCE_EPOCHS))
        return model, new_settings(args, model, hyper, CycleGANTrainConfig)

    # -- training ------------------------------------------------------------------------
    def train(self, model: CycleGANConfig, settings: CycleGANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        from translate.families.cyclegan.training import train_run  # training's modules load only to train

        return train_run(self, model, settings, run, checkpoint)


FAMILIES = [CycleGANFamily()]
