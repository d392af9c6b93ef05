"""Training data: MNIST (read by :mod:`translate.datasets.mnist`) in memory, and image
folders decoded with OpenCV, in batches whose order is a pure function of (seed, epoch).

Images are held as uint8 N x H x W x C and leave this module as float tensors in [-1, 1],
N x C x H x W (:mod:`translate.modeling.pixels`).
"""

from __future__ import annotations

import signal
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from translate.datasets.mnist import load_mnist
from translate.errors import DataError
from translate.io.images import IMAGE_EXTENSIONS, is_data_name, list_images, read_image
from translate.modeling.pixels import to_unit

T = TypeVar("T")
R = TypeVar("R")


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled index order of one epoch, a pure function of (seed, epoch).

    Deriving it rather than drawing it from a running RNG lets a resumed run skip to
    the exact batch where it stopped.
    """
    return torch.randperm(n, generator=derived_generator("order", seed, epoch))


# How a run's random numbers are made, saved in each checkpoint: 2 since streams are named
# (before, epoch_order overflowed on large seeds and streams could coincide); 3 since pix2pix's
# dropout is seeded from the step stream.
RANDOM_STREAMS = 3


def derived_generator(stream: str, *keys: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator seeded by a hash of ``stream`` (what the draws are for) and ``keys`` (e.g.
    seed, epoch, index).

    Randomness drawn from it is a pure function of its arguments, so a resumed run, another
    loader worker or another process redraws exactly the same numbers. The stream's name and the
    number of keys are hashed in, and each key as two 32-bit words: numpy's SeedSequence pads its
    entropy with zeros and splits a big int into as many words as it needs, so the bare keys
    would let (seed, step, 0, 0) of one stream draw what (seed, step) of another does.
    """
    words = [word for key in keys for word in (key % 2**32, key // 2**32 % 2**32)]
    entropy = [zlib.crc32(stream.encode()), len(keys), *words]
    seed = int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0])
    return torch.Generator(device=device).manual_seed(seed)


def loader_generator(seed: int, epoch: int) -> torch.Generator:
    """What an epoch's DataLoader draws its base seed from, instead of torch's global RNG: a
    resumed run starts a loader mid-epoch, and a draw from the global RNG there would shift
    every later random draw of the steps (the U-Net's dropout) away from a straight run's."""
    return derived_generator("loader", seed, epoch)


def first_readable(items: Sequence[T], index: int, read: Callable[[T], R], what: str) -> R:
    """``read(items[index])``, or of the next item that reads (wrapping round) where it fails: a
    file damaged while a run goes on is named in a warning and passed over, not a crash hours
    in. ``what`` names the items in the error when none reads any more."""
    for offset in range(len(items)):
        try:
            return read(items[(index + offset) % len(items)])
        except DataError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=2)
    raise DataError(f"none of the {len(items)} {what} could be read any more: check the data")


def epoch_batches(
    order: torch.Tensor, batch_size: int, start: int, rank: int = 0, world_size: int = 1
) -> list[list[int]]:
    """Batches of ``order`` from step ``start`` on; with ``world_size > 1`` each step's
    ``batch_size * world_size`` indices are split between the ranks (a distributed sampler)."""
    per_step = batch_size * world_size
    steps = len(order) // per_step  # the last partial step is dropped
    first = rank * batch_size
    return [order[i * per_step + first : i * per_step + first + batch_size].tolist() for i in range(start, steps)]


def _check_one_batch(images: int, batch_size: int) -> None:
    if images < batch_size:
        raise DataError(f"the dataset has {images} images, fewer than one batch of {batch_size}: "
                        f"pass --batch-size {images} or less, or add images")


