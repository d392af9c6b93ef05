"""The CycleGAN family: its flags and presets, configs, training run (data, distribution,
evaluation during training), generator loading, ONNX export and scoring (networks in
:mod:`.nets`, the step in :mod:`.recipe`)."""

from __future__ import annotations

import argparse
import math
import reprlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from translate.config import ConfigBase
from translate.errors import ConfigError, DataError
from translate.evaluation.protocols import EvaluationRequest, TranslationScorer
from translate.families.base import Family, RunOptions
from translate.families.cyclegan.nets import DIRECTIONS, GENERATOR_NAMES, CycleGANConfig, ResnetGenerator
from translate.families.cyclegan.recipe import AVERAGE_NAMES, CycleGANHyper, CycleGANRecipe, cycle_grid
from translate.io.download import download_cyclegan_dataset
from translate.io.fileio import read_json_if_exists, replace_folder, write_json
from translate.modeling.device import run_precision, select_device
from translate.modeling.inference import MIN_SIZE, PAD_MULTIPLE
from translate.modeling.losses import LOSS_NAMES
from translate.onnx_contract import ModelInfo
from translate.onnx_export import ExportPlan
from translate.training import distributed
from translate.training.checkpoint import Checkpoint, build_loaded, model_config, train_config, write_model_folder
from translate.training.data import resolve_data_root
from translate.training.domains import (
    DomainFolders,
    UnpairedImages,
    UnpairedSource,
    check_sizes,
    domain_files,
    find_domains,
    fixed_images,
    resized_images,
)
from translate.training.optim import check_seed
from translate.training.trainer import Evaluator, RunSpec, Trainer

GRID_IMAGES = 4  # fixed test images per domain in a sample grid
BEST_RECORD = "evaluation.json"  # in RUN/best: the scores that made those generators the best
GRID_SIDE = 256  # translate.sample's grid cells: the reference datasets' photo size, as FID is scored at
REFERENCE_EPOCHS = (100, 100)  # epochs at the full learning rate, then of linear decay to zero
# What --gpu without CUDA suggests instead; the times are the preset's 80,040 steps and 30
# scorings as its runs measured them on this project's 2-core machines: 0.78-0.84 s a step and
# 94-102 s a scoring on the Intel CPU with AMX, 1.49-1.60 s and 187 s on the AMD EPYC.
PRESET_CPU_TIME = ("--preset cpu trains the reference networks on 128-px crops in 18 to 36 hours "
                   "(2 cores with native bf16: an Intel CPU with AMX to an AMD EPYC)")
# Norms whose layers keep no weight-dependent buffers: the only ones a weight average fits.
AVERAGEABLE_NORMS = ("instance", "layer", "none")
CPU_HINT = f"; on a CPU, {PRESET_CPU_TIME}"


@dataclass
class CycleGANTrainConfig(ConfigBase):
    """What a CycleGAN checkpoint records about its training (``config.json``'s ``train``)."""

    domains: list[str]
    load_size: int
    batch_size: int
    seed: int
    hyper: CycleGANHyper
    world_size: int = 1
    precision: str | None = None  # fp32 or bf16; None in runs from before --precision
    compile: bool = False
    eval_every: int | None = None  # epochs between FID/KID scores on the test sets
    preset: str | None = None  # the named recipe the run started from, if any

    def validate(self) -> None:
        if len(self.domains) != 2 or not all(self.domains):
            raise ConfigError(f"domains must be two names, got {self.domains}")
        if self.load_size < 1 or self.batch_size < 1 or self.world_size < 1:
            raise ConfigError("--load-size, --batch-size and the number of processes must be positive")
        if self.eval_every is not None and self.eval_every < 0:
            raise ConfigError(f"--eval-every must be 0 (off) or more, got {self.eval_every}")
        check_seed(self.seed)


