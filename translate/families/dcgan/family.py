"""The DCGAN and cDCGAN families: their flags, generator loading, sampling, ONNX export and
scoring (networks in :mod:`.nets`, settings in :mod:`.settings`, the training run in
:mod:`.training`, its step in :mod:`.recipe`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translate.config import check_seed
from translate.datasets.mnist import MNIST_CLASSES
from translate.errors import ConfigError
from translate.evaluation.protocols import EvaluationRequest, score_generated_digits
from translate.families.base import Family, RunOptions
from translate.families.dcgan.nets import BASE_SIZES, EMA_NAME, DCGANConfig, Generator
from translate.families.dcgan.settings import DEFAULT_EPOCHS, GENERIC_DEFAULTS, LOSS_DEFAULTS, GANHyper, GANTrainConfig
from translate.families.optimisation import OptimisationDefaults
from translate.io.grids import grid_columns
from translate.latent import check_label, code_walk, label_walk, latent_codes
from translate.modeling.checkpoint import Checkpoint, build_loaded, model_config, train_config
from translate.modeling.device import strict_fp32
from translate.modeling.losses import LOSS_NAMES
from translate.onnx_contract import ModelInfo
from translate.onnx_export import ExportPlan

if TYPE_CHECKING:
    from translate.training.trainer import Trainer


def requested_labels(
    config: DCGANConfig, n: int, label: int | None = None, flag: str = "--label"
) -> torch.Tensor | None:
    """The labels :func:`generate` asks for: ``label`` for every image, or when it is None the
    classes in turn (0, 1, ..., 9, 0, 1, ...); None for unconditional models. ``flag`` names
    the option ``label`` came from in errors."""
    check_label(config.n_classes, label, flag)
    if config.n_classes:
        return torch.full((n,), label) if label is not None else torch.arange(n) % config.n_classes
    return None


def generate(
    generator: nn.Module,
    config: DCGANConfig,
    n: int,
    label: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    truncation: float | None = None,
) -> torch.Tensor:
    """``n`` images in [-1, 1] (on the CPU) from the codes of ``seed`` (:func:`translate.latent.latent_codes`,
    the ones the runtime and the demo draw, truncated at ``truncation`` if given) with
    :func:`requested_labels`."""
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    check_seed(seed)
    labels = requested_labels(config, n, label)
    return run_generator(generator, latent_codes(n, config.z_dim, seed, truncation), labels, device, batch_size)


def walk(
    generator: nn.Module,
    config: DCGANConfig,
    rows: int,
    steps: int,
    seeds: tuple[int, int],
    label: int | None = None,
    labels: tuple[int, int] | None = None,
    truncation: float | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``rows`` walks of ``steps`` images each, row by row, in [-1, 1] (on the CPU): what
    ``translate.runtime.Sampler.interpolate`` and ``interpolate_labels`` draw.

    Row i goes from code i of ``seeds[0]`` to code i of ``seeds[1]`` along the great circle
    (:func:`translate.latent.code_walk`; equal seeds keep the code). Its conditioning moves
    from ``labels[0]`` to ``labels[1]`` (:func:`translate.latent.label_walk`), or without
    ``labels`` stays at ``label`` (None: the classes in turn, as :func:`requested_labels`).
    """
    if rows < 1:
        raise ConfigError(f"--n must be at least 1, got {rows}")
    for seed in seeds:
        check_seed(seed)
    if labels is None:
        first = last = requested_labels(config, rows, label)
    else:
        first, last = (requested_labels(config, rows, end, "--interpolate-labels") for end in labels)
    start, end = (latent_codes(rows, config.z_dim, seed, truncation) for seed in seeds)
    weights = None
    if first is not None:
        weights = torch.from_numpy(label_walk(first.numpy(), last.numpy(), config.n_classes, steps))
    return run_generator(generator, code_walk(start, end, steps), weights, device)


