"""The pix2pix family: its flags, how a run's settings are made and resumed, how its generator
loads, the sizes it takes (2**depth), and what its paired data changes in what every
translation family does: the sample grid shows each input, its translation and its target,
and scoring compares each translation with its target (:mod:`translate.evaluation.paired`).
Networks in :mod:`.nets`, settings in :mod:`.settings`, the run in :mod:`.training`, its
step in :mod:`.recipe`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import numpy as np
import torch

from translate.datasets.domains import check_sizes
from translate.datasets.paired import find_paired, read_pairs, recorded_domains, resized_pairs
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError, DataError
from translate.evaluation.paired import PairedScorer
from translate.evaluation.protocols import EvaluationRequest
from translate.families import translation_options as options
from translate.families.base import RunOptions
from translate.families.optimisation import OptimisationDefaults
from translate.families.pix2pix.nets import GENERATOR, Pix2PixConfig, build_generator
from translate.families.pix2pix.settings import REFERENCE_EPOCHS, Pix2PixHyper, Pix2PixTrainConfig
from translate.families.translation import GRID_SIDE, TranslationFamily
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.unet_generator import unet_sizes

if TYPE_CHECKING:
    from translate.training.trainer import Trainer


class Pix2PixFamily(TranslationFamily):
    """pix2pix: a U-Net trained on pairs, one way (A to B); its input sizes follow its depth."""

    name = "pix2pix"
    summary = "paired translation (a U-Net and a conditional PatchGAN, Isola et al. 2017)"
    directions = ("AtoB",)
    config_class = Pix2PixConfig
    train_config_class = Pix2PixTrainConfig
    generator_names = {"AtoB": GENERATOR}
    build_generator = staticmethod(build_generator)
    grid_count = 4
    optimisation = OptimisationDefaults(loss="bce", batch_size=1, batch_help="pairs per process and step")
    # Named recipes: defaults for the flags, under whatever flags the user gives. "cpu" is the
    # recipe of the edges -> zebra run that is to ship as models/pix2pix-edges2zebra (its card
    # will have the run and its L1-only baseline): 128-px crops of 256-px pairs, so a model
    # applies to whole 256-px drawings; depth 6, which leaves a 2x2 bottleneck at 128 px (at
    # depth 7, 1x1, the 256-px scoring would use taps that never trained); resize-convolution
    # upsampling, which cannot draw the checkerboard of transposed convolutions; 9 epochs and 9
    # of decay (the reference's 100 + 100 are far beyond a CPU's hours; 4 + 4 were too few for
    # the GAN to beat its L1-only baseline: 326.8 against 307.4 FID when stopped, session 44),
    # the generator's weight average from epoch 4, scored every epoch so that best/ is kept.
    presets = {
        "cpu": {"load_size": 256, "crop_size": 128, "depth": 6, "upsample": "resize", "epochs": 9,
                "epochs_decay": 9, "average_from_epoch": 4, "eval_every": 1, "precision": "auto"},
    }

    def input_sizes(self, config: Pix2PixConfig) -> tuple[int, int]:
        """A multiple of 2**depth a side, at least that: the U-Net halves it ``depth`` times."""
        return unet_sizes(config.depth)

    # -- command line --------------------------------------------------------------------
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        parser.add_argument("--download", action="store_true",
                            help="fetch a pix2pix dataset (facades, maps, edges2shoes...) into --data if missing")
        data = parser.add_argument_group("data")
        data.add_argument("--dataset", help="<data>/NAME: {train,val,test}/ of side-by-side pairs, or A/ and B/ "
                          "of same-named files (e.g. facades, or what python -m translate.pairs wrote)")
        data.add_argument("--reverse", action="store_true",
                          help="translate the B side into the A side (the reference's --direction BtoA, e.g. "
                          "facades' labels to photos)")
        data.add_argument("--domains", nargs=2, metavar=("A", "B"),
                          help="names of the input and output sides (default: those translate.pairs recorded, "
                          "else A B)")
        options.add_image_options(data, "random crop, the same for both halves (a multiple of 2**depth)")
        model = parser.add_argument_group("model")
        options.add_network_options(model, "instance_affine (default: what the reference's batch norm computes "
                                    "with its batch of 1, a per-image norm with a learned scale and shift, in "
                                    "training and in its train-mode tests; an eval-mode batch norm would use "
                                    "running statistics instead)", norm_default="instance_affine")
        model.add_argument("--depth", type=int, default=8,
                           help="U-Net levels: 8 for 256 px (the reference's unet_256), 7 for 128 px")
        model.add_argument("--dropout", action=argparse.BooleanOptionalAction, default=True,
                           help="the reference's 0.5 dropout on the U-Net's full-width decoder levels (default on)")
        optim.add_argument("--lambda-l1", type=float, default=100.0, help="weight of the L1 term (default 100)")
        optim.add_argument("--l1-only", action="store_true",
                           help="no discriminator: the generator learns the L1 term alone (the paper's blurry "
                           "baseline)")
        options.add_schedule_options(parser, optim, str(REFERENCE_EPOCHS[1]),
                                     "FID, L1, PSNR and SSIM on the test pairs")

    def new_settings(self, args: argparse.Namespace) -> tuple[Pix2PixConfig, Pix2PixTrainConfig]:
        if not args.dataset:
            raise ConfigError("name the paired dataset: --dataset NAME (e.g. --dataset facades --download)")
        names = args.domains or recorded_domains(resolve_data_root(args.data) / args.dataset) or ("A", "B")
        domain_a, domain_b = names[::-1] if args.reverse and not args.domains else names
        model = Pix2PixConfig(channels=args.channels, ngf=args.ngf, ndf=args.ndf, depth=args.depth,
                              n_layers=args.n_layers, norm=args.norm, dropout=args.dropout,
                              upsample=args.upsample, image_size=args.crop_size, domain_a=domain_a,
                              domain_b=domain_b, dataset=args.dataset, reverse=args.reverse)
        model.validate()
        check_sizes(args.load_size, args.crop_size)
        hyper = Pix2PixHyper(lambda_l1=args.lambda_l1, l1_only=args.l1_only,
                             **options.schedule(args, REFERENCE_EPOCHS))
        return model, options.new_settings(args, model, hyper, Pix2PixTrainConfig)

    # -- training ------------------------------------------------------------------------
    def train(self, model: Pix2PixConfig, settings: Pix2PixTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        from translate.families.pix2pix.training import train_run  # training's modules load only to train

        return train_run(self, model, settings, run, checkpoint)

    # -- paired data in the grid and the scores -------------------------------------------
    def grid_images(self, config: Pix2PixConfig, n: int, seed: int, device: torch.device,
                    data: str | None) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``n`` test pairs (chosen by ``seed``; training pairs where there is no test split):
        inputs and their targets."""
        found = find_paired(resolve_data_root(data), config.dataset)
        pairs = found.test or found.train
        if n > len(pairs):
            raise ConfigError(f"--n {n} asks for more rows than the {len(pairs)} pairs of {found.folder}: "
                              f"pass --n {len(pairs)} or fewer")
        chosen = [pairs[i] for i in np.random.default_rng(seed).permutation(len(pairs))]
        inputs, targets = resized_pairs(chosen, n, GRID_SIDE, config.channels, config.reverse)
        return {"AtoB": inputs.to(device)}, {"AtoB": targets.to(device)}

    def scorer(self, config: Pix2PixConfig, request: EvaluationRequest) -> PairedScorer:
        """Scores on the dataset's test pairs (``test``, else ``val``)."""
        found = find_paired(request.data_root, config.dataset)
        if found.test_split is None:
            raise DataError(f"scoring needs test pairs: {found.folder}/test (or val) was not found")
        inputs, targets = read_pairs(found.test, config.channels, config.reverse)
        return PairedScorer(inputs, targets, (config.domain_a, config.domain_b),
                            f"{config.dataset}/{found.test_split}", request, *self.input_sizes(config))


FAMILIES = [Pix2PixFamily()]
