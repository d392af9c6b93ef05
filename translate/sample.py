"""Command line: ``python -m translate.sample RUN_OR_CHECKPOINT --n 64 [--label 7] [--seed 0] [--scale 3]
[--truncation T] --out grid.png``: a grid of images from a DCGAN or cDCGAN, or, from a translation
model, ``--n`` rows of test images with their translations (a CycleGAN's rows hold both
domains and the round trips back, a pix2pix's the targets), under a strip naming the columns.

``--interpolate SEED1 SEED2 --steps N`` walks between two seeds' codes, ``--interpolate-labels
A B`` between two labels' conditioning with the code fixed: one row of N images per walk, as
a strip, or as an animation of N frames when ``--out`` ends in .gif or .webp.

For digit models the same seed draws the same images as
``translate.runtime.Sampler.sample(seed=...)`` (and ``interpolate``, ``interpolate_labels``)
and the demo (:mod:`translate.latent`). A digit model's exported ``.onnx`` file is drawn from
through that runtime, without PyTorch; checkpoints and model folders need it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from translate.arguments import output_file
from translate.command_line import run_cli
from translate.config import check_seed
from translate.errors import ConfigError
from translate.io.fileio import check_image_suffix, write_animation, write_image
from translate.io.grids import enlarged, image_grid, titled
from translate.io.run_layout import refuse_run_files
from translate.latent import check_steps, check_truncation
from translate.onnx_models import Drawer, OnnxDrawer, is_onnx_file

MAX_GRID_IMAGES = 10_000  # a 100 x 100 grid; past that a grid is unreadable and only costs memory
MAX_SCALE = 16
MAX_PICTURE_PIXELS = 256_000_000  # 768 MB of RGB: 10 x 10 digits at --scale 16 are 23 million
DEFAULT_STEPS = 8
ANIMATIONS = (".gif", ".webp")  # --out suffixes that get a walk as frames instead of a strip
FRAME_MS = 120  # GIF stores hundredths of a second

DESCRIPTION = ("Draw a grid of images from a trained DCGAN or cDCGAN, or of test images and their translations "
               "from a translation model (a CycleGAN's row: A, G(A), F(G(A)), B, F(B), G(F(B)); CUT's: A, G(A); "
               "pix2pix's: A, G(A), B); or walk a digit model "
               "between two seeds' codes or two labels.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m translate.sample", description=DESCRIPTION)
    parser.add_argument("model", help="run folder, checkpoint folder or model folder (e.g. models/cdcgan-mnist), or "
                        "a digit model's exported .onnx file (needs no PyTorch)")
    parser.add_argument("--n", type=int, help="number of images (default 64), of rows for a translation model "
                        "(default 4), or of walks (default 1)")
    parser.add_argument("--label", type=int, help="class to generate (conditional models only)")
    parser.add_argument("--seed", type=int,
                        help="the codes drawn, or which test images a translation model shows (default 0)")
    parser.add_argument("--truncation", type=float, metavar="T",
                        help="the truncation trick (BigGAN): redraw every code component with |z| > T until it "
                        "fits; smaller T trades variety for typical images")
    walks = parser.add_argument_group("walks (digit models)")
    walks.add_argument("--interpolate", type=int, nargs=2, metavar=("SEED1", "SEED2"),
                       help="walk from SEED1's codes to SEED2's along the great circle (spherical interpolation)")
    walks.add_argument("--interpolate-labels", type=int, nargs=2, metavar=("A", "B"),
                       help="cDCGAN: keep --seed's code and move the conditioning from label A to label B")
    walks.add_argument("--steps", type=int, help=f"images per walk, both ends included (default {DEFAULT_STEPS})")
    parser.add_argument("--data", help="translation models: the data root holding the test sets (default "
                        "$TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=output_file("samples.png"), default=Path("samples.png"),
                        help="grid image (.png or .jpg); for a walk also .gif or .webp, one frame per step")
    parser.add_argument("--nrow", type=int, help="images per row (default: 10 for a conditional model drawing every "
                        "class in turn, else square; a translation model's own columns)")
    parser.add_argument("--scale", type=int, default=1,
                        help=f"enlarge the grid N times with sharp pixels (28 px digits read well at 3; at most "
                        f"{MAX_SCALE})")
    parser.add_argument("--gpu", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    walking = bool(args.interpolate or args.interpolate_labels)
    _check(args, walking)
    drawer = load_drawer(args.model, args.gpu)
    seed = 0 if args.seed is None else args.seed
    if walking:
        rows, steps = args.n or 1, args.steps or DEFAULT_STEPS
        if rows * steps > MAX_GRID_IMAGES:
            raise ConfigError(f"--n {rows} walks of --steps {steps} make more than {MAX_GRID_IMAGES} images: "
                              "draw fewer walks or steps")
        seeds = tuple(args.interpolate or (seed, seed))
        images = drawer.walk(rows, steps, seeds, args.label, args.interpolate_labels, args.truncation)
        _write_walk(args.out, images, steps, args.scale)
        print(f"wrote {rows} walk(s) of {steps} images to {args.out}")
        return
    n = args.n or drawer.grid_count
    images, columns, titles = drawer.draw(n, args.label, seed, args.data, args.truncation)
    nrow = args.nrow or columns
    grid = image_grid(images, nrow)
    if titles and nrow == columns:  # another --nrow mixes the columns: no titles then
        grid = titled(grid, titles, images.shape[2])
    check_picture_size(grid.shape, args.scale, fewer="--n")
    write_image(args.out, enlarged(grid, args.scale))
    what = "rows of test images and their translations" if drawer.task == "translate" else "samples"
    print(f"wrote {n} {what} to {args.out}")


def load_drawer(model: str, gpu: bool) -> Drawer:
    """What ``model`` names: an ``.onnx`` file through the runtime, anything else through
    PyTorch (imported only then)."""
    if is_onnx_file(model):
        return OnnxDrawer(Path(model), gpu)
    from translate.checkpoint_models import CheckpointDrawer

    return CheckpointDrawer(model, gpu)


def _check(args: argparse.Namespace, walking: bool) -> None:
    """Flags that cannot be used, before any model is read."""
    if args.seed is not None:
        check_seed(args.seed)
    for seed in args.interpolate or ():
        check_seed(seed, "--interpolate's seeds")
    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    if args.n is not None and args.n > MAX_GRID_IMAGES:
        raise ConfigError(f"--n {args.n} is more than a grid shows ({MAX_GRID_IMAGES} at most): for images in bulk "
                          "use translate.runtime.Sampler on an exported model, or several --seed values")
    if args.nrow is not None and args.nrow < 1:
        raise ConfigError(f"--nrow must be at least 1, got {args.nrow}")
    if not 1 <= args.scale <= MAX_SCALE:
        raise ConfigError(f"--scale must lie in 1..{MAX_SCALE}, got {args.scale}")
    check_truncation(args.truncation)
    conflicts = [
        (not walking and args.steps is not None, "--steps applies to walks: add --interpolate or --interpolate-labels"),
        (walking and args.nrow is not None, "--nrow does not apply to walks: each row is one walk of --steps images"),
        (bool(args.interpolate) and args.seed is not None,
         "--seed and --interpolate both name the codes: --interpolate SEED1 SEED2 alone walks between two seeds"),
        (bool(args.interpolate_labels) and args.label is not None,
         "--label and --interpolate-labels both set the label: --interpolate-labels A B alone moves from A to B"),
    ]
    for refused, message in conflicts:
        if refused:
            raise ConfigError(message)
    if args.steps is not None:
        check_steps(args.steps)
    if not (walking and args.out.suffix.lower() in ANIMATIONS):
        check_image_suffix(args.out)
    refuse_run_files(args.out, "--out")


def _write_walk(path: Path, images: np.ndarray, steps: int, scale: int) -> None:
    """A strip (one row per walk), or for .gif and .webp an animation whose frame k shows step
    k of every walk, one above the other as in the strip."""
    if path.suffix.lower() in ANIMATIONS:
        frames = [image_grid(images[k::steps], 1) for k in range(steps)]
        check_picture_size(frames[0].shape, scale, len(frames))  # all frames are held at once
        write_animation(path, [enlarged(frame, scale) for frame in frames], FRAME_MS)
    else:
        strip = image_grid(images, steps)
        check_picture_size(strip.shape, scale)
        write_image(path, enlarged(strip, scale))


def check_picture_size(shape: tuple[int, ...], scale: int, frames: int = 1, fewer: str = "--n, --steps") -> None:
    """Refuse a picture (or an animation's ``frames`` of that size) that ``--scale`` would make
    too large to hold in memory and to open, naming the largest scale that fits, before it is
    enlarged."""
    pixels = shape[0] * shape[1] * frames
    if pixels * scale * scale <= MAX_PICTURE_PIXELS:
        return
    fits = [s for s in range(1, scale) if pixels * s * s <= MAX_PICTURE_PIXELS]
    fix = f"use --scale {fits[-1]} or fewer" if fits else f"draw fewer images ({fewer})"
    size = f"{shape[1] * scale:,} x {shape[0] * scale:,} px"
    what = f"{frames:,} frames of {size}" if frames > 1 else f"a {size} picture"
    raise ConfigError(f"--scale {scale} would make {what}, more than {MAX_PICTURE_PIXELS // 1_000_000:,} million "
                      f"pixels: {fix}")


def run() -> None:
    """The ``translate-sample`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
