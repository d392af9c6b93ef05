"""Command line: ``python -m translate.train {dcgan,cdcgan} [options]``.

On ``--resume`` the architecture and optimisation settings come from the run's
checkpoint; run-length flags (``--epochs``, ``--max-steps``), ``--data``, ``--gpu``
and ``--workers`` come from the command line.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from translate.checkpoint import read_checkpoint
from translate.cli import autocast_for, run_cli, select_device
from translate.data import FolderSource, ImageFolder, TensorSource, mnist_images, resolve_data_root
from translate.errors import CheckpointError, ConfigError
from translate.losses import LOSS_NAMES
from translate.nets.dcgan import BASE_SIZES, DCGANConfig
from translate.recipes.gan import GANHyper, GANRecipe
from translate.trainer import RunSpec, Trainer

# Per-loss defaults from the papers: WGAN-GP trains a layer-normed critic 5x per G step.
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "wgan-gp": {"n_critic": 5, "lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_norm": "layer"},
}
GENERIC_DEFAULTS = {"n_critic": 1, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "d_norm": "batch"}


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def _common(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--data", help="data folder (default: $TRANSLATE_DATA, else ./data)")
    run.add_argument("--out", type=Path, help="run folder for checkpoints, samples and logs")
    run.add_argument("--epochs", type=_positive, default=25)
    run.add_argument("--max-steps", type=_positive, help="stop after this many optimisation steps in total")
    run.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--gpu", action="store_true", help="train on CUDA with bf16 autocast")
    run.add_argument("--workers", type=int, default=2, help="data loader processes for image folders")
    run.add_argument("--save-every-steps", type=_positive, help="also checkpoint every N steps")
    run.add_argument("--log-every", type=_positive, default=50, help="TensorBoard scalars every N steps")
    run.add_argument("--download", action="store_true", help="fetch MNIST with torchvision if missing")


def _gan_options(parser: argparse.ArgumentParser) -> None:
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
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--loss", default="bce", help=f"one of {', '.join(LOSS_NAMES)}")
    optim.add_argument("--batch-size", type=_positive, default=128)
    optim.add_argument("--lr", type=float, help="default 2e-4 (1e-4 for wgan-gp)")
    optim.add_argument("--beta1", type=float, help="default 0.5 (0.0 for wgan-gp)")
    optim.add_argument("--beta2", type=float, help="default 0.999 (0.9 for wgan-gp)")
    optim.add_argument("--n-critic", type=_positive, help="discriminator steps per generator step (5 for wgan-gp)")
    optim.add_argument("--gp-weight", type=float, default=10.0, help="gradient penalty lambda for wgan-gp")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m translate.train", description=__doc__.split("\n")[0])
    families = parser.add_subparsers(dest="family", required=True, metavar="{dcgan,cdcgan}")
    for family, text in (("dcgan", "unconditional DCGAN"), ("cdcgan", "label-conditional DCGAN")):
        sub = families.add_parser(family, help=text, description=f"Train a {text} (MNIST by default).")
        _common(sub)
        _gan_options(sub)
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
    )
    hyper = GANHyper(args.loss, settings["lr"], settings["beta1"], settings["beta2"], settings["n_critic"],
                     args.gp_weight)
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


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.out is None:
        args.out = Path("runs") / args.family
    device = select_device(args.gpu)
    if args.resume:
        try:
            checkpoint = read_checkpoint(args.out)
        except CheckpointError as exc:
            raise CheckpointError(f"--resume found nothing to continue: {exc}") from exc
        checkpoint.expect_family(args.family)
        config = DCGANConfig.from_dict(checkpoint.model)
        hyper = GANHyper(**checkpoint.train["hyper"])
        train = {k: checkpoint.train[k] for k in ("dataset", "batch_size", "seed", "classes")}
    else:
        config, hyper, train = _fresh_configs(args)
        if (args.out / "checkpoints").exists():
            raise ConfigError(f"{args.out} already holds a run: pass --resume to continue it or choose another --out")
    source = _source(args, config, train, device)
    if args.family == "cdcgan":
        config.n_classes = len(train["classes"])
    torch.manual_seed(train["seed"])
    recipe = GANRecipe(config, hyper, device, autocast_for(device), seed=train["seed"])
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
    )
    trainer = Trainer(spec, recipe, source)
    if args.resume:
        trainer.resume(checkpoint)
    trainer.fit()
    print(f"trained {args.family} to step {trainer.step} (epoch {trainer.epoch}); checkpoints in {args.out}")


if __name__ == "__main__":
    run_cli(main)
