"""Image decoding and channel conversion with OpenCV and numpy only.

Kept free of torch so that ``translate.runtime`` (and apps embedding it) can use it.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from translate.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def decode_image(data: bytes | np.ndarray, name: str = "image", channels: int = 3) -> np.ndarray:
    """Decode encoded image bytes to uint8 RGB (H x W x 3) or grey (H x W x 1).

    Greyscale, alpha and 16-bit images are converted (alpha is dropped); anything
    OpenCV cannot decode raises DataError naming ``name``.
    """
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
    if image is None:
        raise DataError(f"{name} is not a readable image (empty, truncated or not an image format)")
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DataError(f"{name} has pixel type {image.dtype}: convert it to 8-bit or 16-bit")
    return convert_channels(image, channels, bgr=True)


def read_image(path: str | os.PathLike, channels: int = 3) -> np.ndarray:
    """Decode an image file (any path, non-ASCII included) like :func:`decode_image`."""
    try:
        raw = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    return decode_image(raw, str(path), channels)


def convert_channels(image: np.ndarray, channels: int = 3, bgr: bool = False) -> np.ndarray:
    """H x W, H x W x 1, x 3 or x 4 uint8 to RGB (H x W x 3) or grey (H x W x 1).

    ``bgr`` says the colour input is in OpenCV's BGR(A) order rather than RGB(A).
    """
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise DataError(f"an image must be H x W with 1, 3 or 4 channels, got shape {image.shape}")
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if channels == 1:
        if image.shape[2] == 1:
            return image
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY)
        return grey[:, :, None]
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, ::-1]) if bgr else image


def pad_amounts(size: int, multiple: int, minimum: int = 1) -> tuple[int, int]:
    """(before, after) padding that takes ``size`` to a multiple of ``multiple`` of at least
    ``minimum``, split evenly so the model sees the image centred."""
    target = max(minimum, -(-size // multiple) * multiple)
    extra = target - size
    return extra // 2, extra - extra // 2


def pad_to_multiple(image: np.ndarray, multiple: int, minimum: int = 1) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad an H x W x C array on every side to a multiple of ``multiple``; returns it and
    the (top, left) offset of the original. Reflection where the side allows it, else the
    edge is repeated (reflection needs the padding to be smaller than the side)."""
    height, width = image.shape[:2]
    (top, bottom), (left, right) = pad_amounts(height, multiple, minimum), pad_amounts(width, multiple, minimum)
    if top or bottom or left or right:
        mode = "reflect" if max(top, bottom) < height and max(left, right) < width else "edge"
        image = np.pad(image, ((top, bottom), (left, right), (0, 0)), mode=mode)
    return image, (top, left)
