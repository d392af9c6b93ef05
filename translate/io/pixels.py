"""The one contract between pixels and networks, numpy form: uint8 H x W x C images <->
float N x C x H x W in [-1, 1] (``unit = pixel / 127.5 - 1``; back: ``(unit + 1) * 127.5``,
rounded half to even, clipped to 0..255).

:mod:`translate.modeling.pixels` is the same contract for torch tensors; ONNX files state
it in their metadata (:mod:`translate.onnx_contract`). Torch-free.
"""

from __future__ import annotations

import numpy as np

NORMALISATION = "model = pixel / 127.5 - 1; pixel = (model + 1) * 127.5, rounded, clipped to 0..255"


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 H x W x C or N x H x W x C to float32 N x C x H x W in [-1, 1]."""
    images = np.asarray(images)
    batch = images[None] if images.ndim == 3 else images
    return batch.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0


def to_pixels(batch: np.ndarray) -> np.ndarray:
    """Float N x C x H x W in [-1, 1] to uint8 N x H x W x C."""
    pixels = np.clip(np.rint((np.asarray(batch, dtype=np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return pixels.transpose(0, 2, 3, 1)