class CycleGANFamily(Family):
    name = "cyclegan"
    summary = "unpaired translation between two domains"
    task = "translate"
    directions = DIRECTIONS
    grid_count = 4
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
    def add_train_options(self, parser: argparse.ArgumentParser) -> None:
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
        optim = parser.add_argument_group("optimisation")
        optim.add_argument("--loss", default="lsgan", help=f"one of {', '.join(LOSS_NAMES)}")
        optim.add_argument("--lambda-cycle", type=float, default=10.0, help="weight of the cycle-consistency L1")
        optim.add_argument("--lambda-identity", type=float, default=0.5, help="identity L1, times --lambda-cycle")
        optim.add_argument("--pool-size", type=int, default=50, help="generated-image history per domain")
        optim.add_argument("--batch-size", type=int, default=1, help="images per process and step")
        optim.add_argument("--lr", type=float, default=2e-4)
        optim.add_argument("--beta1", type=float, default=0.5)
        optim.add_argument("--beta2", type=float, default=0.999)
        optim.add_argument("--epochs-decay", type=int,
                           help=f"epochs of linear decay to zero after --epochs (default {REFERENCE_EPOCHS[1]})")
        optim.add_argument("--gp-weight", type=float, default=10.0, help="gradient penalty lambda for wgan-gp")
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
        model = model_config(checkpoint, CycleGANConfig)
        settings = train_config(checkpoint, CycleGANTrainConfig)
        if args.domains and list(args.domains) != settings.domains:
            raise ConfigError(f"--domains {' '.join(args.domains)} differ from the run's {' '.join(settings.domains)}")
        hyper = settings.hyper
        hyper.epochs = args.epochs or hyper.epochs
        hyper.epochs_decay = hyper.epochs_decay if args.epochs_decay is None else args.epochs_decay
        hyper.validate()
        if args.compile is not None:
            settings.compile = args.compile
        if args.eval_every is not None:
            settings.eval_every = args.eval_every
        settings.validate()
        return model, settings

    # -- training ------------------------------------------------------------------------
    def train(self, model: CycleGANConfig, settings: CycleGANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        folders = _domain_folders(resolve_data_root(run.data), settings.domains, run.download)
        if folders.note:
            print(f"note: {folders.note}", file=sys.stderr)
        size = model.image_size
        dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), settings.load_size,
                                 size, settings.seed, model.channels)
        fixed = tuple(fixed_images(test or train, GRID_IMAGES, size, model.channels)
                      for test, train in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)))
        context = distributed.setup(select_device(run.gpu, CPU_HINT))
        try:
            if checkpoint is not None and settings.world_size != context.world_size:
                raise ConfigError(f"this run was trained on {settings.world_size} processes: resume it on as many "
                                  f"(torchrun --nproc_per_node {settings.world_size})")
            settings.world_size = context.world_size
            settings.precision = run_precision(run.precision, settings.precision, context.device,
                                               checkpoint is not None)
            source = UnpairedSource(dataset, settings.batch_size, settings.seed, run.workers,
                                    context.device.type == "cuda", context.rank, context.world_size)
            torch.manual_seed(settings.seed)
            recipe = CycleGANRecipe(model, settings.hyper, context, fixed, settings.seed, compile=settings.compile,
                                    skip_nonfinite=run.skip_nonfinite, precision=settings.precision)
            hyper = settings.hyper
            spec = RunSpec(run_dir=run.out, family=self.name, model_config=model.to_dict(),
                           train_config=settings.to_dict(), epochs=hyper.epochs + hyper.epochs_decay,
                           max_steps=run.max_steps, save_every_steps=run.save_every_steps, log_every=run.log_every,
                           eval_every=settings.eval_every)
            evaluator = None
            if settings.eval_every and context.rank == 0:
                request = EvaluationRequest(resolve_data_root(run.data), context.device, fid_weights=run.fid_weights)
                try:
                    evaluator = _best_keeping_evaluator(model, recipe, request, run.out / "best")
                except ConfigError as exc:  # no FID network: say how to train without the scores too
                    raise ConfigError(f"{exc}; or pass --eval-every 0 to train without FID scores") from None
            trainer = Trainer(spec, recipe, source, context, evaluator)
            if checkpoint is not None:
                trainer.resume(checkpoint)
            elif context.device.type == "cpu" and settings.preset is None and context.rank == 0:
                print(f"note: training on the CPU without a preset may take days: {PRESET_CPU_TIME}", file=sys.stderr)
            trainer.fit()
            return trainer
        finally:
            distributed.shutdown(context)

    # -- a trained model -----------------------------------------------------------------
    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module,
                                                                                           CycleGANConfig]:
        """One generator (``AtoB`` by default, or ``BtoA``) in eval mode, with its config; a
        run trained with ``--average-from-epoch`` gives its weight average, the model it ships."""
        direction = self.check_direction(direction, checkpoint)
        config = model_config(checkpoint, CycleGANConfig)
        average = AVERAGE_NAMES[direction]
        prefix = average if checkpoint.has_weights(average) else GENERATOR_NAMES[direction]
        return build_loaded(lambda: ResnetGenerator(config), checkpoint, prefix).eval(), config

    def generator_prefix(self, direction: str | None) -> str:
        return GENERATOR_NAMES[direction or "AtoB"]

    def export_plan(self, checkpoint: Checkpoint, direction: str | None = None) -> ExportPlan:
        direction = self.check_direction(direction, checkpoint)
        generator, config = self.load_generator(checkpoint, direction)
        source, target = (config.domain_a, config.domain_b) if direction == "AtoB" else (config.domain_b,
                                                                                          config.domain_a)
        gen = torch.Generator().manual_seed(1234)
        # 256 square, a non-square batch of 2, and 75 x 101 after padding to 76 x 104.
        shapes = [(1, 256, 256), (2, 128, 192), (1, 76, 104)]
        check_inputs = [(torch.rand(n, config.channels, h, w, generator=gen) * 2 - 1,) for n, h, w in shapes]
        info = ModelInfo(
            family=self.name, task=self.task, channels=config.channels, pad_multiple=PAD_MULTIPLE,
            min_size=MIN_SIZE, image_size=config.image_size, direction=direction, source_domain=source,
            target_domain=target,
            extra={"padding": "reflect, split evenly between the sides; crop the output back to the input size"},
        )
        return ExportPlan(
            module=generator,
            input_names=["image"],
            output_names=["translated"],
            dynamic_axes={name: {0: "batch", 2: "height", 3: "width"} for name in ("image", "translated")},
            check_inputs=check_inputs,
            info=info,
        )

    def sample(self, checkpoint: Checkpoint, n: int, label: int | None, seed: int, device: torch.device,
               data: str | None = None, truncation: float | None = None) -> tuple[torch.Tensor, int]:
        """``n`` rows of the domains' test images (chosen by ``seed``; the training images where a
        domain has no test set) at GRID_SIDE px with their translations and round trips back."""
        for flag, value, models in (("--label", label, "conditional digit models"),
                                    ("--truncation", truncation, "models that draw from latent codes")):
            if value is not None:
                raise ConfigError(f"{flag} applies to {models}; {checkpoint.path} is a {self.name} "
                                  "model (its grid shows test images and their translations)")
        config = model_config(checkpoint, CycleGANConfig)
        folders = _domain_folders(resolve_data_root(data), [config.domain_a, config.domain_b], download=False)
        rng = np.random.default_rng(seed)
        inputs = []
        for test, train in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)):
            files = domain_files(test or train)
            if n > len(files):
                raise ConfigError(f"--n {n} asks for more rows than the {len(files)} images of {test or train}")
            chosen = [files[i] for i in rng.permutation(len(files))]  # unreadable ones are passed over
            inputs.append(resized_images(chosen, n, GRID_SIDE, config.channels, test or train).to(device))
        a_to_b, b_to_a = (self.load_generator(checkpoint, d)[0].to(device) for d in self.directions)
        return cycle_grid(a_to_b, b_to_a, *inputs)

    def evaluate(self, checkpoint: Checkpoint, request: EvaluationRequest) -> dict[str, Any]:
        request.validate()
        if request.truncation is not None:
            raise ConfigError("--truncation applies to models that draw codes (dcgan, cdcgan); a CycleGAN translates "
                              "photos and draws none: leave it out")
        generators, config = {}, None
        for direction in self.directions:
            generator, config = self.load_generator(checkpoint, direction)
            generators[direction] = generator.to(request.device)
        scorer = TranslationScorer((config.domain_a, config.domain_b), config.channels, request)
        return scorer.score(generators)


