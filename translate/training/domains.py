"""Training on unpaired two-domain images (CycleGAN's data): the augmentation and the
loader (finding the domains' folders is :mod:`translate.datasets.domains`).

Every random choice of a sample (which B image goes with an A image, the crop offset,
the flip) is drawn from a generator seeded by (seed, epoch, index), so a sample is the
same whichever worker, process or resumed run loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from translate.datasets.domains import check_sizes
from translate.errors import DataError
from translate.io.images import read_image, resize_for_training
from translate.modeling.pixels import to_unit
from translate.training.data import (
    derived_generator,
    epoch_batches,
    epoch_order,
    first_readable,
    ignore_interrupts,
    loader_generator,
)


def augmented(images: tuple[np.ndarray, ...], load_size: int, crop_size: int, draws: list[float]) -> list[
    torch.Tensor
]:
    """The same augmentation of each of ``images`` (one image, or a pair that must stay
    aligned): resized to ``load_size`` square, cropped to ``crop_size`` at the offsets
    ``draws[0]`` and ``draws[1]`` (in [0, 1) of the room there is), and flipped if ``draws[2]``
    < 0.5; as float tensors in [-1, 1]."""
    room = load_size - crop_size + 1
    x, y = int(draws[0] * room), int(draws[1] * room)
    flip = draws[2] < 0.5
    out = []
    for image in images:
        # Bicubic up, area averaging down (the reference's PIL bicubic anti-aliases a photo larger
        # than load_size; OpenCV's bicubic alone would alias its fine detail into moiré).
        crop = resize_for_training(image, load_size, load_size)[y : y + crop_size, x : x + crop_size]
        out.append(to_unit(np.ascontiguousarray(crop[:, ::-1] if flip else crop))[0])
    return out


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
        check_sizes(load_size, crop_size)
        self.files = (files_a, files_b)
        self.load_size, self.crop_size, self.seed, self.channels = load_size, crop_size, seed, channels

    def __len__(self) -> int:
        return max(len(f) for f in self.files)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key
        draws = torch.rand(7, generator=derived_generator("sample", self.seed, epoch, index)).tolist()
        files_a, files_b = self.files
        image_a = self._augmented(files_a, index % len(files_a), draws[1:4])
        image_b = self._augmented(files_b, int(draws[0] * len(files_b)), draws[4:7])
        return image_a, image_b

    def _augmented(self, files: list[Path], index: int, draws: list[float]) -> torch.Tensor:
        return augmented((self._decode(files, index),), self.load_size, self.crop_size, draws)[0]

    def _decode(self, files: list[Path], index: int) -> np.ndarray:
        return first_readable(files, index, lambda path: read_image(path, self.channels), "images of a domain")


class UnpairedSource:
    """Batches of a dataset indexed by ``(epoch, index)`` (unpaired images, or aligned pairs)
    through a DataLoader with worker processes; each rank of a distributed run gets its own
    share of every step's indices."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int,
        workers: int,
        pin_memory: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if len(dataset) < batch_size * world_size:
            raise DataError(
                f"the data has {len(dataset)} training examples, fewer than one step of {batch_size} x {world_size} "
                f"ranks: pass --batch-size {max(1, len(dataset) // world_size)} or less, or add examples"
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
            generator=loader_generator(self.seed, epoch),
        )
        yield from loader
