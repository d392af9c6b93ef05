"""Command line: ``python -m translate.sample RUN_OR_CHECKPOINT --n 64 [--label 7] [--seed 0] [--scale 3]
--out grid.png``: a grid of images from a DCGAN or cDCGAN, or, from a CycleGAN, ``--n`` rows of
test images of both domains with their translations and round trips back.

For digit models the same seed draws the same images as
``translate.runtime.Sampler.sample(seed=...)`` and the demo (:mod:`translate.latent`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.families import get_family
from translate.io.fileio import write_image
from translate.modeling.device import select_device
from translate.modeling.pixels import grid_image
from translate.training.checkpoint import read_checkpoint
from translate.training.optim import check_seed

MAX_GRID_IMAGES = 10_000  # a 100 x 100 grid; past that a grid is unreadable and only costs memory
MAX_SCALE = 16

DESCRIPTION = ("Draw a grid of images from a trained DCGAN or cDCGAN, or of test images and their translations "
               "from a CycleGAN (one row per pair: A, G(A), F(G(A)), B, F(B), G(F(B))).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.sample", description=DESCRIPTION)
    parser.add_argument("checkpoint", help="run folder, checkpoint folder or model folder (e.g. models/cdcgan-mnist)")
    parser.add_argument("--n", type=int, help="number of images (default 64), or of rows for a CycleGAN (default 4)")
    parser.add_argument("--label", type=int, help="class to generate (conditional models only)")
    parser.add_argument("--seed", type=int, default=0, help="the codes drawn, or which test images a CycleGAN shows")
    parser.add_argument("--data", help="CycleGAN: the data root holding the domains' test sets (default "
                        "$TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=Path("samples.png"), help="grid image (.png or .jpg)")
    parser.add_argument("--nrow", type=int, help="images per row (default: 10 for conditional models, else square)")
    parser.add_argument("--scale", type=int, default=1,
                        help=f"enlarge the grid N times with sharp pixels (28 px digits read well at 3; at most "
                        f"{MAX_SCALE})")
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args(argv)
    check_seed(args.seed)
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    if args.n is not None and args.n > MAX_GRID_IMAGES:
        raise ConfigError(f"--n {args.n} is more than a grid shows ({MAX_GRID_IMAGES} at most): for images in bulk "
                          "use translate.runtime.Sampler on an exported model, or several --seed values")
    if args.nrow is not None and args.nrow < 1:
        raise ConfigError(f"--nrow must be at least 1, got {args.nrow}")
    if not 1 <= args.scale <= MAX_SCALE:
        raise ConfigError(f"--scale must lie in 1..{MAX_SCALE}, got {args.scale}")
    checkpoint = read_checkpoint(args.checkpoint)
    family = get_family(checkpoint.family)
    n = args.n or family.grid_count
    images, nrow = family.sample(checkpoint, n, args.label, args.seed, select_device(args.gpu), args.data)
    write_image(args.out, grid_image(images, args.nrow or nrow, args.scale))
    what = "rows of test images and their translations" if family.task == "translate" else "samples"
    print(f"wrote {n} {what} to {args.out}")


if __name__ == "__main__":
    run_cli(main)
