"""Command line: ``python -m translate.pairs edges|gray SRC OUT``: paired data made from any
folder of photos, for pix2pix.

- ``edges``: line drawings of the photos' contours (edges → photo, as edges2shoes);
- ``gray``: the photos in greyscale (grey → colour).

OUT gets pix2pix's side-by-side layout, ``train/`` and ``test/``, and ``pairs.json``, which
records how it was made. The test photos come from ``--test DIR`` (e.g. a dataset's own test
split) or else are a seeded ``--test-fraction`` of SRC. Then train with
``python -m translate.train pix2pix --dataset NAME --data PARENT_OF_OUT``.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import numpy as np

from translate.cli import run_cli
from translate.config import check_seed
from translate.datasets.drawings import CONVERSIONS, EdgeSettings, greyscale, line_drawing
from translate.datasets.pair_maker import make_pairs
from translate.errors import ConfigError, DataError
from translate.io.images import IMAGE_EXTENSIONS, list_images
from translate.progress import Progress

MAX_SIZE = 2048
DESCRIPTION = ("Make paired data for pix2pix from a folder of photos: line drawings (edges) or greyscale (gray) "
               "beside each photo, in pix2pix's side-by-side layout with train/ and test/, and pairs.json "
               "recording how.")


def photos(folder: Path, flag: str) -> list[Path]:
    """The image files below ``folder``, or an error that names ``flag`` and what was looked for."""
    if not folder.is_dir():
        raise DataError(f"{flag} {folder} is not a folder: name a folder of photos")
    files = list_images(folder)
    if not files:
        raise DataError(f"{flag} {folder} holds no photos: looked for {', '.join(IMAGE_EXTENSIONS)} files")
    return files


def split(files: list[Path], fraction: float, seed: int) -> dict[str, list[Path]]:
    """A seeded share ``fraction`` of ``files`` for testing (at least one), the rest for training."""
    if not 0 < fraction < 1:
        raise ConfigError(f"--test-fraction must lie in (0, 1), got {fraction}")
    count = max(1, round(fraction * len(files)))
    if count >= len(files):
        raise DataError(f"{len(files)} photo(s) cannot be split into training and test pairs: add photos, or "
                        "name the test photos with --test DIR")
    chosen = set(np.random.default_rng(seed).permutation(len(files))[:count].tolist())
    return {"train": [f for i, f in enumerate(files) if i not in chosen],
            "test": [f for i, f in enumerate(files) if i in chosen]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m translate.pairs", description=DESCRIPTION)
    parser.add_argument("method", choices=sorted(CONVERSIONS),
                        help="; ".join(f"{name}: {what}" for name, what in CONVERSIONS.items()))
    parser.add_argument("source", type=Path, metavar="SRC", help="a folder of photos (the training photos)")
    parser.add_argument("out", type=Path, metavar="OUT", help="the dataset folder to write: new, or empty")
    parser.add_argument("--test", type=Path, metavar="DIR", help="a folder of test photos (default: a share of SRC)")
    parser.add_argument("--test-fraction", type=float, default=0.1, help="without --test: share of SRC to test on")
    parser.add_argument("--seed", type=int, default=0, help="which photos --test-fraction picks")
    parser.add_argument("--size", type=int, default=256, help="each half's side in pixels (default 256)")
    parser.add_argument("--domains", nargs=2, metavar=("A", "B"),
                        help="names of the two sides, for the model (default: METHOD photo)")
    edges = parser.add_argument_group("edges")
    defaults = EdgeSettings()
    edges.add_argument("--bilateral-passes", type=int, default=defaults.bilateral_passes,
                       help="edge-preserving smoothing passes first, which flatten texture such as grass")
    edges.add_argument("--sigma", type=float, default=defaults.sigma, help="smoothing before Canny, in pixels")
    edges.add_argument("--strong-share", type=float, default=defaults.strong_share,
                       help="share of pixels whose gradient starts a line (Canny's high threshold)")
    edges.add_argument("--low-ratio", type=float, default=defaults.low_ratio,
                       help="Canny's low threshold, as a share of the high one")
    edges.add_argument("--min-pixels", type=int, default=defaults.min_pixels, help="drop shorter pieces of line")
    edges.add_argument("--line-width", type=int, default=defaults.line_width, help="in pixels")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if not 16 <= args.size <= MAX_SIZE:
        raise ConfigError(f"--size must lie in 16..{MAX_SIZE} pixels, got {args.size}")
    check_seed(args.seed)
    for flag, source in (("SRC", args.source), ("--test", args.test)):
        if source is not None and args.out.resolve().is_relative_to(source.resolve()):
            raise ConfigError(f"OUT {args.out} lies inside {flag} {source}: its pairs would be read as photos the next "
                              f"time {source} is used; choose an OUT outside it")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise DataError(f"{args.out} already exists and is not an empty folder: remove it or choose another OUT")
    files = photos(args.source, "SRC")
    if args.test is not None:
        held = photos(args.test, "--test")
        # A --test folder inside SRC: its photos are test photos only, never training ones too.
        kept = set(map(Path.resolve, held))
        train = [f for f in files if f.resolve() not in kept]
        if not train:
            raise DataError(f"every photo of SRC {args.source} is a --test photo: name a SRC with photos to train on")
        splits = {"train": train, "test": held}
        test_source = {"test_source": str(args.test)}
    else:
        splits = split(files, args.test_fraction, args.seed)
        test_source = {"test_fraction": args.test_fraction, "seed": args.seed}
    if args.method == "edges":
        settings = EdgeSettings(bilateral_passes=args.bilateral_passes, sigma=args.sigma,
                                strong_share=args.strong_share, low_ratio=args.low_ratio, min_pixels=args.min_pixels,
                                line_width=args.line_width)
        settings.validate()
        convert, parameters = functools.partial(line_drawing, settings=settings), settings.record()
    else:
        convert, parameters = greyscale, {}
    domains = list(args.domains or (args.method, "photo"))
    record = {"method": args.method, "made": CONVERSIONS[args.method], "parameters": parameters,
              "source": str(args.source), **test_source, "domains": domains}
    counts = make_pairs(convert, splits, args.out, args.size, record, Progress.for_stderr())
    print(f"wrote {counts['train']} training and {counts['test']} test pairs ({domains[0]} -> {domains[1]}) into "
          f"{args.out}")


def run() -> None:
    """The ``translate-pairs`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
