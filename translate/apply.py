"""Command line: ``python -m translate.apply RUN_OR_CHECKPOINT --input FILE_OR_DIR --output DIR
[--direction AtoB|BtoA]``: translate image files of any size with a translation model.

Each image is decoded with OpenCV (upright by its EXIF orientation; greyscale, 16-bit,
CMYK and RGBA become the model's channels), padded by reflection to a multiple of 4 (the
generator's total stride), translated, cropped back to its own size and written under its
own name (and sub-folder) in the output folder. Files that cannot be decoded, and images
above ``--max-pixels``, are named and skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from translate.cli import run_cli
from translate.errors import ConfigError, DataError
from translate.families import get_family
from translate.io.fileio import write_image
from translate.io.images import IMAGE_EXTENSIONS, TRANSLATE_MAX_PIXELS, list_images, read_image
from translate.modeling.device import PRECISIONS, resolve_precision, select_device
from translate.modeling.inference import translate_image
from translate.training.checkpoint import read_checkpoint

DESCRIPTION = "Translate image files of any size with a trained translation model (e.g. CycleGAN)."


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
    parser = argparse.ArgumentParser(prog="python -m translate.apply", description=DESCRIPTION)
    parser.add_argument("checkpoint", help="translation run folder, checkpoint folder or model folder")
    parser.add_argument("--input", type=Path, required=True, help="an image file or a folder of images")
    parser.add_argument("--output", type=Path, required=True, help="folder for the translated images")
    parser.add_argument("--direction", help="which generator: AtoB (default) or BtoA")
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
    checkpoint = read_checkpoint(args.checkpoint)
    family = get_family(checkpoint.family)
    if family.task != "translate":
        raise ConfigError(f"{checkpoint.path} is a {family.name} model, which draws images rather than translating "
                          "them: use python -m translate.sample")
    direction = family.check_direction(args.direction, checkpoint)
    generator, config = family.load_generator(checkpoint, direction)
    device = select_device(args.gpu)
    precision = resolve_precision(args.precision, device)
    generator = generator.to(device)
    done, skipped = 0, []
    for file, name in files:
        try:
            image = read_image(file, config.channels, args.max_pixels)
        except DataError as exc:
            print(f"skipping {exc}", file=sys.stderr)
            skipped.append(file)
            continue
        write_image(args.output / name, translate_image(generator, image, device, precision))
        done += 1
    if not done:
        raise DataError(f"none of the {len(files)} input files could be decoded: nothing was written")
    names = (config.domain_a, config.domain_b) if direction == "AtoB" else (config.domain_b, config.domain_a)
    note = f"; skipped {len(skipped)} unreadable file(s)" if skipped else ""
    print(f"translated {done} image(s) {names[0]} -> {names[1]} into {args.output}{note}")


if __name__ == "__main__":
    run_cli(main)
