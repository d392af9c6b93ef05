"""Command line: ``python -m translate.apply RUN_OR_CHECKPOINT --input FILE_OR_DIR --output DIR
[--direction AtoB|BtoA]``: translate image files of any size with a CycleGAN generator.

Each image is decoded with OpenCV (upright by its EXIF orientation; greyscale, 16-bit,
CMYK and RGBA become RGB), padded by reflection to a multiple of 4 (the generator's total
stride), translated, cropped back to its own size and written under its own name (and
sub-folder) in the output folder. Files that cannot be decoded, and images above
``--max-pixels``, are named and skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from translate.cli import run_cli, select_device
from translate.errors import ConfigError, DataError
from translate.families.cyclegan.nets import DIRECTIONS, MIN_SIZE, PAD_MULTIPLE
from translate.io.fileio import write_image
from translate.io.images import IMAGE_EXTENSIONS, TRANSLATE_MAX_PIXELS, pad_to_multiple, read_image
from translate.training.checkpoint import load_cyclegan_generator
from translate.training.data import list_images, to_uint8, to_unit_range
from translate.training.device import PRECISIONS, autocast, resolve_precision


@torch.no_grad()
def translate_image(
    generator: nn.Module, rgb: np.ndarray, device: torch.device | str = "cpu", precision: str = "fp32"
) -> np.ndarray:
    """H x W x 3 uint8 RGB in, the translated H x W x 3 uint8 RGB out (same size); ``precision``
    is ``fp32`` or ``bf16`` (see :mod:`translate.training.device`)."""
    device = torch.device(device)
    height, width = rgb.shape[:2]
    padded, (top, left) = pad_to_multiple(rgb, PAD_MULTIPLE, MIN_SIZE)
    image = to_unit_range(torch.from_numpy(np.ascontiguousarray(padded)).permute(2, 0, 1)[None]).to(device)
    with autocast(precision, device):
        out = generator(image)
    out = out[:, :, top : top + height, left : left + width]
    return to_uint8(out[0].cpu()).permute(1, 2, 0).numpy()


def input_files(path: Path) -> list[tuple[Path, Path]]:
    """(file, name relative to the input) for a file or every image below a folder."""
    if path.is_file():
        return [(path, Path(path.name))]
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise DataError(f"no images in {path}: looked for {', '.join(IMAGE_EXTENSIONS)} files")
        return [(file, file.relative_to(path)) for file in files]
    raise DataError(f"--input {path} does not exist: pass an image file or a folder of images")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.apply", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="CycleGAN run folder, checkpoint folder or model folder")
    parser.add_argument("--input", type=Path, required=True, help="an image file or a folder of images")
    parser.add_argument("--output", type=Path, required=True, help="folder for the translated images")
    parser.add_argument("--direction", choices=DIRECTIONS, default="AtoB", help="AtoB (G) or BtoA (F)")
    parser.add_argument("--max-pixels", type=int, default=TRANSLATE_MAX_PIXELS,
                        help="skip larger images (default 2048x2048: memory grows with the pixel count)")
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto (default): bf16 on CUDA and on CPUs that compute it natively, else fp32")
    args = parser.parse_args(argv)
    files = input_files(args.input)
    source_dir = args.input if args.input.is_dir() else args.input.parent
    if args.output.resolve() == source_dir.resolve():
        raise ConfigError(f"--output {args.output} would overwrite the inputs: choose another folder")
    generator, config = load_cyclegan_generator(args.checkpoint, args.direction)
    device = select_device(args.gpu)
    precision = resolve_precision(args.precision, device)
    generator = generator.to(device)
    done, skipped = 0, []
    for file, name in files:
        try:
            rgb = read_image(file, 3, args.max_pixels)
        except DataError as exc:
            print(f"skipping {exc}", file=sys.stderr)
            skipped.append(file)
            continue
        write_image(args.output / name, translate_image(generator, rgb, device, precision))
        done += 1
    if not done:
        raise DataError(f"none of the {len(files)} input files could be decoded: nothing was written")
    names = (config.domain_a, config.domain_b) if args.direction == "AtoB" else (config.domain_b, config.domain_a)
    note = f"; skipped {len(skipped)} unreadable file(s)" if skipped else ""
    print(f"translated {done} image(s) {names[0]} -> {names[1]} into {args.output}{note}")


if __name__ == "__main__":
    run_cli(main)