def _domain_folders(data_root: Path, domains: list[str], download: bool) -> DomainFolders:
    """The domains' folders; with --download, fetched first when they are missing."""
    try:
        return find_domains(data_root, *domains)
    except DataError:
        if not download:
            raise
    download_cyclegan_dataset(f"{domains[0]}2{domains[1]}", data_root)
    return find_domains(data_root, *domains)


def _best_keeping_evaluator(config: CycleGANConfig, recipe: CycleGANRecipe, request: EvaluationRequest,
                            best_dir: Path) -> Evaluator:
    """--eval-every: FID and KID on the test sets, both directions, of the generators the run
    ships (their average once it has begun); those with the best A-to-B FID so far are kept
    as a model folder, ``best_dir``."""
    best = _best_so_far(best_dir / BEST_RECORD)
    scorer = TranslationScorer((config.domain_a, config.domain_b), config.channels, request)

    def evaluate(epoch: int) -> dict[str, float]:
        generators = recipe.shipped_generators()
        scores = scorer.score(generators)
        flat = {f"{name}/{metric}": value[metric] for name, value in scores.items() if name != "protocol"
                for metric in ("fid", "kid_mean")}
        averaged = {} if recipe.average is None else {"generators_averaged": recipe.average.count}
        flat.update(averaged)  # 0: the trained generators, the average not begun yet
        primary = next(v["fid"] for v in scores.values() if v.get("direction") == "AtoB")
        if primary < best.get("fid", float("inf")):
            best.clear()
            best.update(fid=primary, epoch=epoch, scores=scores, **averaged)
            keep_best(best_dir, config, {GENERATOR_NAMES[d]: net for d, net in generators.items()}, best)
        return flat

    return evaluate


