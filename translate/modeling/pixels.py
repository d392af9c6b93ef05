"""The one contract between pixels and networks, torch form: uint8 H x W x C images <->
float N x C x H x W in [-1, 1]; the same arithmetic as :mod:`translate.io.pixels`."""

from __future__ import annotations

import numpy as np
import torch

from translate.io.grids import image_grid


def to_unit(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 H x W x C or N x H x W x C (tensor or array) to float N x C x H x W in [-1, 1]."""
    images = torch.as_tensor(images)
    batch = images[None] if images.ndim == 3 else images
    return batch.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_pixels(batch: torch.Tensor) -> torch.Tensor:
    """Float N x C x H x W in [-1, 1] to uint8 N x H x W x C (on the same device)."""
    pixels = batch.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1)


def grid_image(images: torch.Tensor, nrow: int, scale: int = 1) -> np.ndarray:
    """Images in [-1, 1] (N x C x H x W) as one uint8 picture H x W x 3, ``nrow`` to a row with
    2-pixel black gaps, enlarged ``scale`` times with sharp pixels (:func:`translate.io.grids.image_grid`)."""
    return image_grid(to_pixels(images.cpu()).numpy(), nrow, scale)