@torch.no_grad()
def run_generator(
    generator: nn.Module,
    z: np.ndarray,
    labels: torch.Tensor | None,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> torch.Tensor:
    """Images in [-1, 1] (on the CPU) for given codes and labels (class indices or weights).

    The codes run ``batch_size`` at a time, so the images do not depend on the batch size
    (the generator is in eval mode) and large counts fit in memory.
    """
    z = torch.from_numpy(z)
    generator = generator.to(device)
    batches = []
    for start in range(0, len(z), batch_size):
        batch_labels = None if labels is None else labels[start : start + batch_size].to(device)
        batches.append(generator(z[start : start + batch_size].to(device), batch_labels).float().cpu())
    return torch.cat(batches)


class _ConditionalGenerator(nn.Module):
    """(z, label) -> image: the cDCGAN generator with both inputs explicit for ONNX, ``label``
    as float class weights (N x classes: one-hot rows, or a walk between two labels)."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.generator(z, label)


class DCGANFamily(Family):
    """DCGAN (``conditional=False``) or cDCGAN: the same networks, with or without labels."""

    task = "sample"
    # --lr, --beta1 and --beta2 follow --loss (the papers' settings for wgan-gp).
    optimisation = OptimisationDefaults(loss="bce", batch_size=128, lr=None, beta1=None, beta2=None, by_loss={
        name: f"default {GENERIC_DEFAULTS[name]:g} ({LOSS_DEFAULTS['wgan-gp'][name]:g} for wgan-gp)"
        for name in ("lr", "beta1", "beta2")})

    def __init__(self, conditional: bool):
        self.conditional = conditional
        self.name = "cdcgan" if conditional else "dcgan"
        self.summary = "label-conditional DCGAN" if conditional else "unconditional DCGAN"

    # -- command line --------------------------------------------------------------------
    def add_train_options(self, parser: argparse.ArgumentParser, optim: argparse._ArgumentGroup) -> None:
        parser.add_argument("--download", action="store_true", help="fetch MNIST if missing (checked by sha256)")
        data = parser.add_argument_group("data")
        data.add_argument("--dataset", choices=("mnist", "folder"), default="mnist")
        data.add_argument("--image-size", type=int, default=28, choices=sorted(BASE_SIZES))
        data.add_argument("--channels", type=int, choices=(1, 3), help="default: 1 for MNIST, 3 for folders")
        model = parser.add_argument_group("model")
        model.add_argument("--z-dim", type=int, default=100)
        model.add_argument("--ngf", type=int, default=64)
        model.add_argument("--ndf", type=int, default=64)
        model.add_argument("--g-norm", default="batch", help="the generator's norm (default: batch)")
        model.add_argument("--d-norm", help="default: batch, or layer for wgan-gp (no batch norm in a critic)")
        model.add_argument("--upsample", choices=("transpose", "resize"), default="transpose")
        model.add_argument("--fc-width", type=int, default=0,
                           help="fully connected hidden layer after the code (G) and before the logit (D), "
                           "as in InfoGAN's MNIST networks (e.g. 1024); 0: plain DCGAN")
        optim.add_argument("--n-critic", type=int, help="discriminator steps per generator step (5 for wgan-gp)")
        optim.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                           help="keep an exponential moving average of G's weights (e.g. 0.999) and ship it; 0: off")

    def new_settings(self, args: argparse.Namespace) -> tuple[DCGANConfig, GANTrainConfig]:
        if args.loss not in LOSS_NAMES:
            raise ConfigError(f"unknown loss {args.loss!r}: choose one of {', '.join(LOSS_NAMES)}")
        defaults = {**GENERIC_DEFAULTS, **LOSS_DEFAULTS.get(args.loss, {})}
        picked = {key: defaults[key] if getattr(args, key) is None else getattr(args, key) for key in defaults}
        model = DCGANConfig(
            image_size=args.image_size,
            channels=args.channels or (1 if args.dataset == "mnist" else 3),
            z_dim=args.z_dim,
            n_classes=0,  # set from the data for cdcgan
            ngf=args.ngf,
            ndf=args.ndf,
            g_norm=args.g_norm,
            d_norm=picked["d_norm"],
            upsample=args.upsample,
            fc_width=args.fc_width,
        )
        model.validate()
        hyper = GANHyper(loss=args.loss, lr=picked["lr"], beta1=picked["beta1"], beta2=picked["beta2"],
                         n_critic=picked["n_critic"], gp_weight=args.gp_weight, ema=args.ema)
        hyper.validate()
        settings = GANTrainConfig(dataset=args.dataset, batch_size=args.batch_size, seed=args.seed, hyper=hyper,
                                  epochs=args.epochs or DEFAULT_EPOCHS)
        settings.validate()
        return model, settings

    def resumed_settings(self, checkpoint: Checkpoint, args: argparse.Namespace) -> tuple[DCGANConfig,
                                                                                          GANTrainConfig]:
        settings = train_config(checkpoint, GANTrainConfig)
        settings.epochs = args.epochs or settings.epochs or DEFAULT_EPOCHS
        return model_config(checkpoint, DCGANConfig), settings

    # -- training ------------------------------------------------------------------------
    def train(self, model: DCGANConfig, settings: GANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
        from translate.families.dcgan.training import train_run  # training's modules load only to train

        return train_run(self, model, settings, run, checkpoint)

    # -- a trained model -----------------------------------------------------------------
    def shipped_weights(self, checkpoint: Checkpoint, state: dict[str, Any]) -> str:
        """The generator's exponential moving average, for a run trained with ``--ema``."""
        averaged = checkpoint.has_weights(EMA_NAME)
        return "the exponential moving average (--ema) of the generator's weights" if averaged else ""

    def load_generator(self, checkpoint: Checkpoint, direction: str | None = None) -> tuple[nn.Module, DCGANConfig]:
        """The generator, in eval mode; a run trained with ``--ema`` gives its weight average,
        the model it was trained to produce."""
        self.check_direction(direction, checkpoint)
        config = model_config(checkpoint, DCGANConfig)
        prefix = EMA_NAME if checkpoint.has_weights(EMA_NAME) else "generator"
        return build_loaded(lambda: Generator(config), checkpoint, prefix).eval(), config

    def sample(self, checkpoint: Checkpoint, n: int, label: int | None, seed: int, device: torch.device,
               data: str | None = None, truncation: float | None = None) -> tuple[torch.Tensor, int, list[str]]:
        generator, config = self.load_generator(checkpoint)
        images = generate(generator, config, n, label, seed, device, truncation=truncation)
        return images, grid_columns(n, bool(config.n_classes), label), []

    def walk(self, checkpoint: Checkpoint, rows: int, steps: int, seeds: tuple[int, int], label: int | None,
             labels: tuple[int, int] | None, truncation: float | None, device: torch.device) -> torch.Tensor:
        generator, config = self.load_generator(checkpoint)
        return walk(generator, config, rows, steps, seeds, label, labels, truncation, device)

    def export_plan(self, checkpoint: Checkpoint, direction: str | None = None) -> ExportPlan:
        generator, config = self.load_generator(checkpoint, direction)
        gen = torch.Generator().manual_seed(1234)
        check_inputs = []
        for batch in (1, 3, 8):
            z = torch.randn(batch, config.z_dim, generator=gen)
            if not config.n_classes:
                check_inputs.append((z,))
                continue
            ends = torch.randint(0, config.n_classes, (2, batch), generator=gen)
            t = torch.rand(batch, 1, generator=gen)  # class weights part of the way between two labels
            weights = (1 - t) * F.one_hot(ends[0], config.n_classes) + t * F.one_hot(ends[1], config.n_classes)
            check_inputs.append((z, weights))
        names = ["z", "label"] if config.n_classes else ["z"]
        classes = checkpoint.train.get("classes") or list(MNIST_CLASSES[: config.n_classes])
        info = ModelInfo(family=self.name, task=self.task, channels=config.channels, z_dim=config.z_dim,
                         class_names=classes if config.n_classes else [], image_size=config.image_size)
        return ExportPlan(
            module=_ConditionalGenerator(generator) if config.n_classes else generator,
            input_names=names,
            dynamic_axes={**{n: {0: "batch"} for n in names}, "image": {0: "batch"}},
            check_inputs=check_inputs,
            info=info,
        )

    def evaluate(self, checkpoint: Checkpoint, request: EvaluationRequest) -> dict[str, Any]:
        request.validate()
        dataset = checkpoint.train.get("dataset", "mnist")  # checkpoints from before the option: MNIST
        if dataset != "mnist":  # its scores against MNIST digits (and the digit judge's reading) would mean nothing
            raise ConfigError(
                f"{checkpoint.path} was trained on --dataset {dataset}, and a digit model is scored against the "
                "MNIST test digits only: score images it drew (e.g. by the runtime's Sampler) "
                "against real ones instead: python -m translate.evaluate --folders REAL_DIR GENERATED_DIR")
        generator, config = self.load_generator(checkpoint)
        generator = generator.to(request.device)
        # The images python -m translate.sample draws with the same seed (exactly so on the CPU;
        # on CUDA sample may use TF32, which scoring does not).
        with strict_fp32():  # the protocol says fp32: not TF32 on CUDA
            fake = generate(generator, config, request.n, None, request.seed, request.device, request.batch_size,
                            truncation=request.truncation)
        labels = requested_labels(config, request.n)
        latent = (f"z ~ N(0, I) of dimension {config.z_dim}: translate.latent.latent_codes, numpy PCG64 "
                  f"seed {request.seed}")
        if request.truncation is not None:
            latent += f", truncated at {request.truncation:g} (components beyond it drawn again)"
        return score_generated_digits(fake, labels, config.n_classes, request, latent)


FAMILIES = [DCGANFamily(conditional=False), DCGANFamily(conditional=True)]
