"""Paired images (pix2pix's data): finding a dataset's splits in either layout people have,
listing its pairs, and reading a pair as two aligned images.

Layouts, under ``<data>/NAME``:

- pix2pix's own: ``{train,val,test}/*.jpg``, each image holding A on the left and B on the
  right (what ``--download`` and ``python -m translate.pairs`` write);
- two folders of same-named files, ``A/`` and ``B/``: either ``{train,test}/{A,B}`` or just
  ``{A,B}`` (training pairs only). Files pair by name without their extension.

A file with no partner is named in a warning and left out when the pairs are listed; A and B
files of two sizes are refused when they are read (the training data skips them with a
warning, as it does images that do not decode). A side-by-side image of odd width splits as
the reference's does (see :func:`read_pair`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from translate.datasets.pair_maker import RECORD
from translate.errors import DataError
from translate.io.download import PIX2PIX, download_pix2pix_dataset
from translate.io.fileio import read_json_if_exists
from translate.io.images import IMAGE_EXTENSIONS, at_training_scale, list_images, read_image
from translate.modeling.pixels import to_unit

TEST_SPLITS = ("test", "val")  # the split scored and shown, in order of preference


@dataclass(frozen=True)
class Pair:
    """One training or test example: a side-by-side image, or an A and a B file."""

    name: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class PairedData:
    """A paired dataset's folder, its training pairs, and its test pairs (from ``test`` or,
    without one, ``val``; none for a dataset of training pairs only)."""

    folder: Path
    train: list[Pair]
    test: list[Pair]
    test_split: str | None


def read_pair(pair: Pair, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) as uint8 H x W x C of one size; DataError for a file that does not decode or A and
    B files of two sizes. A side-by-side image of odd width splits where the reference's
    ``aligned_dataset.py`` does, A being the left ``width // 2`` columns; B, one column wider
    there (which the reference squeezes into its resize), loses its last column, so that the
    halves stay aligned pixel for pixel."""
    if len(pair.files) == 1:
        image = read_image(pair.files[0], channels)
        half = image.shape[1] // 2
        return image[:, :half], image[:, half : 2 * half]
    a, b = (read_image(path, channels) for path in pair.files)
    if a.shape[:2] != b.shape[:2]:
        raise DataError(f"{pair.name}: A is {a.shape[1]}x{a.shape[0]} but B {b.shape[1]}x{b.shape[0]} "
                        f"({pair.files[0]}, {pair.files[1]}): the halves of a pair must be one size")
    return a, b


def read_pairs(pairs: list[Pair], channels: int = 3, reverse: bool = False) -> tuple[list[np.ndarray],
                                                                                     list[np.ndarray]]:
    """(inputs, targets) of ``pairs``: A and B, or with ``reverse`` B and A; a pair that cannot
    be read is named in a warning and left out."""
    inputs, targets = [], []
    for pair in pairs:
        try:
            a, b = read_pair(pair, channels)
        except DataError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=2)
            continue
        inputs.append(b if reverse else a)
        targets.append(a if reverse else b)
    return inputs, targets


def resized_pairs(pairs: list[Pair], count: int, size: int, channels: int = 3, reverse: bool = False,
                  load_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of the first ``count`` readable pairs, resized to ``size`` square by
    area averaging, in [-1, 1]: a sample grid's rows. With ``load_size``, resized to that and
    cut to their central ``size`` square instead, at the scale training crops them: one-pixel
    lines shrunk by area averaging would turn grey, a drawing the model never saw."""
    inputs, targets = [], []
    for pair in pairs:
        read = read_pairs([pair], channels, reverse)
        for side, images in zip((inputs, targets), read, strict=True):
            side += [to_unit(at_training_scale(image, size, load_size))[0] for image in images]
        if len(inputs) == count:
            break
    if not inputs:
        raise DataError(f"none of the {len(pairs)} pairs given for the sample grid could be read")
    return torch.stack(inputs), torch.stack(targets)


def split_pairs(folder: Path, leave_out: tuple[str, ...] = ()) -> list[Pair]:
    """The pairs of one split folder: its ``A/`` and ``B/`` files matched by name, or else its
    side-by-side images, but for those in its sub-folders named in ``leave_out``; files without
    a partner are named in a warning and left out."""
    if not ((folder / "A").is_dir() and (folder / "B").is_dir()):
        return [Pair(path.relative_to(folder).with_suffix("").as_posix(), (path,)) for path in list_images(folder)
                if path.relative_to(folder).parts[0] not in leave_out]
    sides = [_by_name(folder / side) for side in ("A", "B")]
    for own, other, other_side in ((sides[0], sides[1], "B"), (sides[1], sides[0], "A")):
        for name in sorted(own.keys() - other.keys()):
            warnings.warn(f"skipping {own[name]}: {folder / other_side} has no file named {name} to pair it with",
                          stacklevel=2)
    return [Pair(name, (sides[0][name], sides[1][name])) for name in sorted(sides[0].keys() & sides[1].keys())]


def _by_name(folder: Path) -> dict[str, Path]:
    """A side's files by their path below ``folder`` without the extension (the first of two
    files that differ only in it, with a warning)."""
    found: dict[str, Path] = {}
    for path in list_images(folder):
        name = path.relative_to(folder).with_suffix("").as_posix()
        if name in found:
            warnings.warn(f"skipping {path}: {found[name]} has the same name", stacklevel=3)
            continue
        found[name] = path
    return found


def find_paired(data_root: Path, name: str, download: bool = False) -> PairedData:
    """The dataset ``<data_root>/name`` in either layout (fetched first with ``download`` when
    missing); an error that says what was looked for when it has no pairs."""
    folder = data_root / name
    if not folder.is_dir():
        if not download:
            hint = "; or add --download to fetch it" if name in PIX2PIX.names else ""
            raise DataError(f"no paired dataset {folder}: pass --data DIR (or set TRANSLATE_DATA) to the folder "
                            f"that holds {name}/, or make one with python -m translate.pairs{hint}")
        download_pix2pix_dataset(name, data_root)
    if not (folder / "train").is_dir() and (folder / "trainA").is_dir():
        raise DataError(f"{folder} holds unpaired domains (trainA, trainB), as CycleGAN's datasets do: a paired "
                        "model needs pairs in train/ (side by side) or A/ and B/")
    train_folder = folder / "train" if (folder / "train").is_dir() else folder
    # Side-by-side images at the top are the training pairs; the test split's below them are not.
    train = split_pairs(train_folder, TEST_SPLITS if train_folder == folder else ())
    if not train:
        raise DataError(f"no image pairs in {train_folder}: looked for side-by-side {', '.join(IMAGE_EXTENSIONS)} "
                        "images, or folders A/ and B/ of same-named files")
    test_split = next((split for split in TEST_SPLITS if (folder / split).is_dir()), None)
    test = split_pairs(folder / test_split) if test_split else []
    return PairedData(folder, train, test, test_split if test else None)


def recorded_domains(folder: Path) -> tuple[str, str] | None:
    """The names of the two sides that ``translate.pairs`` recorded for the dataset, if any."""
    record = read_json_if_exists(folder / RECORD)
    domains = record.get("domains") if isinstance(record, dict) else None
    if isinstance(domains, list) and len(domains) == 2 and all(isinstance(d, str) and d for d in domains):
        return domains[0], domains[1]
    return None
