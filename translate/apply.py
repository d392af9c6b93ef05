"""Command line: ``python -m translate.apply MODEL --input FILE_OR_DIR --output DIR
[--direction AtoB|BtoA]``: translate image and video files of any size with a translation model.

MODEL is an exported ``.onnx`` file, run by ONNX Runtime (no PyTorch needed: the base install
runs it), or a translation run, checkpoint or model folder, run by PyTorch.

Each image is decoded with OpenCV (upright by its EXIF orientation; greyscale, 16-bit,
CMYK and RGBA become the model's channels), padded by reflection to a size its family's
generator takes (for CycleGAN a multiple of 4, its total stride), translated, cropped back to
its own size and written under its own name (and sub-folder) in the output folder. A video
(:mod:`translate.io.video`) is translated frame by frame into a video of the same name and
frame rate (from a container that cannot be written, such as WebM, as .mp4); with the
``video`` extra as H.264 with its sound, else without sound. Files that cannot be decoded,
and images or frames above ``--max-pixels``, are named and skipped (``--max-side`` scales
them down instead). The output folder may not be, hold or lie inside an input folder, and
existing files are replaced only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from translate.arguments import PRECISIONS, positive_int
from translate.command_line import run_cli
from translate.errors import ConfigError, DataError, InputError
from translate.io.fileio import check_writable, write_image, write_json
from translate.io.images import (
    IMAGE_EXTENSIONS,
    TRANSLATE_MAX_PIXELS,
    check_size,
    list_images,
    read_image,
    scale_to_side,
    scaled_size,
)
from translate.io.run_layout import refuse_run_files
from translate.io.video import (
    VIDEO_EXTENSIONS,
    VideoReader,
    at_constant_rate,
    carries_sound,
    is_video,
    translated_name,
    write_video,
)
from translate.onnx_models import ImageModel, is_onnx_file, onnx_model
from translate.progress import Progress

OUTPUT_MARKER = ".translate-apply"  # marks an output folder, so a later apply on a parent folder skips it
DESCRIPTION = "Translate image and video files of any size with a trained translation model (e.g. CycleGAN)."


def input_files(path: Path) -> list[tuple[Path, Path]]:
    """(file, name relative to the input) for a file or every image and video below a folder,
    leaving out folders that an earlier ``apply`` wrote (they hold its marker)."""
    if path.is_file():
        return [(path, _output_name(path, Path(path.name)))]
    if path.is_dir():
        outputs = {marker.parent for marker in path.rglob(OUTPUT_MARKER)}
        found = list_images(path, IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)  # one walk of the tree for both
        files = [f for f in found if not any(f.is_relative_to(folder) for folder in outputs)]
        if not files:
            raise DataError(f"no images or videos in {path}: looked for "
                            f"{', '.join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)} files")
        return [(file, _output_name(file, file.relative_to(path))) for file in files]
    raise DataError(f"--input {path} does not exist: pass an image or video file, or a folder of them")


def _output_name(file: Path, name: Path) -> Path:
    return translated_name(name) if is_video(file) else name


def check_outputs(files: list[tuple[Path, Path]], source: Path, output: Path, overwrite: bool) -> None:
    """Refuse, before anything is translated: an --output that is, holds or lies inside the
    input folder; one that would write onto an input or through a link into it; and
    (without --overwrite) files that exist; a file where the --output folder would be; a new
    --output named like an image or video file, which would become a folder of that name."""
    if not output.exists() and output.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
        raise ConfigError(f"--output {output} names a file, but --output is the folder the translations go into "
                          f"(under their own names): e.g. --output {output.with_suffix('')}/")
    check_writable(output, "--output")
    out = output.resolve()
    if source.is_dir():
        folder = source.resolve()
        if out == folder or out.is_relative_to(folder) or folder.is_relative_to(out):
            relation = "is" if out == folder else "lies inside" if out.is_relative_to(folder) else "holds"
            raise ConfigError(f"--output {output} {relation} the input folder {source}: the translations would mix "
                              "with the originals; choose a folder outside it")
    refuse_run_files(output / OUTPUT_MARKER, "--output")
    for twice in [name for name, count in Counter(name for _, name in files).items() if count > 1]:
        sources = " and ".join(str(file) for file, name in files if name == twice)
        raise ConfigError(f"{sources} would both be written as {output / twice} (a video FFmpeg reads but OpenCV does "
                          "not write comes out as .mp4): rename one of them")
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
    parser.add_argument("--input", type=Path, required=True,
                        help="an image or video file, or a folder of them")
    parser.add_argument("--output", type=Path, required=True, help="folder for the translated images and videos")
    parser.add_argument("--direction", choices=("AtoB", "BtoA"),
                        help="which generator of a checkpoint (default: its first, AtoB); an ONNX file has one")
    parser.add_argument("--max-pixels", type=positive_int, default=TRANSLATE_MAX_PIXELS,
                        help="skip larger images and videos of larger frames, counted once padded to the model's "
                        "sizes (default 2048x2048: memory grows with the pixel count); --max-side scales them "
                        "down instead")
    parser.add_argument("--max-side", type=positive_int,
                        help="scale images and video frames whose longer side is larger down to this many pixels "
                        "before translating (e.g. 1024 for phone photos); the output has the scaled size")
    parser.add_argument("--overwrite", action="store_true", help="replace files that already exist in --output")
    parser.add_argument("--gpu", action="store_true", help="run on CUDA (an ONNX file: needs onnxruntime-gpu)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="for a checkpoint: auto (default) is bf16 on Ampere or later GPUs and on CPUs that "
                        "compute it natively, else fp32; an ONNX file runs in the precision it was exported in")
    args = parser.parse_args(argv)
    files = input_files(args.input)
    check_outputs(files, args.input, args.output, args.overwrite)
    model = load_model(args)
    created, marked = not args.output.exists(), (args.output / OUTPUT_MARKER).exists()
    write_json(args.output / OUTPUT_MARKER, {"input": str(args.input), "model": model.source,
                                             "direction": model.direction})
    images, frames, skipped = 0, [], []
    unit = "files" if any(is_video(file) for file, _ in files) else "images"
    with Progress.for_stderr().track("translating", len(files), unit) as progress:
        for file, name in files:
            try:
                if is_video(file):
                    frames.append(translate_video(file, args.output / name, model, args.max_pixels, args.max_side))
                else:
                    image = read_input(file, model.channels, args.max_pixels, args.max_side)
                    write_image(args.output / name, model.translate(image))
                    images += 1
            except DataError as exc:
                progress.note(f"skipping {exc}")
                skipped.append(file)
            except InputError as exc:  # e.g. too large once padded to the model's sizes: this file only
                progress.note(f"skipping {file}: {exc}")
                skipped.append(file)
            progress.update()
    if not images and not frames:
        if not marked:  # an earlier call's outputs keep theirs
            _remove_marker(args.output, created)
        raise DataError(f"none of the {len(files)} input files could be translated (each is named above, with "
                        "why): nothing was written")
    print(f"translated {translated_count(images, frames)} {model.domains[0]} -> {model.domains[1]} into "
          f"{args.output}" + (f"; skipped {len(skipped)} file(s), named above" if skipped else ""))


def _remove_marker(output: Path, created: bool) -> None:
    """Leave no trace of a call that translated nothing: its marker, and the folder if the call
    made it and nothing else is in it."""
    (output / OUTPUT_MARKER).unlink(missing_ok=True)
    if created:
        with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
            output.rmdir()


def read_input(file: Path, channels: int, max_pixels: int, max_side: int | None) -> np.ndarray:
    """An image as the model takes it: within ``max_pixels``, checked from its header; or with
    ``max_side``, decoded (up to the decoder's own limit), scaled down, then checked."""
    if max_side is None:
        return read_image(file, channels, max_pixels)
    image = scale_to_side(read_image(file, channels), max_side)
    check_size(image.shape[1], image.shape[0], max_pixels, f"{file} scaled to --max-side {max_side}")
    return image


def translate_video(file: Path, out: Path, model: ImageModel, max_pixels: int, max_side: int | None) -> int:
    """Translate a video frame by frame into ``out`` (same container and frame rate, its sound
    with the ``video`` extra; frames scaled down to ``max_side`` if given), with a progress of
    its own in frames; return how many frames were written."""
    with VideoReader(file) as video:
        info = video.info
        check_size(*scaled_size(info.width, info.height, max_side), max_pixels, f"{file} (its frames)")
        with Progress.for_stderr().track(f"translating {file.name}", info.frames or None, "frames") as progress:

            def translated() -> Iterator[np.ndarray]:
                for frame, shown in at_constant_rate(video.timed_frames(model.channels), info.fps):
                    if shown:  # a frame a variable-rate clip holds for less than a period may be dropped
                        picture = model.translate(frame if max_side is None else scale_to_side(frame, max_side))
                        yield from [picture] * shown
                    progress.update()

            return write_video(out, translated(), info.fps, sound_from=file, pixel_aspect=info.pixel_aspect)


def translated_count(images: int, frames: list[int]) -> str:
    """What was translated, in words: "3 image(s)", "1 video(s) (240 frames, ...)", or both."""
    parts = [f"{images} image(s)"] if images or not frames else []
    if frames:
        sound = ("H.264, with their sound if any" if carries_sound()
                 else "without sound: pip install imageio-ffmpeg keeps it, as H.264")
        parts.append(f"{len(frames)} video(s) ({sum(frames)} frames, {sound})")
    return " and ".join(parts)


def load_model(args: argparse.Namespace) -> ImageModel:
    """The model ``args.model`` names: an ``.onnx`` file through the runtime, anything else
    through PyTorch (imported only then)."""
    if is_onnx_file(args.model):
        return onnx_model(Path(args.model), args.direction, args.gpu, args.precision, args.max_pixels)
    from translate.checkpoint_models import checkpoint_model

    return checkpoint_model(args.model, args.direction, args.gpu, args.precision, args.max_pixels)


def run() -> None:
    """The ``translate-apply`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