class TensorSource:
    """Batches from uint8 N x H x W x C images held in memory (MNIST: 47 MB, no loader processes needed)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int):
        _check_one_batch(len(images), batch_size)
        self.images, self.labels, self.batch_size, self.seed = images, labels, batch_size, seed
        self.steps_per_epoch = len(images) // batch_size

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index in epoch_batches(epoch_order(len(self.images), self.seed, epoch), self.batch_size, start):
            yield to_unit(self.images[index]), self.labels[index]


def mnist_images(data_root: Path, image_size: int, channels: int, download: bool = False) -> tuple[
    torch.Tensor, torch.Tensor
]:
    """MNIST train as uint8 N x S x S x C, resized (bilinear, antialiased) when S is not 28."""
    images, labels = load_mnist(data_root, "train", download)
    images = images.unsqueeze(1)
    if image_size != 28:
        resized = torch.nn.functional.interpolate(images.float(), size=image_size, mode="bilinear", antialias=True)
        images = resized.round().clamp(0, 255).to(torch.uint8)
    return images.permute(0, 2, 3, 1).expand(-1, -1, -1, channels).contiguous(), labels


class ImageFolder(Dataset):
    """Images below a folder, resized and centre-cropped to a square with albumentations.

    With ``class_folders`` each sub-folder is a class (sorted by name). Files that fail
    to decode are named in a warning and yield ``None``, which :func:`collate_skip_bad`
    drops, so one bad file never stops an epoch.
    """

    def __init__(self, root: Path, image_size: int, channels: int, class_folders: bool = False):
        import albumentations as A

        if not root.is_dir():
            raise DataError(f"image folder {root} does not exist: pass --data DIR with your images")
        if class_folders:
            self.classes = sorted(d.name for d in root.iterdir() if d.is_dir() and is_data_name(d.name))
            if not self.classes:
                raise DataError(f"{root} has no class sub-folders: put each class's images in {root}/<class>/")
            self.items = [(p, i) for i, c in enumerate(self.classes) for p in list_images(root / c)]
        else:
            self.classes = []
            self.items = [(p, 0) for p in list_images(root)]
        if not self.items:
            raise DataError(f"no images in {root}: looked for {', '.join(IMAGE_EXTENSIONS)} files")
        self.channels = channels
        self.transform = A.Compose([A.SmallestMaxSize(max_size=image_size, area_for_downscale="image"),
                                    A.CenterCrop(image_size, image_size)])  # area averaging down: no aliasing

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int] | None:
        path, label = self.items[index]
        try:
            image = read_image(path, self.channels)
        except DataError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=1)
            return None
        image = self.transform(image=image)["image"]
        return torch.from_numpy(np.ascontiguousarray(image.reshape(*image.shape[:2], -1))), label


def collate_skip_bad(items: Sequence[tuple[torch.Tensor, int] | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack the decodable items of a batch (uint8 -> [-1, 1]), dropping the ``None`` ones."""
    good = [item for item in items if item is not None]
    if not good:
        return torch.empty(0), torch.empty(0, dtype=torch.long)
    return to_unit(torch.stack([g[0] for g in good])), torch.tensor([g[1] for g in good])


def ignore_interrupts(worker_id: int) -> None:
    """A loader worker's start: Ctrl-C (and a SIGTERM sent to the group) reaches every process
    of the run, but the main process alone handles it (it finishes the step and saves, see
    translate.training.stopping); a worker that died of it would fail the step in progress."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class FolderSource:
    """Batches from an :class:`ImageFolder` through a DataLoader with worker processes."""

    def __init__(self, dataset: ImageFolder, batch_size: int, seed: int, workers: int, pin_memory: bool = False):
        _check_one_batch(len(dataset), batch_size)
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.workers, self.pin_memory = workers, pin_memory
        self.steps_per_epoch = len(dataset) // batch_size

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = epoch_batches(epoch_order(len(self.dataset), self.seed, epoch), self.batch_size, start)
        loader = DataLoader(
            self.dataset,
            batch_sampler=order,
            num_workers=self.workers,
            collate_fn=collate_skip_bad,
            pin_memory=self.pin_memory,
            persistent_workers=False,
            worker_init_fn=ignore_interrupts,
            generator=loader_generator(self.seed, epoch),
        )
        # A batch whose every file failed to decode comes through empty; the trainer skips it.
        yield from loader
