"""Training on aligned pairs (pix2pix's data): each pair's two images are resized to the same
``load_size`` square and get the same random crop and flip, drawn from a generator seeded by
(seed, epoch, index), so a sample is the same whichever worker, process or resumed run loads
it (finding and reading the pairs is :mod:`translate.datasets.paired`)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from translate.datasets.domains import check_sizes
from translate.datasets.paired import Pair, read_pair
from translate.training.data import derived_generator, first_readable
from translate.training.domains import augmented


class PairedImages(Dataset):
    """(A, B) float tensors in [-1, 1] (with ``reverse``, (B, A): input first, target second),
    the pair ``index`` of epoch ``epoch`` for the key ``(epoch, index)``, augmented alike. A
    pair that cannot be read (a file that does not decode, halves of two sizes) is named in a
    warning and replaced by the next good one, so every batch keeps its size."""

    def __init__(self, pairs: list[Pair], load_size: int, crop_size: int, seed: int, channels: int = 3,
                 reverse: bool = False):
        check_sizes(load_size, crop_size)
        self.pairs, self.load_size, self.crop_size, self.seed = pairs, load_size, crop_size, seed
        self.channels, self.reverse = channels, reverse

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key
        draws = torch.rand(3, generator=derived_generator("sample", self.seed, epoch, index)).tolist()
        a, b = augmented(self._decode(index), self.load_size, self.crop_size, draws)
        return (b, a) if self.reverse else (a, b)

    def _decode(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return first_readable(self.pairs, index, lambda pair: read_pair(pair, self.channels), "pairs")
