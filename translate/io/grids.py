"""Images laid out on a grid, as one picture: what ``translate.sample``, the training runs'
sample grids and the demo draw. Torch-free, so the command line on an ONNX file and the demo
lay out digits exactly as on a checkpoint."""

from __future__ import annotations

import numpy as np


def image_grid(images: np.ndarray, columns: int, scale: int = 1, pad: int = 2, background: int = 0) -> np.ndarray:
    """uint8 N x H x W x C (C 1 or 3) as one uint8 RGB picture: ``columns`` to a row (fewer when
    there are fewer images), ``pad`` pixels of ``background`` around and between them, enlarged
    ``scale`` times with sharp pixels. The layout of torchvision's ``make_grid``."""
    n, height, width, _ = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.full((rows * (height + pad) + pad, columns * (width + pad) + pad, 3), background, np.uint8)
    for index, image in enumerate(images):
        top, left = pad + (index // columns) * (height + pad), pad + (index % columns) * (width + pad)
        grid[top : top + height, left : left + width] = image if image.shape[2] == 3 else image.repeat(3, axis=2)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid


def grid_columns(n: int, conditional: bool, label: int | None) -> int:
    """How many of ``n`` drawn images go in a row by default: ten, a column per class, for a
    conditional model drawing the classes in turn; else as square as it gets."""
    return 10 if conditional and label is None else max(1, round(n**0.5))
