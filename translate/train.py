"""Command line: ``python -m translate.train {dcgan,cdcgan,cyclegan} [options]``.

On ``--resume`` the architecture and optimisation settings come from the run's
checkpoint; run-length flags (``--epochs``, ``--max-steps``), ``--data``, ``--gpu``,
``--workers`` and ``--skip-nonfinite`` come from the command line. Ctrl-C stops after
the current step with a checkpoint (press it twice to stop at once, without one).
``cyclegan`` also trains on several processes:
``torchrun --nproc_per_node N -m translate.train cyclegan ...``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from translate.cli import run_cli, select_device
from translate.errors import CheckpointError, ConfigError, DataError
from translate.families.cyclegan.nets import GENERATOR_NAMES, CycleGANConfig
from translate.families.cyclegan.recipe import CycleGANHyper, CycleGANRecipe
from translate.families.dcgan.nets import BASE_SIZES, DCGANConfig
from translate.families.dcgan.recipe import GANHyper, GANRecipe
from translate.io.download import download_cyclegan_dataset
from translate.io.fileio import check_writable, read_json_if_exists, write_json
from translate.modeling.losses import LOSS_NAMES
from translate.training import distributed
from translate.training.checkpoint import Checkpoint, model_config, read_checkpoint, write_model_folder
from translate.training.data import FolderSource, ImageFolder, TensorSource, mnist_images, resolve_data_root
from translate.training.device import PRECISIONS, autocast, resolve_precision
from translate.training.domains import (
    DomainFolders,
    UnpairedImages,
    UnpairedSource,
    domain_files,
    find_domains,
    fixed_images,
)
from translate.training.trainer import Evaluator, RunSpec, Trainer

# Per-loss defaults from the papers: WGAN-GP trains a layer-normed critic 5x per G step.
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "wgan-gp": {"n_critic": 5, "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_norm": "layer"},
}
GENERIC_DEFAULTS = {"n_critic": 1, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "d_norm": "batch"}
GRID_IMAGES = 4  # fixed test images per domain in a CycleGAN sample grid

# Named recipes: defaults for the cyclegan flags, under whatever flags the user gives.
# "cpu" was chosen by measurement on a 2-core CPU (see models/cyclegan-horse2zebra/README.md).
PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {"ngf": 32, "n_blocks": 9, "load_size": 256, "crop_size": 128, "lambda_identity": 0.5,
            "epochs": 25, "epochs_decay": 25, "precision": "auto", "compile": True, "eval_every": 5},
}
CPU_HINT = "; without a GPU, --preset cpu trains a smaller model in hours (see the README)"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def default_workers(most: int) -> int:
    """Data-loader processes: ``most``, or as many as this process may run on if that is fewer."""
    return max(1, min(most, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def run_precision(requested: str | None, recorded: str | None, device: torch.device) -> str:
    """The precision to train in: the flag's; else on --resume the run's own (runs from before
    --precision trained in bf16 on CUDA, fp32 on the CPU); else ``auto``."""
    if requested is None and recorded is not None:
        return recorded
    return resolve_precision(requested or "auto", device)


def _common(parser: argparse.ArgumentParser, epochs: int | None, epochs_help: str, workers: int) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--data", help="data folder (default: $TRANSLATE_DATA, else ./data)")
    run.add_argument("--out", type=Path, help="run folder for checkpoints, samples and logs")
    run.add_argument("--epochs", type=_positive, default=epochs, help=epochs_help)
    run.add_argument("--max-steps", type=_positive, help="stop after this many optimisation steps in total")
    run.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--gpu", action="store_true", help="train on CUDA")
    run.add_argument("--precision", choices=PRECISIONS,
                     help="auto: bf16 autocast on CUDA and on CPUs that compute bf16 natively (AMX, AVX512-BF16), "
                     "else fp32 (default auto; on --resume the run's own)")
    run.add_argument("--workers", type=_non_negative, default=workers, help="data loader processes for image folders")
    run.add_argument("--save-every-steps", type=_positive, help="also checkpoint every N steps")
    run.add_argument("--log-every", type=_positive, default=50, help="TensorBoard scalars every N steps")
    run.add_argument("--skip-nonfinite", action="store_true",
                     help="skip a step whose loss or gradients are NaN or infinite instead of stopping")


def _gan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--download", action="store_true", help="fetch MNIST with torchvision if missing")
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", choices=("mnist", "folder"), default="mnist")
    data.add_argument("--image-size", type=int, default=28, choices=sorted(BASE_SIZES))
    data.add_argument("--channels", type=int, choices=(1, 3), help="default: 1 for MNIST, 3 for folders")
    model = parser.add_argument_group("model")
    model.add_argument("--z-dim", type=_positive, default=100)
    model.add_argument("--ngf", type=_positive, default=64)
    model.add_argument("--ndf", type=_positive, default=64)
    model.add_argument("--g-norm", default="batch")
    model.add_argument("--d-norm", help="default: batch, or layer for wgan-gp (no batch norm in a critic)")
    model.add_argument("--upsample", choices=("transpose", "resize"), default="transpose")
    model.add_argument("--fc-width", type=_non_negative, default=0,
                       help="fully connected hidden layer after the code (G) and before the logit (D), "
                       "as in InfoGAN's MNIST networks (e.g. 1024); 0: plain DCGAN")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--loss", default="bce", help=f"one of {', '.join(LOSS_NAMES)}")
    optim.add_argument("--batch-size", type=_positive, default=128)
    optim.add_argument("--lr", type=float, help="default 2e-4 (1e-4 for wgan-gp)")
    optim.add_argument("--beta1", type=float, help="default 0.5 (0.0 for wgan-gp)")
    optim.add_argument("--beta2", type=float, help="default 0.999 (0.9 for wgan-gp)")
    optim.add_argument("--n-critic", type=_positive, help="discriminator steps per generator step (5 for wgan-gp)")
    optim.add_argument("--gp-weight", type=float, default=10.0, help="gradient penalty lambda for wgan-gp")
    optim.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                       help="keep an exponential moving average of G's weights (e.g. 0.999) and ship it; 0: off")


def _cyclegan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--download", action="store_true",
                        help="fetch the CycleGAN paper's A2B dataset (e.g. horse2zebra) into --data if missing")
    data = parser.add_argument_group("data")
    data.add_argument("--domains", nargs=2, metavar=("A", "B"),
                      help="<data>/A2B/{trainA,trainB} or <data>/A/ and <data>/B/ (e.g. horse zebra)")
    data.add_argument("--load-size", type=_positive, default=286, help="resize to this square before cropping")
    data.add_argument("--crop-size", type=_positive, default=256, help="random crop (the training image size)")
    model = parser.add_argument_group("model")
    model.add_argument("--ngf", type=_positive, default=64)
    model.add_argument("--ndf", type=_positive, default=64)
    model.add_argument("--n-blocks", type=_positive, default=9, help="residual blocks: 9 for 256 px, 6 for 128 px")
    model.add_argument("--n-layers", type=_positive, default=3, help="PatchGAN depth (3: 70x70 patches)")
    model.add_argument("--norm", default="instance")
    model.add_argument("--upsample", choices=("transpose", "resize"), default="transpose")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--loss", default="lsgan", help=f"one of {', '.join(LOSS_NAMES)}")
    optim.add_argument("--lambda-cycle", type=float, default=10.0, help="weight of the cycle-consistency L1")
    optim.add_argument("--lambda-identity", type=float, default=0.5, help="identity L1, times --lambda-cycle")
    optim.add_argument("--pool-size", type=_non_negative, default=50, help="generated-image history per domain")
    optim.add_argument("--batch-size", type=_positive, default=1, help="images per process and step")
    optim.add_argument("--lr", type=float, default=2e-4)
    optim.add_argument("--beta1", type=float, default=0.5)
    optim.add_argument("--beta2", type=float, default=0.999)
    optim.add_argument("--epochs-decay", type=_non_negative,
                       help="epochs of linear decay to zero after --epochs (default 100)")
    optim.add_argument("--gp-weight", type=float, default=10.0, help="gradient penalty lambda for wgan-gp")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction,
                        help="torch.compile the networks: minutes of compiling, then faster steps "
                        "(on --resume the run's own)")
    parser.add_argument("--eval-every", type=_positive, metavar="EPOCHS",
                        help="score FID and KID on the test sets every N epochs and after the last; keep the best "
                        "generators in RUN/best (on --resume the run's own)")
    parser.add_argument("--fid-weights", help="FID Inception TorchScript for --eval-every "
                        "(default $TRANSLATE_FID_WEIGHTS, else <data>/fid/)")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="a recipe's defaults under the flags given: 'cpu' trains in hours on a CPU (see README)")


def build_parser(preset: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m translate.train", description=__doc__.split("\n")[0])
    families = parser.add_subparsers(dest="family", required=True, metavar="{dcgan,cdcgan,cyclegan}")
    for family, text in (("dcgan", "unconditional DCGAN"), ("cdcgan", "label-conditional DCGAN")):
        sub = families.add_parser(family, help=text, description=f"Train a {text} (MNIST by default).")
        _common(sub, 25, "", default_workers(2))
        _gan_options(sub)
    sub = families.add_parser("cyclegan", help="unpaired translation between two domains",
                              description="Train a CycleGAN between two image domains (e.g. --domains horse zebra).")
    _common(sub, None, "epochs at the full learning rate (default 100)", default_workers(4))
    _cyclegan_options(sub)
    if preset:
        sub.set_defaults(**PRESETS[preset])
    return parser


def _resolve_gan_settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.loss not in LOSS_NAMES:
        raise ConfigError(f"unknown loss {args.loss!r}: choose one of {', '.join(LOSS_NAMES)}")
    defaults = {**GENERIC_DEFAULTS, **LOSS_DEFAULTS.get(args.loss, {})}
    picked = {key: getattr(args, key) for key in defaults}
    return {key: defaults[key] if value is None else value for key, value in picked.items()}


def _fresh_configs(args: argparse.Namespace) -> tuple[DCGANConfig, GANHyper, dict[str, Any]]:
    settings = _resolve_gan_settings(args)
    channels = args.channels or (1 if args.dataset == "mnist" else 3)
    config = DCGANConfig(
        image_size=args.image_size,
        channels=channels,
        z_dim=args.z_dim,
        n_classes=0,  # set from the data for cdcgan
        ngf=args.ngf,
        ndf=args.ndf,
        g_norm=args.g_norm,
        d_norm=settings["d_norm"],
        upsample=args.upsample,
        fc_width=args.fc_width,
    )
    hyper = GANHyper(args.loss, settings["lr"], settings["beta1"], settings["beta2"], settings["n_critic"],
                     args.gp_weight, args.ema)
    train = {"dataset": args.dataset, "batch_size": args.batch_size, "seed": args.seed, "classes": []}
    return config, hyper, train


def _source(args: argparse.Namespace, config: DCGANConfig, train: dict[str, Any], device: torch.device):
    data_root = resolve_data_root(args.data)
    conditional = args.family == "cdcgan"
    if train["dataset"] == "mnist":
        images, labels = mnist_images(data_root, config.image_size, config.channels, args.download)
        classes = [str(d) for d in range(10)]
        source = TensorSource(images, labels, train["batch_size"], train["seed"])
    else:
        dataset = ImageFolder(data_root, config.image_size, config.channels, class_folders=conditional)
        classes = dataset.classes
        source = FolderSource(dataset, train["batch_size"], train["seed"], args.workers, device.type == "cuda")
    if conditional and train["classes"] and train["classes"] != classes:
        raise ConfigError(f"the data's classes {classes} differ from the checkpoint's {train['classes']}")
    train["classes"] = classes if conditional else []
    return source


def _resume_checkpoint(args: argparse.Namespace) -> Checkpoint:
    try:
        checkpoint = read_checkpoint(args.out)
    except CheckpointError as exc:
        raise CheckpointError(f"--resume found nothing to continue: {exc}") from exc
    checkpoint.expect_family(args.family)
    return checkpoint


def _check_new_run(out: Path) -> None:
    if (out / "checkpoints").exists():
        raise ConfigError(f"{out} already holds a run: pass --resume to continue it or choose another --out")


def _train_gan(args: argparse.Namespace) -> Trainer:
    device = select_device(args.gpu)
    if args.resume:
        checkpoint = _resume_checkpoint(args)
        config = DCGANConfig.from_dict(checkpoint.model)
        hyper = GANHyper(**checkpoint.train["hyper"])
        train = {k: checkpoint.train[k] for k in ("dataset", "batch_size", "seed", "classes")}
        recorded = checkpoint.train.get("precision", "bf16" if device.type == "cuda" else "fp32")
    else:
        config, hyper, train = _fresh_configs(args)
        _check_new_run(args.out)
        recorded = None
    train["precision"] = run_precision(args.precision, recorded, device)
    source = _source(args, config, train, device)
    if args.family == "cdcgan":
        config.n_classes = len(train["classes"])
    torch.manual_seed(train["seed"])
    recipe = GANRecipe(config, hyper, device, autocast(train["precision"], device), seed=train["seed"],
                       skip_nonfinite=args.skip_nonfinite)
    spec = RunSpec(
        run_dir=args.out,
        family=args.family,
        model_config=config.to_dict(),
        train_config={**train, "hyper": asdict(hyper), "epochs": args.epochs},
        epochs=args.epochs,
        seed=train["seed"],
        max_steps=args.max_steps,
        save_every_steps=args.save_every_steps,
        log_every=args.log_every,
        device=device,
        skip_nonfinite=args.skip_nonfinite,
    )
    trainer = Trainer(spec, recipe, source)
    if args.resume:
        trainer.resume(checkpoint)
    trainer.fit()
    return trainer


def _cyclegan_settings(
    args: argparse.Namespace,
) -> tuple[CycleGANConfig, CycleGANHyper, dict[str, Any], Checkpoint | None]:
    """Fresh settings from the flags, or on --resume from the checkpoint (run length from the flags if given)."""
    if args.resume:
        checkpoint = _resume_checkpoint(args)
        config = model_config(checkpoint, CycleGANConfig)
        hyper = CycleGANHyper.from_dict(checkpoint.train["hyper"])
        train = {k: checkpoint.train[k] for k in ("domains", "load_size", "batch_size", "seed", "world_size")}
        train.update({k: checkpoint.train.get(k, default) for k, default in RUN_DEFAULTS.items()})
        if args.domains and list(args.domains) != train["domains"]:
            raise ConfigError(f"--domains {' '.join(args.domains)} differ from the run's {' '.join(train['domains'])}")
        hyper.epochs = args.epochs or hyper.epochs
        hyper.epochs_decay = hyper.epochs_decay if args.epochs_decay is None else args.epochs_decay
        hyper.validate()
        return config, hyper, train, checkpoint
    if not args.domains:
        raise ConfigError("name the two domains: --domains A B (e.g. --domains horse zebra)")
    _check_new_run(args.out)
    domain_a, domain_b = args.domains
    config = CycleGANConfig(3, args.ngf, args.ndf, args.n_blocks, args.n_layers, args.norm, args.upsample,
                            args.crop_size, domain_a, domain_b)
    config.validate()
    hyper = CycleGANHyper(args.loss, args.lambda_cycle, args.lambda_identity, args.pool_size, args.lr, args.beta1,
                          args.beta2, args.epochs or 100, 100 if args.epochs_decay is None else args.epochs_decay,
                          args.gp_weight)
    hyper.validate()
    train = {"domains": [domain_a, domain_b], "load_size": args.load_size, "batch_size": args.batch_size,
             "seed": args.seed, **RUN_DEFAULTS, "preset": args.preset}
    return config, hyper, train, None


# Run settings of a CycleGAN run that a checkpoint records and --resume reuses unless a flag
# says otherwise; runs from before they existed get these values.
RUN_DEFAULTS: dict[str, Any] = {"precision": None, "compile": False, "eval_every": None, "preset": None}


def _run_settings(args: argparse.Namespace, train: dict[str, Any], device: torch.device) -> None:
    """Precision, --compile and --eval-every: the flag's value, else the run's recorded one."""
    legacy = "bf16" if device.type == "cuda" else "fp32"  # what runs from before --precision trained in
    recorded = train["precision"] if "precision" in train and train["precision"] else None
    train["precision"] = run_precision(args.precision, recorded or (legacy if args.resume else None), device)
    for key in ("compile", "eval_every"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)


def _cyclegan_evaluator(
    args: argparse.Namespace, config: CycleGANConfig, recipe: CycleGANRecipe, device: torch.device
) -> Evaluator:
    """--eval-every: FID and KID of the live generators on the test sets, both directions; the
    generators with the best A-to-B FID so far are kept as a model folder, RUN/best."""
    from translate.evaluation.cyclegan import TranslationScorer
    from translate.evaluation.metrics import InceptionFeatures

    extractor = InceptionFeatures(args.fid_weights, device, args.data)
    scorer = TranslationScorer(config, resolve_data_root(args.data), extractor, device)
    best_dir = args.out / "best"
    best = read_json_if_exists(best_dir / "evaluation.json") or {}

    def evaluate(epoch: int) -> dict[str, float]:
        scores = scorer.score(recipe.generators)
        flat = {f"{name}/{metric}": value[metric] for name, value in scores.items() if name != "protocol"
                for metric in ("fid", "kid_mean")}
        primary = next(v["fid"] for v in scores.values() if v.get("direction") == "AtoB")
        if primary < best.get("fid", float("inf")):
            best.update(fid=primary, epoch=epoch, scores=scores)
            modules = {GENERATOR_NAMES[d]: net for d, net in recipe.generators.items()}
            write_model_folder(best_dir, "cyclegan", config.to_dict(), modules)
            write_json(best_dir / "evaluation.json", best)
        return flat

    return evaluate


def _domain_folders(data_root: Path, domains: list[str], download: bool) -> DomainFolders:
    """The domains' folders; with --download, fetched first when they are missing."""
    try:
        return find_domains(data_root, *domains)
    except DataError:
        if not download:
            raise
    download_cyclegan_dataset(f"{domains[0]}2{domains[1]}", data_root)
    return find_domains(data_root, *domains)


