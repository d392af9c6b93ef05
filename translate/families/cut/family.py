"""The CUT family: its flags, how a run's settings are made and resumed, and how its generator
loads (networks in :mod:`.nets`, settings in :mod:`.settings`, its step in :mod:`.recipe`,
its run in :mod:`translate.families.translation_training`); export, sampling and scoring are
every translation family's (:mod:`translate.families.translation`), for its one direction."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from translate.families import translation_options as options
from translate.families.base import RunOptions
from translate.families.cut.nets import (
    DIRECTION,
    GENERATOR,
    CUTConfig,
    build_cut_generator,
    check_layers,
    nce_layers,
)
from translate.families.cut.projection import PATCHES
from translate.families.cut.settings import MODES, MONITOR_EVERY, CUTHyper, CUTTrainConfig
from translate.families.optimisation import OptimisationDefaults
from translate.families.translation import TranslationFamily
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.resnet_generator import ResnetGenerator

if TYPE_CHECKING:
    from translate.training.trainer import Trainer

# What a CPU run without a preset is told: the preset's steps at the CPU and wall time a step of its
# full run took on both cores of a 2-core AMD EPYC of family 25, model 17 (issue 31: 1.11-1.13 CPU-s,
# 0.57 s), and its scorings.
CPU_TIME = ("--preset cpu (FastCUT, PatchNCE weight 1, 128-px crops, 38 + 12 epochs: 66,700 steps) takes about "
            "21 CPU-hours, 11 hours with its scorings, on both cores of a 2-core AMD EPYC (Zen 4)")


class CUTFamily(TranslationFamily):
    """CUT and FastCUT: one generator and one discriminator, translating one way (A to B)."""

    name = "cut"
    summary = "one-way unpaired translation by patchwise contrast (CUT, FastCUT)"
    directions = (DIRECTION,)
    config_class = CUTConfig
    train_config_class = CUTTrainConfig
    generator_names = {DIRECTION: GENERATOR}
    build_generator = staticmethod(build_cut_generator)
    size_multiple = ResnetGenerator.size_multiple
    min_size = ResnetGenerator.min_size
    optimisation = OptimisationDefaults(loss="lsgan", batch_size=1, batch_help="images per process and step")
    recorded_names = {**TranslationFamily.recorded_names, "nce_lambda": "lambda_nce", "nce_patches": "patches"}
    # Named recipes: defaults for the flags, under whatever flags the user gives. "cpu" is FastCUT
    # (no identity term, flip equivariance) with PatchNCE weight 1, not the mode's 10, on 128-px
    # crops of the 256-px photos at their own scale: of three candidates given 4 CPU-hours each
    # (CUT, FastCUT with weight 10 and with 1) it scored best (docs/cut.md has the comparison).
    # Its schedule, 38 epochs and 12 of decay (the mode's 3:1), is sized to the shipped CycleGAN's
    # 20.19 CPU-hours on the 2-core Zen 4 the candidates ran on; the generator's weight average
    # from epoch 40 on; scored every 2 epochs and every epoch of the average, so that best/ is kept.
    presets = {
        "cpu": {"mode": "fastcut", "nce_lambda": 1.0, "load_size": 256, "crop_size": 128, "epochs": 38,
                "epochs_decay": 12, "average_from_epoch": 40, "precision": "auto", "compile": True,
                "eval_every": 2, "eval_every_averaged": 1},
    }

    # -- command line --------------------------------------------------------------------
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        decays = ", ".join(f"{mode.epochs[1]} for {name}" for name, mode in MODES.items())
        options.add_translation_options(parser, optim, decays)
        optim.add_argument("--mode", choices=sorted(MODES),
                           help="cut (default): PatchNCE weight 1 with the identity term on the target domain, "
                           "200 + 200 epochs; fastcut: weight 10, no identity term, flip equivariance, 150 + 50")
        optim.add_argument("--nce-lambda", type=float, metavar="WEIGHT",
                           help="PatchNCE's weight (default: the mode's, 1 or 10)")
        optim.add_argument("--nce-patches", type=int, default=PATCHES,
                           help=f"patches PatchNCE compares per layer and image (default {PATCHES})")
        parser.add_argument("--antialias", action="store_true",
                            help="anti-aliased down- and up-sampling in the generator, as the reference's default: "
                            "those convolutions run at twice the resolution (off by default)")
        optim.add_argument("--monitor-every", type=int, default=MONITOR_EVERY, metavar="STEPS",
                           help="steps between the identity- and mode-collapse measures written to metrics.jsonl "
                           f"(default {MONITOR_EVERY})")

    def new_settings(self, args: argparse.Namespace) -> tuple[CUTConfig, CUTTrainConfig]:
        model = options.new_model(args, CUTConfig, antialias=args.antialias)
        mode_name = args.mode or "cut"
        mode = MODES[mode_name]
        layers = nce_layers(model.n_blocks)
        check_layers(layers, model.n_blocks)
        hyper = CUTHyper(mode=mode_name, lambda_nce=mode.lambda_nce if args.nce_lambda is None else args.nce_lambda,
                         nce_identity=mode.nce_identity, flip_equivariance=mode.flip_equivariance, nce_layers=layers,
                         patches=args.nce_patches, monitor_every=args.monitor_every,
                         **options.schedule(args, mode.epochs))
        return model, options.new_settings(args, model, hyper, CUTTrainConfig)

    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[CUTConfig, CUTTrainConfig]:
        model, settings = super().resumed_settings(checkpoint, args)
        check_layers(settings.hyper.nce_layers, model.n_blocks)
        return model, settings

    # -- training ------------------------------------------------------------------------
    def train(self, model: CUTConfig, settings: CUTTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        # Training's modules load only to train.
        from translate.families.cut.recipe import CUTRecipe
        from translate.families.translation_training import train_translation, unpaired_data

        return train_translation(self, model, settings, run, checkpoint, unpaired_data(self, model, settings, run),
                                 CUTRecipe, CPU_TIME)


FAMILIES = [CUTFamily()]
