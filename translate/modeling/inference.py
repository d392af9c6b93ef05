"""Running a translation generator on a whole image of any size: pad to what the network
takes, translate, crop back. Shared by ``translate.apply``, the evaluation protocol and
every translate family."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from translate.io.images import pad_to_multiple
from translate.modeling.device import autocast
from translate.modeling.pixels import to_pixels, to_unit

# Two stride-2 down-samplings in every translator here: inputs must be a multiple of 4.
PAD_MULTIPLE = 4
# The smallest padded input whose bottleneck (1/4 size) still takes reflection padding.
MIN_SIZE = 8


@torch.no_grad()
def translate_image(
    generator: nn.Module,
    image: np.ndarray,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    pad_multiple: int = PAD_MULTIPLE,
    min_size: int = MIN_SIZE,
) -> np.ndarray:
    """uint8 H x W x C in, the translated uint8 H x W x C out (same size): reflect-padded to
    ``pad_multiple``, run in ``precision`` (``fp32`` or ``bf16``), cropped back."""
    device = torch.device(device)
    height, width = image.shape[:2]
    padded, (top, left) = pad_to_multiple(image, pad_multiple, min_size)
    with autocast(precision, device):
        out = generator(to_unit(np.ascontiguousarray(padded)).to(device))
    return to_pixels(out[:, :, top : top + height, left : left + width])[0].cpu().numpy()