def _train_cyclegan(args: argparse.Namespace) -> Trainer:
    config, hyper, train, checkpoint = _cyclegan_settings(args)
    folders = _domain_folders(resolve_data_root(args.data), train["domains"], args.download)
    seed, size = train["seed"], config.image_size
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), train["load_size"], size,
                             seed)
    fixed = tuple(fixed_images(test or folder, GRID_IMAGES, size)
                  for test, folder in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)))
    context = distributed.setup(select_device(args.gpu, CPU_HINT))
    try:
        if checkpoint is not None and train["world_size"] != context.world_size:
            raise ConfigError(f"this run was trained on {train['world_size']} processes: resume it on as many "
                              f"(torchrun --nproc_per_node {train['world_size']})")
        train["world_size"] = context.world_size
        _run_settings(args, train, context.device)
        source = UnpairedSource(dataset, train["batch_size"], seed, args.workers, context.device.type == "cuda",
                                context.rank, context.world_size)
        torch.manual_seed(seed)
        recipe = CycleGANRecipe(config, hyper, context, fixed, seed, compile=train["compile"],
                                skip_nonfinite=args.skip_nonfinite, precision=train["precision"])
        spec = RunSpec(
            run_dir=args.out,
            family="cyclegan",
            model_config=config.to_dict(),
            train_config={**train, "hyper": hyper.to_dict()},
            epochs=hyper.epochs + hyper.epochs_decay,
            seed=seed,
            max_steps=args.max_steps,
            save_every_steps=args.save_every_steps,
            log_every=args.log_every,
            device=context.device,
            rank=context.rank,
            world_size=context.world_size,
            skip_nonfinite=args.skip_nonfinite,
            eval_every=train["eval_every"],
        )
        evaluator = None
        if train["eval_every"] and context.rank == 0:
            evaluator = _cyclegan_evaluator(args, config, recipe, context.device)
        trainer = Trainer(spec, recipe, source, evaluator)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        trainer.fit()
        return trainer
    finally:
        distributed.shutdown(context)


def main(argv: list[str] | None = None) -> Trainer:
    """Train as the command line says; returns the trainer (its recipe holds the networks)."""
    args = build_parser().parse_args(argv)
    if getattr(args, "preset", None) and not args.resume:  # the preset's values, under the flags given
        args = build_parser(args.preset).parse_args(argv)
    if args.out is None:
        name = f"cyclegan-{args.domains[0]}2{args.domains[1]}" if getattr(args, "domains", None) else args.family
        args.out = Path("runs") / name
    check_writable(args.out, "--out")  # before the data loads and the networks are built
    trainer = _train_cyclegan(args) if args.family == "cyclegan" else _train_gan(args)
    if trainer.is_main:
        print(f"trained {args.family} to step {trainer.step} (epoch {trainer.epoch}); checkpoints in {args.out}")
    return trainer


if __name__ == "__main__":
    run_cli(main)