def keep_best(best_dir: Path, config: CycleGANConfig, generators: dict[str, nn.Module], record: dict[str, Any]) -> None:
    """Write ``best_dir`` as a model folder of ``generators`` with their scores, ``record``, in
    place of the one before as a whole: never the weights of one epoch with the scores of another."""

    def write(folder: Path) -> None:
        write_model_folder(folder, "cyclegan", config.to_dict(), generators)
        write_json(folder / BEST_RECORD, record)

    replace_folder(best_dir, write)


def _best_so_far(record: Path) -> dict[str, Any]:
    """The record of ``best/`` (empty when there is none yet), checked when the run starts: a
    damaged one would otherwise fail the first scoring, an epoch later, or (a NaN FID) keep
    ``best/`` from ever being replaced."""
    if not record.exists():
        return {}
    best = read_json_if_exists(record)  # a FIFO there is refused, not waited on
    if isinstance(best, dict):
        fid = best.get("fid")
        if isinstance(fid, (int, float)) and not isinstance(fid, bool) and 0 <= fid < math.inf:
            return best
        found = f"its fid is {reprlib.repr(fid)}, not a FID"
    else:
        found = "not JSON" if best is None else f"a JSON {type(best).__name__} where an object belongs"
    raise ConfigError(f"{record} is damaged ({found}): remove {record.parent} to keep the best generators afresh, "
                      "or put back the record the run wrote")


FAMILIES = [CycleGANFamily()]
