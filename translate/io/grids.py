"""Images laid out on a grid, as one picture: what ``translate.sample``, the training runs'
sample grids and the demo draw. Torch-free, so the command line on an ONNX file and the demo
lay out digits exactly as on a checkpoint."""

from __future__ import annotations

import unicodedata

import cv2
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
    return enlarged(grid, scale)


def enlarged(picture: np.ndarray, scale: int) -> np.ndarray:
    """``picture`` enlarged ``scale`` times with sharp pixels."""
    return picture.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else picture


def titled(grid: np.ndarray, titles: list[str], cell_width: int, pad: int = 2, background: int = 0) -> np.ndarray:
    """``grid`` (as :func:`image_grid` lays out cells ``cell_width`` wide, unscaled) under a strip
    naming its columns, each title centred over its column and shrunk to fit it. OpenCV's font
    draws ASCII only: accents are dropped, other letters shown as "?"."""
    height = max(12, round(cell_width * 0.09))
    strip = np.full((height, grid.shape[1], 3), background, np.uint8)
    font, ink = cv2.FONT_HERSHEY_SIMPLEX, (235, 235, 235) if background < 128 else (20, 20, 20)
    for index, title in enumerate(titles):
        text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode() or "?"
        scale = cell_width / 400
        (width, rise), _ = cv2.getTextSize(text, font, scale, 1)
        if width > cell_width - 8:
            scale *= (cell_width - 8) / width
            (width, rise), _ = cv2.getTextSize(text, font, scale, 1)
        left = pad + index * (cell_width + pad) + (cell_width - width) // 2
        cv2.putText(strip, text, (left, (height + rise) // 2), font, scale, ink, 1, cv2.LINE_AA)
    return np.concatenate([strip, grid])


def grid_columns(n: int, conditional: bool, label: int | None) -> int:
    """How many of ``n`` drawn images go in a row by default: ten, a column per class, for a
    conditional model drawing the classes in turn; else as square as it gets."""
    return 10 if conditional and label is None else max(1, round(n**0.5))
