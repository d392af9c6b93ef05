"""A corpus of awkward image files, made on the spot from a real horse2zebra photo: what
people really drop into a data folder or an upload box. Each case says what decoding must
give (the upright RGB image) or which error it must raise."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HUGE = 12000  # pixels a side: 144 megapixels, above the decoders' limit


@dataclass(frozen=True)
class Case:
    """One file: either ``expected`` (upright RGB, within ``tolerance`` mean absolute error
    per pixel for lossy formats) or ``refusal`` (a fragment of the error message)."""

    name: str
    expected: np.ndarray | None = None
    tolerance: float = 0.0
    refusal: str | None = None


def photo_crop(photo: Path) -> np.ndarray:
    """A 40 x 64 RGB crop of a real photo: wider than tall, so a wrong rotation shows."""
    bgr = cv2.imread(str(photo))
    return np.ascontiguousarray(bgr[100:140, 80:144, ::-1])


def write_corpus(folder: Path, photo: Path) -> list[Case]:
    """Write every case into ``folder`` (created) and return them."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = photo_crop(photo)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    alpha = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    alpha[:, :32] = 0  # the left half fully transparent, black underneath
    on_white = rgb.copy()
    on_white[:, :32] = 255
    files = {
        "truncated.jpg": _encode(".jpg", rgb)[: len(_encode(".jpg", rgb)) // 2],
        "empty.png": b"",
        "notes.jpg": b"shopping list: hay, carrots, a zebra costume\n",
        "huge.png": huge_png(HUGE, HUGE),
        "alpha.png": _encode(".png", cv2.cvtColor(alpha, cv2.COLOR_RGBA2BGRA)),
        "sixteen.png": _encode(".png", rgb[:, :, ::-1].astype(np.uint16) * 257),
        "grey.jpg": _encode(".jpg", grey),
        "cmyk.jpg": _pillow(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95, subsampling=0),
        "one.png": _encode(".png", rgb[:1, :1, ::-1]),
        "three-by-five.png": _encode(".png", rgb[:3, :5, ::-1]),
        "rotated.jpg": exif_rotated_jpeg(rgb),
        "zebra stripes ünïcödé 斑马.png": _encode(".png", rgb[:, :, ::-1]),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [
        Case("truncated.jpg", refusal="truncated"),
        Case("empty.png", refusal="not a readable image"),
        Case("notes.jpg", refusal="not a readable image"),
        Case("huge.png", refusal=f": {HUGE}x{HUGE}"),
        Case("alpha.png", on_white),
        Case("sixteen.png", rgb),
        Case("grey.jpg", np.dstack([grey] * 3), tolerance=2.0),
        Case("cmyk.jpg", rgb, tolerance=3.0),
        Case("one.png", rgb[:1, :1]),
        Case("three-by-five.png", rgb[:3, :5]),
        Case("rotated.jpg", rgb, tolerance=3.0),
        Case("zebra stripes ünïcödé 斑马.png", rgb),
    ]


def exif_rotated_jpeg(upright: np.ndarray) -> bytes:
    """A JPEG stored turned a quarter anticlockwise with EXIF orientation 6 ("rotate 90
    clockwise to display"), as phones save portrait photos."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _pillow(Image.fromarray(np.rot90(upright, 1)), "JPEG", quality=95, subsampling=0, exif=exif.tobytes())


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of the given size, all black: a few kB on disk, but
    ``width * height`` bytes once decoded (a decompression bomb, in effect)."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter type 0, then the packed bits
    pixels = zlib.compress(row * height, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _encode(ext: str, image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def _pillow(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def tiff_bomb(claimed: int, stored: int = 16, pages: tuple[int, ...] = (), duplicate: bool = True) -> bytes:
    """A 16-bit RGBA TIFF of ``claimed`` x ``claimed`` pixels whose deflated strips all share one
    compressed strip, so the file stays a few kB. With ``duplicate`` the width and height tags
    appear twice, ``claimed`` first and ``stored`` last: libtiff (OpenCV) uses the first.
    ``pages`` adds further pages of those sizes after a small first page."""
    row = b"\0" * (claimed * 8)
    strip = zlib.compress(row * 64, 9)
    sizes = [stored if not duplicate and pages else claimed, *pages]
    out = bytearray(b"II*\0" + struct.pack("<I", 0))
    out += strip
    strip_offset = 8
    ifd_offsets = []
    for index, size in enumerate(sizes):
        strips = -(-size // 64)
        offsets_at = len(out)
        out += struct.pack(f"<{strips}I", *([strip_offset] * strips))
        counts_at = len(out)
        out += struct.pack(f"<{strips}I", *([len(strip)] * strips))
        bits_at = len(out)
        out += struct.pack("<4H", 16, 16, 16, 16)
        entries = []
        if duplicate and index == 0:
            entries += [(256, 4, 1, size), (257, 4, 1, size)]
        width = stored if duplicate and index == 0 else size
        # One strip's offset and byte count fit in the entry itself; more are stored apart.
        offsets, counts = (strip_offset, len(strip)) if strips == 1 else (offsets_at, counts_at)
        entries += [(256, 4, 1, width), (257, 4, 1, width), (258, 3, 4, bits_at), (259, 3, 1, 8), (262, 3, 1, 2),
                    (273, 4, strips, offsets), (277, 3, 1, 4), (278, 4, 1, 64), (279, 4, strips, counts),
                    (284, 3, 1, 1), (338, 3, 1, 2)]
        ifd_offsets.append(len(out))
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", 0)  # next IFD, patched below
    struct.pack_into("<I", out, 4, ifd_offsets[0])
    for here, following in zip(ifd_offsets, ifd_offsets[1:], strict=False):
        count = struct.unpack_from("<H", out, here)[0]
        struct.pack_into("<I", out, here + 2 + 12 * count, following)
    return bytes(out)
