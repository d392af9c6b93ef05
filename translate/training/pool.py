"""The image history buffer of Shrivastava et al. (2017), as CycleGAN uses it.

Showing the discriminator a mix of current and earlier fakes damps the oscillation
between G and D. The buffer is a plain tensor plus a count, so it goes into a
checkpoint as tensors, and its coin flips come from a generator the caller seeds,
so a resumed run draws the same ones.
"""

from __future__ import annotations

import torch

from translate.errors import CheckpointError, ConfigError


class ImagePool:
    """Holds up to ``size`` generated images; ``size=0`` passes every batch through."""

    def __init__(self, size: int):
        if size < 0:
            raise ConfigError(f"--pool-size must be 0 or more, got {size}")
        self.size = size
        self.images: torch.Tensor | None = None  # size x C x H x W once the first batch arrives
        self.count = 0

    def query(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Return a batch like ``images``: while filling, the images themselves (each is
        stored); once full, each image is either returned as is or, with probability 0.5,
        swapped for a random stored one, which it replaces in the pool."""
        images = images.detach()
        if self.size == 0:
            return images
        if self.images is None:
            self.images = images.new_zeros(self.size, *images.shape[1:])
        out = images.clone()
        for i, image in enumerate(images):
            if self.count < self.size:
                self.images[self.count] = image
                self.count += 1
                continue
            draws = torch.rand(2, generator=generator)
            if draws[0] < 0.5:
                slot = min(int(draws[1] * self.size), self.size - 1)
                out[i] = self.images[slot]
                self.images[slot] = image
        return out

    def state_dict(self) -> dict[str, torch.Tensor]:
        images = self.images if self.images is not None else torch.empty(0)
        return {"images": images.detach().cpu().clone(), "count": torch.tensor(self.count)}

    def load_state_dict(self, state: dict[str, torch.Tensor], device: torch.device | None = None) -> None:
        images = state["images"]
        self.images = images.to(device, copy=True) if images.numel() else None
        self.count = int(state["count"])
        if self.images is not None and len(self.images) != self.size:
            raise CheckpointError(f"a saved pool of {len(self.images)} images does not fit a pool of size {self.size}")
