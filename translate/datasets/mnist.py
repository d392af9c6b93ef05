"""MNIST from its original IDX files, gzipped or not, read without writing anything."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from translate.errors import DataError
from translate.io.download import MB, fetch_file, mirror_url

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/{file}"  # the mirror torchvision uses
MNIST_RAW = Path("mnist/MNIST/raw")  # under the data folder, where torchvision's layout puts them
MNIST_SHA256 = {  # the canonical files (their md5s are the ones torchvision checks)
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES = tuple(str(d) for d in range(10))


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file's array; a file cut short or damaged (gzip, header or size) is a DataError
    naming it and the fix, not a traceback from gzip, struct or numpy."""
    fix = (f"delete it, then python -m translate.data fetch mnist --data {path.parents[3]} (or copy the original "
           "file there)")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
        if zero != 0 or dtype_code != 0x08:
            raise DataError(f"{path} is not an unsigned-byte IDX file: {fix}")
        shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except (OSError, EOFError, struct.error, ValueError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path} is damaged or cut short ({type(exc).__name__}): {fix}") from None


def find_idx(raw: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``raw``, uncompressed or gzipped; None if neither is there."""
    for name in (stem, stem + ".gz"):
        if (raw / name).is_file():
            return raw / name
    return None


def mnist_url(file: str) -> str:
    """Where ``file`` is fetched from: the mirror torchvision uses, or ``TRANSLATE_MNIST_URL``."""
    return mirror_url("TRANSLATE_MNIST_URL", MNIST_URL, file=file)


def download_mnist(data_root: Path) -> None:
    """Fetch the four original IDX files that are missing (in neither form) into ``<data_root>/mnist/MNIST/raw``,
    each kept only if its sha256 is the published one (``TRANSLATE_MNIST_URL``, with
    ``{file}``, names another mirror)."""
    for file, sha256 in MNIST_SHA256.items():
        if find_idx(data_root / MNIST_RAW, file.removesuffix(".gz")) is None:  # gzipped or not, as load_mnist reads
            fetch_file(mnist_url(file), data_root / MNIST_RAW / file, sha256,
                       32 * MB)


def load_mnist(data_root: Path, split: str = "train", download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (N x 28 x 28 uint8) and labels (N int64) from ``<data_root>/mnist/MNIST/raw``.

    Reads the original IDX files, gzipped or not, without writing anything, so a
    read-only copy works. With ``download=True`` a missing copy is fetched first.
    """
    if split not in MNIST_FILES:
        raise DataError(f"unknown MNIST split {split!r}: use 'train' or 'test'")
    raw = data_root / MNIST_RAW
    image_stem, label_stem = MNIST_FILES[split]
    if download and (find_idx(raw, image_stem) is None or find_idx(raw, label_stem) is None):
        download_mnist(data_root)
    image_file, label_file = find_idx(raw, image_stem), find_idx(raw, label_stem)
    if image_file is None or label_file is None:
        raise DataError(
            f"MNIST not found: looked for {image_stem}[.gz] and {label_stem}[.gz] in {raw}; "
            "pass --data DIR (or set TRANSLATE_DATA) to the folder holding mnist/MNIST/raw, or fetch it there: "
            "python -m translate.data fetch mnist --data DIR (train's --download does the same)"
        )
    images = torch.from_numpy(_read_idx(image_file).copy())
    labels = torch.from_numpy(_read_idx(label_file).astype(np.int64))
    if images.ndim != 3 or len(images) != len(labels):
        raise DataError(f"{image_file} and {label_file} do not hold matching images and labels: delete both, then "
                        f"python -m translate.data fetch mnist --data {data_root}")
    return images, labels
