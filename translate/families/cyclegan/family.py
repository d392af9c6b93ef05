"""The CycleGAN family: its flags and presets, how a run's settings are made and resumed, and
how its generators load (networks in :mod:`.nets`, settings in :mod:`.settings`, the
training run in :mod:`.training`, its step in :mod:`.recipe`); export, sampling and scoring
are every translation family's (:mod:`translate.families.translation`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from torch import nn

from translate.datasets.domains import check_sizes
from translate.errors import ConfigError
from translate.families.base import RunOptions
from translate.families.cyclegan.nets import (
    AVERAGE_NAMES,
    DIRECTIONS,
    GENERATOR_NAMES,
    CycleGANConfig,
    build_generator,
)
from translate.families.cyclegan.settings import (
    AVERAGEABLE_NORMS,
    REFERENCE_EPOCHS,
    CycleGANHyper,
    CycleGANTrainConfig,
)
from translate.families.optimisation import OptimisationDefaults
from translate.families.resuming import resume_flags
from translate.families.translation import TranslationFamily
from translate.modeling.checkpoint import Checkpoint, build_loaded, train_config
from translate.modeling.resnet_generator import ResnetGenerator

if TYPE_CHECKING:
    from translate.training.trainer import Trainer


class CycleGANFamily(TranslationFamily):
    name = "cyclegan"
    summary = "unpaired translation between two domains"
    directions = DIRECTIONS
    config_class = CycleGANConfig
    size_multiple = ResnetGenerator.size_multiple
    min_size = ResnetGenerator.min_size
    optimisation = OptimisationDefaults(loss="lsgan", batch_size=1, batch_help="images per process and step")
    # Named recipes: defaults for the flags, under whatever flags the user gives. "cpu" is the
    # reference networks (ngf 64, 9 blocks) on 128-px crops of the photos at their own scale:
    # of five candidates given the same CPU time it scored best (the README has the
    # comparison). Its schedule, 30 epochs and 30 of decay (0.3 of the reference's steps), and
    # the generators' weight average from epoch 33 on are those of the run that trained
    # models/cyclegan-horse2zebra (its model card has the FID over training).
    presets = {
        "cpu": {"ngf": 64, "n_blocks": 9, "load_size": 256, "crop_size": 128, "lambda_identity": 0.5,
                "epochs": 30, "epochs_decay": 30, "average_from_epoch": 33, "precision": "auto", "compile": True,
                "eval_every": 2},
    }

    # -- command line --------------------------------------------------------------------
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        parser.add_argument("--download", action="store_true",
                            help="fetch the CycleGAN paper's A2B dataset (e.g. horse2zebra) into --data if missing")
        parser.add_argument("--preset", choices=sorted(self.presets),
                            help="a recipe's defaults under the flags given: 'cpu' trains in hours on a CPU")
        data = parser.add_argument_group("data")
        data.add_argument("--domains", nargs=2, metavar=("A", "B"),
                          help="<data>/A2B/{trainA,trainB} or <data>/A/ and <data>/B/ (e.g. horse zebra)")
        data.add_argument("--load-size", type=int, default=286, help="resize to this square before cropping")
        data.add_argument("--crop-size", type=int, default=256, help="random crop (the training image size)")
        data.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3: RGB (default); 1: grey")
        model = parser.add_argument_group("model")
        model.add_argument("--ngf", type=int, default=64)
        model.add_argument("--ndf", type=int, default=64)
        model.add_argument("--n-blocks", type=int, default=9, help="residual blocks: 9 for 256 px, 6 for 128 px")
        model.add_argument("--n-layers", type=int, default=3, help="PatchGAN depth (3: 70x70 patches)")
        model.add_argument("--norm", default="instance")
        model.add_argument("--upsample", choices=("transpose", "resize"), default="transpose")
        optim.add_argument("--lambda-cycle", type=float, default=10.0, help="weight of the cycle-consistency L1")
        optim.add_argument("--lambda-identity", type=float, default=0.5, help="identity L1, times --lambda-cycle")
        optim.add_argument("--pool-size", type=int, default=50, help="generated-image history per domain")
        optim.add_argument("--epochs-decay", type=int,
                           help=f"epochs of linear decay to zero after --epochs (default {REFERENCE_EPOCHS[1]})")
        optim.add_argument("--average-from-epoch", type=int, default=0, metavar="EPOCH",
                           help="from this epoch on, average the generators' weights (uniformly, every "
                           "--average-every steps); the average is what the run samples, scores and ships; "
                           "0: no average (default)")
        optim.add_argument("--average-every", type=int, default=500, metavar="STEPS",
                           help="steps between the weights the average takes (default 500)")
        run = parser.add_argument_group("speed and evaluation")
        run.add_argument("--compile", action=argparse.BooleanOptionalAction,
                         help="torch.compile the networks: a minute or more of compiling, then faster steps "
                         "(on --resume the run's own)")
        run.add_argument("--eval-every", type=int, metavar="EPOCHS",
                         help="score FID and KID on the test sets every N epochs and after the last; keep the "
                         "best generators in RUN/best; 0: off (on --resume the run's own)")

    def new_settings(self, args: argparse.Namespace) -> tuple[CycleGANConfig, CycleGANTrainConfig]:
        if not args.domains:
            raise ConfigError("name the two domains: --domains A B (e.g. --domains horse zebra)")
        domain_a, domain_b = args.domains
        model = CycleGANConfig(channels=args.channels, ngf=args.ngf, ndf=args.ndf, n_blocks=args.n_blocks,
                               n_layers=args.n_layers, norm=args.norm, upsample=args.upsample,
                               image_size=args.crop_size, domain_a=domain_a, domain_b=domain_b)
        model.validate()
        check_sizes(args.load_size, args.crop_size)
        epochs, decay = REFERENCE_EPOCHS
        hyper = CycleGANHyper(loss=args.loss, lambda_cycle=args.lambda_cycle, lambda_identity=args.lambda_identity,
                              pool_size=args.pool_size, lr=args.lr, beta1=args.beta1, beta2=args.beta2,
                              epochs=args.epochs or epochs,
                              epochs_decay=decay if args.epochs_decay is None else args.epochs_decay,
                              gp_weight=args.gp_weight, average_from_epoch=args.average_from_epoch,
                              average_every=args.average_every)
        hyper.validate()
        if hyper.average_from_epoch and model.norm not in AVERAGEABLE_NORMS:
            raise ConfigError(f"--average-from-epoch needs a norm without running statistics or power-iteration "
                              f"vectors, which averaged weights would not fit: use --norm "
                              f"{' / '.join(AVERAGEABLE_NORMS)} or --average-from-epoch 0, not --norm {model.norm}")
        settings = CycleGANTrainConfig(domains=[domain_a, domain_b], load_size=args.load_size,
                                       batch_size=args.batch_size, seed=args.seed, hyper=hyper,
                                       compile=bool(args.compile), eval_every=args.eval_every, preset=args.preset)
        settings.validate()
        return model, settings

    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[CycleGANConfig,
                                                                                          CycleGANTrainConfig]:
        model = self.model_config(checkpoint)
        settings = train_config(checkpoint, CycleGANTrainConfig)
        if args.domains and list(args.domains) != settings.domains:
            raise ConfigError(f"--domains {' '.join(args.domains)} differ from the run's {' '.join(settings.domains)}")
        resume_flags(settings, args)
        return model, settings

    # -- training ------------------------------------------------------------------------
    def train(self, model: CycleGANConfig, settings: CycleGANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        from translate.families.cyclegan.training import train_run  # training's modules load only to train

        return train_run(self, model, settings, run, checkpoint)

    # -- a trained model -----------------------------------------------------------------
    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module,
                                                                                           CycleGANConfig]:
        """One generator (``AtoB`` by default, or ``BtoA``) in eval mode, with its config; a
        run trained with ``--average-from-epoch`` gives its weight average, the model it ships."""
        direction = self.check_direction(direction, checkpoint)
        config = self.model_config(checkpoint)
        average = AVERAGE_NAMES[direction]
        prefix = average if checkpoint.has_weights(average) else GENERATOR_NAMES[direction]
        return build_loaded(lambda: build_generator(config), checkpoint, prefix).eval(), config

    def generator_prefix(self, direction: str | None) -> str:
        return GENERATOR_NAMES[direction or "AtoB"]


FAMILIES = [CycleGANFamily()]
