"""Unpaired two-domain image data (CycleGAN): finding the folders, the augmentation and
the loader.

Every random choice of a sample (which B image goes with an A image, the crop offset,
the flip) is drawn from a generator seeded by (seed, epoch, index), so a sample is the
same whichever worker, process or resumed run loads it.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from translate.errors import ConfigError, DataError
from translate.io.download import CYCLEGAN_DATASETS
from translate.io.images import IMAGE_EXTENSIONS, list_images, read_image
from translate.modeling.pixels import to_unit
from translate.training.data import (
    derived_generator,
    epoch_batches,
    epoch_order,
    ignore_interrupts,
)


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


def find_domains(data_root: Path, domain_a: str, domain_b: str) -> DomainFolders:
    """The folders of domains A and B, looked for as (in turn):

    ``<data>/A2B/{trainA,trainB[,testA,testB]}`` (the reference layout); ``<data>/B2A/`` with
    its sides swapped; ``<data>`` itself in that layout (``--data`` naming the dataset);
    ``<data>/A/`` and ``<data>/B/``. Otherwise the error lists what ``<data>`` holds and
    suggests the nearest pair.
    """
    if not data_root.is_dir():
        raise DataError(f"the data folder {data_root} does not exist: pass --data DIR (or set TRANSLATE_DATA) to "
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
    raise DataError(_not_found(data_root, domain_a, domain_b))


def _not_found(data_root: Path, domain_a: str, domain_b: str) -> str:
    pair = f"{domain_a}2{domain_b}"
    message = (f"no images for domains {domain_a!r} and {domain_b!r}: looked for {data_root / pair}/trainA and "
               f"trainB, and for {data_root / domain_a} and {data_root / domain_b}")
    pairs = sorted(d.name for d in data_root.iterdir() if _paired(d) is not None and "2" in d.name)
    if pairs:
        message += f"; {data_root} holds {', '.join(pairs)}"
        nearest = difflib.get_close_matches(pair, pairs, n=1, cutoff=0.4)
        if nearest:
            message += f" (did you mean --domains {' '.join(nearest[0].split('2', 1))}?)"
    else:
        message += "; pass --data DIR (or set TRANSLATE_DATA) to the folder that holds them"
    if pair in CYCLEGAN_DATASETS:
        message += "; or add --download to fetch it"
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
    if crop_size > load_size:
        raise ConfigError(
            f"--crop-size {crop_size} is larger than the image after resizing (--load-size {load_size}): "
            "lower --crop-size or raise --load-size"
        )


class UnpairedImages(Dataset):
    """Pairs (A image, random B image), each resized to ``load_size``, randomly cropped to
    ``crop_size`` and randomly flipped, as float tensors in [-1, 1].

    Indexed by ``(epoch, index)``: an epoch has ``max(len(A), len(B))`` items, item i uses
    A image ``i mod len(A)`` (as the reference implementation does). A file that fails to
    decode is named in a warning and replaced by the next good one, so every batch keeps
    its size (which distributed training needs).
    """

    def __init__(
        self, files_a: list[Path], files_b: list[Path], load_size: int, crop_size: int, seed: int, channels: int = 3
    ):
        import albumentations as A

        check_sizes(load_size, crop_size)
        self.files = (files_a, files_b)
        self.load_size, self.crop_size, self.seed, self.channels = load_size, crop_size, seed, channels
        self.resize = A.Resize(load_size, load_size, interpolation=cv2.INTER_CUBIC)
        self.flip = A.HorizontalFlip(p=1.0)

    def __len__(self) -> int:
        return max(len(f) for f in self.files)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key
        draws = torch.rand(7, generator=derived_generator(self.seed, epoch, index)).tolist()
        files_a, files_b = self.files
        image_a = self._augmented(files_a, index % len(files_a), draws[1:4])
        image_b = self._augmented(files_b, int(draws[0] * len(files_b)), draws[4:7])
        return image_a, image_b

    def _augmented(self, files: list[Path], index: int, draws: list[float]) -> torch.Tensor:
        import albumentations as A

        image = self._decode(files, index)
        room = self.load_size - self.crop_size + 1
        x, y = int(draws[0] * room), int(draws[1] * room)
        steps = [self.resize, A.Crop(x_min=x, y_min=y, x_max=x + self.crop_size, y_max=y + self.crop_size)]
        if draws[2] < 0.5:
            steps.append(self.flip)
        return to_unit(np.ascontiguousarray(A.Compose(steps)(image=image)["image"]))[0]

    def _decode(self, files: list[Path], index: int) -> np.ndarray:
        for offset in range(len(files)):
            try:
                return read_image(files[(index + offset) % len(files)], self.channels)
            except DataError as exc:
                warnings.warn(f"skipping {exc}", stacklevel=1)
        raise DataError(f"none of the {len(files)} images of a domain could be decoded any more: check the data")


def fixed_images(folder: Path, count: int, size: int, channels: int = 3) -> torch.Tensor:
    """The first ``count`` readable images of a folder, resized to ``size`` (the sample grid's inputs)."""
    return resized_images(list_images(folder), count, size, channels, folder)


def resized_images(files: list[Path], count: int, size: int, channels: int = 3,
                   folder: Path | None = None) -> torch.Tensor:
    """The first ``count`` readable images of ``files`` (from ``folder``), resized to ``size``
    by area averaging, in [-1, 1]; unreadable files are passed over."""
    import albumentations as A

    resize = A.Resize(size, size, interpolation=cv2.INTER_AREA)
    images = []
    for path in files:
        try:
            images.append(to_unit(np.ascontiguousarray(resize(image=read_image(path, channels))["image"]))[0])
        except DataError:
            continue
        if len(images) == count:
            break
    if not images:
        raise DataError(f"no readable images in {folder or 'the files given'} for the sample grid")
    return torch.stack(images)


class UnpairedSource:
    """Batches of (A, B) through a DataLoader with worker processes; each rank of a
    distributed run gets its own share of every step's indices."""

    def __init__(
        self,
        dataset: UnpairedImages,
        batch_size: int,
        seed: int,
        workers: int,
        pin_memory: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if len(dataset) < batch_size * world_size:
            raise DataError(
                f"the domains have {len(dataset)} images, fewer than one step of {batch_size} x {world_size} ranks"
            )
        self.dataset, self.batch_size, self.seed, self.workers = dataset, batch_size, seed, workers
        self.pin_memory, self.rank, self.world_size = pin_memory, rank, world_size
        self.steps_per_epoch = len(dataset) // (batch_size * world_size)

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = epoch_order(len(self.dataset), self.seed, epoch)
        indices = epoch_batches(order, self.batch_size, start, self.rank, self.world_size)
        loader = DataLoader(
            self.dataset,
            batch_sampler=[[(epoch, i) for i in batch] for batch in indices],
            num_workers=self.workers,
            pin_memory=self.pin_memory,
            prefetch_factor=4 if self.workers else None,
            worker_init_fn=ignore_interrupts,
        )
        yield from loader
