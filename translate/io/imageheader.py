"""What an image file's header says, read without decoding a pixel.

Two facts matter before decoding: the size, so that an image too large to decode is
refused before it costs gigabytes, and the EXIF orientation, which OpenCV applies only
when it is also told to drop alpha and 16-bit depth (``IMREAD_UNCHANGED`` ignores it).
PNG, JPEG, WebP, BMP and TIFF headers are read here: the formats ``translate`` lists.
Pure Python on bytes, so damaged or hostile headers can only yield ``None``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace

ORIENTATION_TAG = 0x0112
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC are not frames).
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}


MAX_TIFF_PAGES = 1024  # pages followed to check their sizes; a longer chain is refused


@dataclass(frozen=True)
class ImageHeader:
    """The format, the stored size (before orientation), the EXIF orientation 1..8, for
    JPEG whether the file stops before its end-of-image marker (OpenCV 4 decodes such
    files with a grey lower part instead of failing), and ``problem``: why a header that
    parses must still not be decoded (it could make the decoder see another size)."""

    format: str
    width: int
    height: int
    orientation: int = 1
    truncated: bool = False
    problem: str | None = None


def read_header(data: bytes) -> ImageHeader | None:
    """The header of an encoded image, or None for other formats and unreadable headers."""
    for magic, parse in _PARSERS:
        if data.startswith(magic):
            try:
                header = parse(data)
            except (struct.error, IndexError, KeyError, ValueError):
                return None
            return header if header is not None and header.width > 0 and header.height > 0 else None
    return None


def _exif_orientation(exif: bytes) -> int:
    """The orientation an EXIF block records; 1 (as stored) where the block is damaged: the
    pixels are still fine, and OpenCV and PIL open such photos."""
    try:
        return _tiff_tags(exif).get(ORIENTATION_TAG, 1)
    except (struct.error, IndexError, KeyError, ValueError):
        return 1


def _png(data: bytes) -> ImageHeader | None:
    if data[12:16] != b"IHDR":  # libpng insists on IHDR first; the size is read from it
        return None
    width, height = struct.unpack_from(">II", data, 16)
    orientation, pos = 1, 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"eXIf":
            orientation = _exif_orientation(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return ImageHeader("png", width, height, _valid(orientation))


def _jpeg(data: bytes) -> ImageHeader | None:
    size, orientation, pos = None, 1, 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in _SOF_MARKERS and size is not None:
            return None  # libjpeg refuses a second frame header; so do we
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE_MARKERS:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\0\0"):
            orientation = _exif_orientation(segment[6:])
        elif marker in _SOF_MARKERS:
            height, width = struct.unpack_from(">HH", segment, 1)
            size = width, height
        elif marker == 0xDA and size is not None:  # start of scan: the pixels follow
            # 0xFF is escaped inside scan data, so an end-of-image marker after here is the real end.
            return ImageHeader("jpeg", *size, _valid(orientation), truncated=data.rfind(b"\xff\xd9") < pos)
        pos += 2 + length
    return None


def _webp(data: bytes) -> ImageHeader | None:
    if data[8:12] != b"WEBP":
        return None
    size, orientation, pos = None, 1, 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, pos)
        chunk = data[pos + 8 : pos + 8 + length]
        claim = None
        if kind == b"VP8X":
            claim = 1 + int.from_bytes(chunk[4:7], "little"), 1 + int.from_bytes(chunk[7:10], "little")
        elif kind == b"VP8 " and chunk[3:6] == b"\x9d\x01\x2a":
            width, height = struct.unpack_from("<HH", chunk, 6)
            claim = width & 0x3FFF, height & 0x3FFF
        elif kind == b"VP8L" and chunk[:1] == b"\x2f":
            (bits,) = struct.unpack_from("<I", chunk, 1)
            claim = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if claim is not None:  # the canvas and every frame: the largest claim is what a decoder may make
            size = claim if size is None else (max(size[0], claim[0]), max(size[1], claim[1]))
        elif kind == b"EXIF":
            orientation = _exif_orientation(chunk.removeprefix(b"Exif\0\0"))
        pos += 8 + length + (length & 1)  # chunks are padded to an even length
    return None if size is None else ImageHeader("webp", *size, _valid(orientation))


def _bmp(data: bytes) -> ImageHeader:
    (info_size,) = struct.unpack_from("<I", data, 14)
    if info_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)  # negative height: stored top-down
    return ImageHeader("bmp", width, abs(height))


def _tiff(data: bytes) -> ImageHeader:
    order = {b"II": "<", b"MM": ">"}[data[:2]]
    (offset,) = struct.unpack_from(order + "I", data, 4)
    tags, repeated, offset = _ifd(data, order, offset)
    header = ImageHeader("tiff", tags[256], tags[257], _valid(tags.get(ORIENTATION_TAG, 1)))
    if repeated & {256, 257}:
        # libtiff keeps the first of a repeated tag: a decoder and a checker could see two sizes.
        return replace(header, problem="repeats its width or height tag")
    seen = {offset}
    while offset:  # further pages: OpenCV decodes the first, but none may be larger than it
        if len(seen) > MAX_TIFF_PAGES:
            return replace(header, problem=f"has more than {MAX_TIFF_PAGES} pages")
        page, repeated, offset = _ifd(data, order, offset)
        if offset in seen:
            return replace(header, problem="has a loop in its chain of pages")
        seen.add(offset)
        if repeated & {256, 257} or page.get(256, 0) * page.get(257, 0) > header.width * header.height:
            return replace(header, problem="has a later page larger than its first")
    return header


def _tiff_tags(tiff: bytes) -> dict[int, int]:
    """Single-number SHORT/LONG tags of the first IFD of a TIFF structure (EXIF blobs are
    one): width 256, height 257, orientation 274. A repeated tag keeps its first value, as
    libtiff does."""
    order = {b"II": "<", b"MM": ">"}[tiff[:2]]
    magic, offset = struct.unpack_from(order + "HI", tiff, 2)
    return _ifd(tiff, order, offset)[0] if magic == 42 else {}


def _ifd(tiff: bytes, order: str, offset: int) -> tuple[dict[int, int], set[int], int]:
    """(first values of the single-number SHORT/LONG tags, the tags that appear more than once,
    the offset of the next IFD or 0) of the IFD at ``offset``."""
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    tags: dict[int, int] = {}
    seen: set[int] = set()
    repeated: set[int] = set()
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
        if tag in seen:
            repeated.add(tag)
            continue
        seen.add(tag)
        if number == 1 and kind in (3, 4):  # SHORT, LONG
            tags[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), tiff, entry + 8)[0]
    (following,) = struct.unpack_from(order + "I", tiff, offset + 2 + 12 * count)
    return tags, repeated, following


def _valid(orientation: int) -> int:
    return orientation if 1 <= orientation <= 8 else 1


_PARSERS: tuple[tuple[bytes, Callable[[bytes], ImageHeader | None]], ...] = (
    (b"\x89PNG\r\n\x1a\n", _png),
    (b"\xff\xd8", _jpeg),
    (b"RIFF", _webp),
    (b"BM", _bmp),
    (b"II*\0", _tiff),
    (b"MM\0*", _tiff),
)
