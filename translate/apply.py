"""Command line: ``python -m translate.apply MODEL --input FILE_OR_DIR --output DIR
[--direction AtoB|BtoA]``: translate image files of any size with a translation model.

MODEL is an exported ``.onnx`` file, run by ONNX Runtime (no PyTorch needed: the base install
runs it), or a translation run, checkpoint or model folder, run by PyTorch.

Each image is decoded with OpenCV (upright by its EXIF orientation; greyscale, 16-bit,
CMYK and RGBA become the model's channels), padded by reflection to a size its family's
generator takes (for CycleGAN a multiple of 4, its total stride), translated, cropped back to
its own size and written under its own name (and sub-folder) in the output folder. Files
that cannot be decoded, and images above ``--max-pixels``, are named and skipped. The
output folder may not be, hold or lie inside an input folder, and existing files are
replaced only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from translate.arguments import PRECISIONS, positive_int
from translate.command_line import run_cli
from translate.errors import ConfigError, DataError
from translate.io.fileio import write_image, write_json
from translate.io.images import IMAGE_EXTENSIONS, TRANSLATE_MAX_PIXELS, list_images, read_image
from translate.io.run_layout import refuse_run_files
from translate.onnx_models import ImageModel, is_onnx_file, onnx_model
from translate.progress import Progress

OUTPUT_MARKER = ".translate-apply"  # marks an output folder, so a later apply on a parent folder skips it
DESCRIPTION = "Translate image files of any size with a trained translation model (e.g. CycleGAN)."


def input_files(path: Path) -> list[tuple[Path, Path]]:
    """(file, name relative to the input) for a file or every image below a folder, leaving
    out folders that an earlier ``apply`` wrote (they hold its marker)."""
    if path.is_file():
        return [(path, Path(path.name))]
    if path.is_dir():
        outputs = {marker.parent for marker in path.rglob(OUTPUT_MARKER)}
        files = [f for f in list_images(path) if not any(f.is_relative_to(folder) for folder in outputs)]
        if not files:
            raise DataError(f"no images in {path}: looked for {', '.join(IMAGE_EXTENSIONS)} files")
        return [(file, file.relative_to(path)) for file in files]
    raise DataError(f"--input {path} does not exist: pass an image file or a folder of images")


def check_outputs(files: list[tuple[Path, Path]], source: Path, output: Path, overwrite: bool) -> None:
    """Refuse, before anything is translated: an --output that is, holds or lies inside the
    input folder; one that would write onto an input or through a link into it; and
    (without --overwrite) files that exist."""
    out = output.resolve()
    if source.is_dir():
        folder = source.resolve()
        if out == folder or out.is_relative_to(folder) or folder.is_relative_to(out):
            relation = "is" if out == folder else "lies inside" if out.is_relative_to(folder) else "holds"
            raise ConfigError(f"--output {output} {relation} the input folder {source}: the translations would mix "
                              "with the originals; choose a folder outside it")
    refuse_run_files(output / OUTPUT_MARKER, "--output")
    for file, name in files:
        refuse_run_files(output / name, "--output")
        if (output / name).resolve() == file.resolve():
            raise ConfigError(f"--output {output} would write onto the input {file}: choose another folder")
        if file.resolve().is_relative_to(out):
            raise ConfigError(f"the input {file} is a link into --output {output}: translating it would overwrite "
                              "its target; choose another --output")
    existing = [output / name for _, name in files if (output / name).exists()]
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise ConfigError(f"{existing[0]}{more} already exist: add --overwrite to replace them, or choose another "
                          "--output")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.apply", description=DESCRIPTION)
    parser.add_argument("model", help="an exported .onnx file (needs only the runtime install), or a translation run "
                        "folder, checkpoint folder or model folder (needs PyTorch)")
    parser.add_argument("--input", type=Path, required=True, help="an image file or a folder of images")
    parser.add_argument("--output", type=Path, required=True, help="folder for the translated images")
    parser.add_argument("--direction", choices=("AtoB", "BtoA"),
                        help="which generator of a checkpoint (default: its first, AtoB); an ONNX file has one")
    parser.add_argument("--max-pixels", type=positive_int, default=TRANSLATE_MAX_PIXELS,
                        help="skip larger images (default 2048x2048: memory grows with the pixel count)")
    parser.add_argument("--overwrite", action="store_true", help="replace files that already exist in --output")
    parser.add_argument("--gpu", action="store_true", help="run on CUDA (an ONNX file: needs onnxruntime-gpu)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="for a checkpoint: auto (default) is bf16 on CUDA and on CPUs that compute it natively, "
                        "else fp32; an ONNX file runs in the precision it was exported in")
    args = parser.parse_args(argv)
    files = input_files(args.input)
    check_outputs(files, args.input, args.output, args.overwrite)
    model = load_model(args)
    write_json(args.output / OUTPUT_MARKER, {"input": str(args.input), "model": model.source,
                                             "direction": model.direction})
    done, skipped = 0, []
    with Progress.for_stderr().track("translating", len(files)) as progress:
        for file, name in files:
            try:
                image = read_image(file, model.channels, args.max_pixels)
            except DataError as exc:
                progress.note(f"skipping {exc}")
                skipped.append(file)
            else:
                write_image(args.output / name, model.translate(image))
                done += 1
            progress.update()
    if not done:
        raise DataError(f"none of the {len(files)} input files could be translated (each is named above, with "
                        "why): no image was written")
    note = f"; skipped {len(skipped)} file(s), named above" if skipped else ""
    print(f"translated {done} image(s) {model.domains[0]} -> {model.domains[1]} into {args.output}{note}")


def load_model(args: argparse.Namespace) -> ImageModel:
    """The model ``args.model`` names: an ``.onnx`` file through the runtime, anything else
    through PyTorch (imported only then)."""
    if is_onnx_file(args.model):
        return onnx_model(Path(args.model), args.direction, args.gpu, args.precision, args.max_pixels)
    from translate.checkpoint_models import checkpoint_model

    return checkpoint_model(args.model, args.direction, args.gpu, args.precision)


def run() -> None:
    """The ``translate-apply`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
