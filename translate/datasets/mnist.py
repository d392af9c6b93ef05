"""MNIST from its original IDX files, gzipped or not, read without writing anything."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from translate.errors import DataError

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES = tuple(str(d) for d in range(10))


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
