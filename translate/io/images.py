"""Image decoding and channel conversion with OpenCV and numpy only.

Kept free of torch so that ``translate.runtime`` (and apps embedding it) can use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from translate import DECODE_MAX_PIXELS, OPENCV_LIMIT  # also OpenCV's own limit, set on import of translate
from translate.errors import DataError, FileKindError, InputError
from translate.io.fileio import open_regular
from translate.io.imageheader import read_header

HEADER_BYTES = 1 << 16  # read first: every header this module checks starts within it (TIFF pages may not)
MAX_BYTES_PER_PIXEL = 8  # 16-bit RGBA, uncompressed: the most an image file needs per pixel
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
# Above this many pixels translation is refused (see runtime.Translator and translate.apply).
# bench/translator_memory.py measured ONNX Runtime at about 0.2 GiB plus 1.4 GiB per megapixel
# for the full-size CycleGAN generator: one image at this bound peaks at 6.1 GiB (6,211 MiB).
TRANSLATE_MAX_PIXELS = 2048 * 2048


def decode_image(
    data: bytes | np.ndarray, name: str = "image", channels: int = 3, max_pixels: int = DECODE_MAX_PIXELS
) -> np.ndarray:
    """Decode encoded image bytes to uint8 RGB (H x W x 3) or grey (H x W x 1), upright.

    Greyscale, 16-bit and CMYK images are converted, alpha is composited over white, the
    EXIF orientation is applied. Only the formats of IMAGE_EXTENSIONS are decoded, and only
    after their header says the size is within ``max_pixels``: OpenCV reads more formats
    (PPM, GIF, ...), and allocates whatever size a 20-byte header claims. Anything else, a
    damaged or truncated file, or an image above ``max_pixels`` raises DataError naming ``name``.
    """
    max_pixels = min(max_pixels, opencv_decode_limit())  # above it OpenCV would refuse without saying why
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else np.asarray(data).reshape(-1)
    if raw.dtype != np.uint8:
        raise DataError(f"{name}: encoded image data must be bytes or a uint8 array, got {raw.dtype}")
    unreadable = DataError(f"{name}: not a readable image (empty, damaged, or not PNG, JPEG, WebP, BMP or TIFF)")
    header = read_header(raw.tobytes())
    if header is None:
        raise unreadable
    if header.problem:
        raise DataError(f"{name}: a {header.format.upper()} file that {header.problem}, which could make the "
                        "decoder read another size than the one checked: re-save it as a plain single image")
    check_size(header.width, header.height, max_pixels, name)
    if header.truncated:
        raise DataError(f"{name}: a truncated JPEG (it stops before its end marker): copy or download it again")
    try:
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    except cv2.error:  # OpenCV raises rather than returning None for some damaged files
        image = None
    if image is None:
        raise unreadable
    check_size(image.shape[1], image.shape[0], max_pixels, name)  # should a header and its pixels disagree
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DataError(f"{name}: pixel type {image.dtype} cannot be used; convert it to 8-bit or 16-bit")
    if header.format != "tiff":  # OpenCV's TIFF decoder turns images upright itself, even with IMREAD_UNCHANGED
        image = apply_orientation(image, header.orientation)
    return convert_channels(image, channels, bgr=True)


def opencv_decode_limit() -> int:
    """The most pixels OpenCV decodes, as its variable says (importing translate sets it to
    DECODE_MAX_PIXELS unless a smaller one is set; OpenCV's own default without it is 2**30)."""
    value = os.environ.get(OPENCV_LIMIT, "")
    return int(value) if value.isdigit() else 1 << 30


def is_data_name(name: str) -> bool:
    """Whether a file or folder name can hold data: hidden names (macOS's ``._x.jpg`` beside each
    copied photo, ``.ipynb_checkpoints``, ``.DS_Store``) and zips' ``__MACOSX`` folders cannot."""
    return not name.startswith(".") and name != "__MACOSX"


def list_images(folder: Path, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    """Image files (or others, by ``extensions``) below ``folder``, by extension, case-insensitive;
    sorted. Hidden entries are left out (:func:`is_data_name`); linked folders are followed,
    each real folder once (a link back up does not loop)."""
    found, seen = [], set()
    for top, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        folders[:] = sorted(name for name in folders if is_data_name(name))  # the same walk on every machine
        found += [path for path in (Path(top, name) for name in files if is_data_name(name))
                  if path.suffix.lower() in extensions and path.is_file()]
    return sorted(found)


def read_image(
    path: str | os.PathLike, channels: int = 3, max_pixels: int = DECODE_MAX_PIXELS, name: str | None = None
) -> np.ndarray:
    """Decode an image file (any path, non-ASCII included) like :func:`decode_image`; errors
    call it ``name`` (default: the path).

    The header is read and the size checked before the whole file is: a file larger than
    any image of ``max_pixels`` could be (uncompressed, 16-bit RGBA) is refused unread.
    """
    name = name or str(path)
    try:
        with open_regular(Path(path), "give the path of an image file") as file:  # a FIFO would block forever
            size = os.fstat(file.fileno()).st_size
            if size > max_pixels * MAX_BYTES_PER_PIXEL + HEADER_BYTES:
                raise DataError(f"{name}: {size / 1e9:.2f} GB, more than an image of at most "
                                f"{pixel_count(max_pixels)} can take: not read")
            head = file.read(HEADER_BYTES)
            header = read_header(head)
            if header is not None and not header.problem:
                check_size(header.width, header.height, max_pixels, name)
            raw = np.frombuffer(head + file.read(), dtype=np.uint8)
    except FileKindError as exc:
        raise DataError(str(exc).replace(str(path), name, 1)) from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read it ({exc.strerror or exc})") from exc
    return decode_image(raw, name, channels, max_pixels)


def pixel_count(pixels: int) -> str:
    """A size limit in words: megapixels to one decimal, or pixels where that would round to 0.0."""
    return f"{pixels / 1e6:.1f} megapixels" if pixels >= 50_000 else f"{pixels:,} pixels"


def check_size(width: int, height: int, max_pixels: int, name: str) -> None:
    """DataError naming ``name`` when a ``width`` x ``height`` picture is above ``max_pixels``."""
    if width * height > max_pixels:
        raise DataError(
            f"{name}: {width}x{height} ({pixel_count(width * height)}), above the limit of "
            f"{pixel_count(max_pixels)}: scale it down first"
        )


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled down so that the longer side is ``max_side``, aspect kept; as they
    are when no larger (or ``max_side`` is None)."""
    if max_side is None or max(height, width) <= max_side:
        return width, height
    factor = max_side / max(height, width)
    return max(1, round(width * factor)), max(1, round(height * factor))


def scale_to_side(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` scaled down (area interpolation) so that its longer side is ``max_side``; the
    same array when it is no larger."""
    size = scaled_size(image.shape[1], image.shape[0], max_side)
    if size == (image.shape[1], image.shape[0]):
        return image
    scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return scaled.reshape(*scaled.shape[:2], *image.shape[2:])  # OpenCV drops a single channel's axis


def at_training_scale(image: np.ndarray, size: int, load_size: int | None = None) -> np.ndarray:
    """A sample grid's cell: ``image`` resized to ``size`` square, or, for a model trained on
    ``size`` crops of images loaded at ``load_size``, resized to that and cut to its central
    ``size`` square, so that things show at the scale the model learnt them."""
    if load_size is None or load_size <= size:
        return resize_square(image, size)
    margin = (load_size - size) // 2  # resized as training loads it (bicubic where it grows)
    loaded = resize_for_training(image, load_size, load_size)
    return np.ascontiguousarray(loaded[margin : margin + size, margin : margin + size])


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """An H x W x C image resized to ``size`` x ``size`` by area averaging (a grid cell), keeping
    its channel axis, which OpenCV drops for a single channel."""
    return np.ascontiguousarray(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).reshape(size, size, -1))


def resize_for_training(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """An H x W x C image resized as the reference's PIL bicubic does it: bicubic where a side
    grows, area averaging where it shrinks (no aliasing), one axis at a time where one side
    grows and the other shrinks (area averaging would repeat rows on the growing side)."""

    def resize(pixels: np.ndarray, size: tuple[int, int], shrinking: bool) -> np.ndarray:
        method = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        return cv2.resize(pixels, size, interpolation=method).reshape(size[1], size[0], -1)

    rows, columns = image.shape[:2]
    if (rows > height) == (columns > width) or rows == height or columns == width:
        resized = resize(image, (width, height), rows > height or columns > width)
    else:
        resized = resize(resize(image, (width, rows), columns > width), (width, height), rows > height)
    return np.ascontiguousarray(resized)


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image stored with EXIF orientation 1..8 upright (1 is already upright)."""
    turned = {
        1: image,
        2: image[:, ::-1],
        3: image[::-1, ::-1],
        4: image[::-1],
        5: image.swapaxes(0, 1),
        6: np.rot90(image, -1),
        7: image[::-1, ::-1].swapaxes(0, 1),
        8: np.rot90(image, 1),
    }[orientation]
    return np.ascontiguousarray(turned)


def convert_channels(image: np.ndarray, channels: int = 3, bgr: bool = False) -> np.ndarray:
    """H x W, H x W x 1, x 3 or x 4 uint8 to RGB (H x W x 3) or grey (H x W x 1); alpha is
    composited over white.

    ``bgr`` says the colour input is in OpenCV's BGR(A) order rather than RGB(A).
    """
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise DataError(f"an image must be H x W with 1, 3 or 4 channels, got shape {image.shape}")
    if image.shape[2] == 4:  # composite over white: transparent parts look as they do on a page
        alpha = image[:, :, 3:].astype(np.uint16)
        image = ((image[:, :, :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    if channels == 1:
        if image.shape[2] == 1:
            return image
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY)
        return grey[:, :, None]
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, ::-1]) if bgr else image


def padded_side(size: int, multiple: int, minimum: int = 1) -> int:
    """The side a model sees for an image side ``size``: the next multiple of ``multiple``, at
    least ``minimum`` (a multiple of it wherever a model states both)."""
    return max(minimum, -(-size // multiple) * multiple)


def check_padded_size(height: int, width: int, multiple: int, minimum: int, max_pixels: int) -> tuple[int, int]:
    """The (height, width) a model taking sides of ``multiple``, at least ``minimum``, sees for an
    image; an InputError when that is above ``max_pixels`` (padding a 1 x N strip to the minimum
    side can multiply its pixels many times)."""
    padded = (padded_side(height, multiple, minimum), padded_side(width, multiple, minimum))
    if padded[0] * padded[1] > max_pixels:
        grown = "" if padded == (height, width) else (
            f" (padded to {padded[1]}x{padded[0]}: this model takes sides that are multiples of {multiple} and at "
            f"least {minimum})")
        raise InputError(f"a {width}x{height} image{grown} exceeds max_pixels={max_pixels}: scale or crop it first, "
                         "or raise max_pixels (--max-pixels) if the machine has the memory")
    return padded


def pad_amounts(size: int, multiple: int, minimum: int = 1) -> tuple[int, int]:
    """(before, after) padding that takes ``size`` to :func:`padded_side`, split evenly so the
    model sees the image centred."""
    extra = padded_side(size, multiple, minimum) - size
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
