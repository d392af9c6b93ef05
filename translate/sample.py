"""Command line: ``python -m translate.sample RUN_OR_CHECKPOINT --n 64 [--label 7] [--seed 0] --out grid.png``."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from torchvision.utils import make_grid

from translate.cli import run_cli, select_device
from translate.errors import ConfigError
from translate.families.dcgan.nets import DCGANConfig
from translate.io.fileio import write_image
from translate.training.checkpoint import load_generator
from translate.training.data import to_uint8

MAX_GRID_IMAGES = 10_000  # a 100 x 100 grid; past that a grid is unreadable and only costs memory


def requested_labels(config: DCGANConfig, n: int, label: int | None = None) -> torch.Tensor | None:
    """The labels ``generate`` asks for: ``label`` for every image, or when it is None the
    classes in turn (0, 1, ..., 9, 0, 1, ...); None for unconditional models."""
    if config.n_classes:
        if label is not None and not 0 <= label < config.n_classes:
            raise ConfigError(f"--label {label} is out of range: this model has classes 0..{config.n_classes - 1}")
        return torch.full((n,), label) if label is not None else torch.arange(n) % config.n_classes
    if label is not None:
        raise ConfigError("--label needs a conditional (cdcgan) model; this one is unconditional")
    return None


@torch.no_grad()
def generate(
    generator: torch.nn.Module,
    config: DCGANConfig,
    n: int,
    label: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> torch.Tensor:
    """``n`` images in [-1, 1] (on the CPU) from seeded noise with :func:`requested_labels`.

    The noise is drawn at once and run ``batch_size`` at a time, so the images do not
    depend on the batch size (the generator is in eval mode) and large ``n`` fits in memory.
    """
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    labels = requested_labels(config, n, label)
    z = torch.randn(n, config.z_dim, generator=torch.Generator().manual_seed(seed))
    generator = generator.to(device)
    batches = []
    for start in range(0, n, batch_size):
        batch_labels = None if labels is None else labels[start : start + batch_size].to(device)
        batches.append(generator(z[start : start + batch_size].to(device), batch_labels).float().cpu())
    return torch.cat(batches)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.sample", description=__doc__)
    parser.add_argument("checkpoint", help="run folder, checkpoint folder or model folder (e.g. models/cdcgan-mnist)")
    parser.add_argument("--n", type=int, default=64, help="number of images")
    parser.add_argument("--label", type=int, help="class to generate (conditional models only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("samples.png"), help="grid image (.png or .jpg)")
    parser.add_argument("--nrow", type=int, help="images per row (default: 10 for conditional models, else square)")
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args(argv)
    if args.n > MAX_GRID_IMAGES:
        raise ConfigError(f"--n {args.n} is more than a grid shows ({MAX_GRID_IMAGES} at most): for images in bulk "
                          "use translate.runtime.Sampler on an exported model, or several --seed values")
    generator, config = load_generator(args.checkpoint)
    images = generate(generator, config, args.n, args.label, args.seed, select_device(args.gpu))
    nrow = args.nrow or (10 if config.n_classes and args.label is None else math.ceil(math.sqrt(args.n)))
    grid = make_grid(to_uint8(images), nrow=nrow, padding=2)
    write_image(args.out, grid.permute(1, 2, 0).numpy())
    print(f"wrote {args.n} samples to {args.out}")


if __name__ == "__main__":
    run_cli(main)
