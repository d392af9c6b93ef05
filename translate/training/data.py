"""Datasets: MNIST from its original IDX files, and image folders decoded with OpenCV.

Images are held as uint8 N x H x W x C and leave this module as float tensors in [-1, 1],
N x C x H x W (:mod:`translate.modeling.pixels`).
"""

from __future__ import annotations

import gzip
import os
import signal
import struct
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from translate.errors import DataError
from translate.io.images import IMAGE_EXTENSIONS, list_images, read_image
from translate.modeling.pixels import to_unit

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES = tuple(str(d) for d in range(10))


def resolve_data_root(path: str | os.PathLike | None = None) -> Path:
    """The data folder: the given path, else $TRANSLATE_DATA, else ./data."""
    return Path(path or os.environ.get("TRANSLATE_DATA") or "data")


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file: replace it with the original MNIST file")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(raw: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (raw / name).is_file():
            return raw / name
    return None


def download_mnist(data_root: Path) -> None:
    """Fetch MNIST with torchvision into ``<data_root>/mnist`` (needs internet access)."""
    from torchvision.datasets import MNIST

    try:
        MNIST(root=str(data_root / "mnist"), train=True, download=True)
        MNIST(root=str(data_root / "mnist"), train=False, download=True)
    except Exception as exc:  # network errors come in many types
        raise DataError(f"could not download MNIST to {data_root / 'mnist'}: {exc}") from exc


def load_mnist(data_root: Path, split: str = "train", download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (N x 28 x 28 uint8) and labels (N int64) from ``<data_root>/mnist/MNIST/raw``.

    Reads the original IDX files, gzipped or not, without writing anything, so a
    read-only copy works. With ``download=True`` a missing copy is fetched first.
    """
    if split not in MNIST_FILES:
        raise DataError(f"unknown MNIST split {split!r}: use 'train' or 'test'")
    raw = data_root / "mnist" / "MNIST" / "raw"
    image_stem, label_stem = MNIST_FILES[split]
    if download and (_find_idx(raw, image_stem) is None or _find_idx(raw, label_stem) is None):
        download_mnist(data_root)
    image_file, label_file = _find_idx(raw, image_stem), _find_idx(raw, label_stem)
    if image_file is None or label_file is None:
        raise DataError(
            f"MNIST not found: looked for {image_stem}[.gz] and {label_stem}[.gz] in {raw}; "
            "pass --data DIR (or set TRANSLATE_DATA) to the folder holding mnist/MNIST/raw, or add --download"
        )
    images = torch.from_numpy(_read_idx(image_file).copy())
    labels = torch.from_numpy(_read_idx(label_file).astype(np.int64))
    if images.ndim != 3 or len(images) != len(labels):
        raise DataError(f"{image_file} and {label_file} do not hold matching images and labels")
    return images, labels


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled index order of one epoch, a pure function of (seed, epoch).

    Deriving it rather than drawing it from a running RNG lets a resumed run skip to
    the exact batch where it stopped.
    """
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def derived_generator(*keys: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator seeded by a hash of ``keys`` (e.g. seed, epoch, index).

    Randomness drawn from it is a pure function of the keys, so a resumed run, another
    loader worker or another process redraws exactly the same numbers.
    """
    entropy = [key % 2**64 for key in keys]
    seed = int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0])
    return torch.Generator(device=device).manual_seed(seed)


def epoch_batches(
    order: torch.Tensor, batch_size: int, start: int, rank: int = 0, world_size: int = 1
) -> list[list[int]]:
    """Batches of ``order`` from step ``start`` on; with ``world_size > 1`` each step's
    ``batch_size * world_size`` indices are split between the ranks (a distributed sampler)."""
    per_step = batch_size * world_size
    steps = len(order) // per_step  # the last partial step is dropped
    first = rank * batch_size
    return [order[i * per_step + first : i * per_step + first + batch_size].tolist() for i in range(start, steps)]


class TensorSource:
    """Batches from uint8 N x H x W x C images held in memory (MNIST: 47 MB, no loader processes needed)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int):
        if len(images) < batch_size:
            raise DataError(f"the dataset has {len(images)} images, fewer than one batch of {batch_size}")
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
            self.classes = sorted(d.name for d in root.iterdir() if d.is_dir())
            if not self.classes:
                raise DataError(f"{root} has no class sub-folders: put each class's images in {root}/<class>/")
            self.items = [(p, i) for i, c in enumerate(self.classes) for p in list_images(root / c)]
        else:
            self.classes = []
            self.items = [(p, 0) for p in list_images(root)]
        if not self.items:
            raise DataError(f"no images in {root}: looked for {', '.join(IMAGE_EXTENSIONS)} files")
        self.channels = channels
        self.transform = A.Compose([A.SmallestMaxSize(max_size=image_size), A.CenterCrop(image_size, image_size)])

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
        if len(dataset) < batch_size:
            raise DataError(f"the dataset has {len(dataset)} images, fewer than one batch of {batch_size}")
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
        )
        # A batch whose every file failed to decode comes through empty; the trainer skips it.
        yield from loader
