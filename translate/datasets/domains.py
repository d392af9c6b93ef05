"""The two domains' image folders of unpaired translation: finding them (fetching a
reference dataset if asked), listing their images, and their test images resized for a grid."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import torch

from translate.errors import ConfigError, DataError
from translate.io.download import CYCLEGAN_DATASETS, download_cyclegan_dataset
from translate.io.images import IMAGE_EXTENSIONS, at_training_scale, list_images, read_image
from translate.modeling.pixels import to_unit


@dataclass(frozen=True)
class DomainFolders:
    """Where the two domains' training images (and, if present, test images) are."""

    train_a: Path
    train_b: Path
    test_a: Path | None = None
    test_b: Path | None = None
    note: str = ""  # how the folders were found, when it is not the obvious way


def _paired(folder: Path, swapped: bool = False, note: str = "") -> DomainFolders | None:
    """The reference layout ``folder/{trainA,trainB[,testA,testB]}``; ``swapped`` reads B as A."""
    if not ((folder / "trainA").is_dir() and (folder / "trainB").is_dir()):
        return None
    first, second = ("B", "A") if swapped else ("A", "B")
    test_a, test_b = (folder / f"test{side}" for side in (first, second))
    return DomainFolders(folder / f"train{first}", folder / f"train{second}", test_a if test_a.is_dir() else None,
                         test_b if test_b.is_dir() else None, note)


def find_domains(data_root: Path, domain_a: str, domain_b: str, training: bool = False) -> DomainFolders:
    """The folders of domains A and B, looked for as (in turn):

    ``<data>/A2B/{trainA,trainB[,testA,testB]}`` (the reference layout); ``<data>/B2A/`` with
    its sides swapped; ``<data>`` itself in that layout (``--data`` naming the dataset);
    ``<data>/A/`` and ``<data>/B/``. Otherwise the error lists what ``<data>`` holds and
    suggests the fix: for ``training`` (a command with ``--domains`` and ``--download``) the
    nearest pair and ``--download``, else ``python -m translate.data fetch``.
    """
    if not data_root.is_dir():
        problem = "is a file, not a folder" if data_root.exists() else "does not exist"
        raise DataError(f"the data folder {data_root} {problem}: pass --data DIR (or set TRANSLATE_DATA) to "
                        "the folder that holds the dataset")
    pair, reverse = f"{domain_a}2{domain_b}", f"{domain_b}2{domain_a}"
    found = (
        _paired(data_root / pair)
        or _paired(data_root / reverse, swapped=True,
                   note=f"found {data_root / reverse}: its B side ({domain_a}) is domain A here, and its A side "
                   f"({domain_b}) domain B")
        or (_paired(data_root) if data_root.name in (pair, reverse) else None)
    )
    if found is not None:
        return found
    if (data_root / domain_a).is_dir() and (data_root / domain_b).is_dir():
        return DomainFolders(data_root / domain_a, data_root / domain_b)
    raise DataError(_not_found(data_root, domain_a, domain_b, training))


def domain_folders(data_root: Path, domain_a: str, domain_b: str, download: bool = False,
                   training: bool = False) -> DomainFolders:
    """:func:`find_domains`; with ``download``, a reference dataset is fetched first when it is
    missing, the other way round where only that one is published (``--domains zebra horse``
    takes horse2zebra, whose B side is then domain A)."""
    try:
        return find_domains(data_root, domain_a, domain_b, training)
    except DataError:
        if not download:
            raise
    pair, reverse = f"{domain_a}2{domain_b}", f"{domain_b}2{domain_a}"
    download_cyclegan_dataset(reverse if pair not in CYCLEGAN_DATASETS and reverse in CYCLEGAN_DATASETS else pair,
                              data_root)
    return find_domains(data_root, domain_a, domain_b, training)


def _not_found(data_root: Path, domain_a: str, domain_b: str, training: bool) -> str:
    pair = f"{domain_a}2{domain_b}"
    message = (f"no images for domains {domain_a!r} and {domain_b!r}: looked for {data_root / pair}/trainA and "
               f"trainB, and for {data_root / domain_a} and {data_root / domain_b}")
    pairs = sorted(d.name for d in data_root.iterdir() if _paired(d) is not None and "2" in d.name)
    if pairs:
        message += f"; {data_root} holds {', '.join(pairs)}"
        nearest = difflib.get_close_matches(pair, pairs, n=1, cutoff=0.4)
        if nearest and training:
            message += f" (did you mean --domains {' '.join(nearest[0].split('2', 1))}?)"
    else:
        message += "; pass --data DIR (or set TRANSLATE_DATA) to the folder that holds them"
    if pair in CYCLEGAN_DATASETS:
        message += ("; or add --download to fetch it" if training
                    else f"; or fetch it with python -m translate.data fetch {pair} --data {data_root}")
    return message


def domain_files(folder: Path) -> list[Path]:
    """The image files of one domain; an error when none of them decodes."""
    files = list_images(folder)
    if not files:
        raise DataError(f"no images in {folder}: looked for {', '.join(IMAGE_EXTENSIONS)} files")
    for path in files:  # stops at the first good file, so this is cheap on healthy data
        try:
            read_image(path)
            return files
        except DataError:
            continue
    raise DataError(f"none of the {len(files)} image files in {folder} could be decoded: replace them with JPEG/PNG")


def check_sizes(load_size: int, crop_size: int) -> None:
    """Refuse a crop larger than the resized image before any data loads (the loader would
    fail on the first image, deep inside a worker)."""
    if crop_size > load_size:
        raise ConfigError(
            f"--crop-size {crop_size} is larger than the image after resizing (--load-size {load_size}): "
            "lower --crop-size or raise --load-size"
        )


def fixed_images(folder: Path, count: int, size: int, channels: int = 3, load_size: int | None = None) -> torch.Tensor:
    """The first ``count`` readable images of a folder as the sample grid's inputs, at the scale
    training crops them (see :func:`~translate.io.images.at_training_scale`)."""
    return resized_images(list_images(folder), count, size, channels, folder, load_size)


def resized_images(files: list[Path], count: int, size: int, channels: int = 3,
                   folder: Path | None = None, load_size: int | None = None) -> torch.Tensor:
    """The first ``count`` readable images of ``files`` (from ``folder``), resized to ``size``
    by area averaging (or cut from ``load_size`` at training scale), in [-1, 1]; unreadable
    files are passed over."""
    images = []
    for path in files:
        try:
            images.append(to_unit(at_training_scale(read_image(path, channels), size, load_size))[0])
        except DataError:
            continue
        if len(images) == count:
            break
    if not images:
        raise DataError(f"no readable images in {folder or 'the files given'} for the sample grid")
    return torch.stack(images)
