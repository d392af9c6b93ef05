"""Decompression bombs that a header check alone could miss: the header reader agrees with
the decoder (first of a repeated TIFF tag, every page, one JPEG frame, IHDR first, every
WebP size claim), OpenCV's own pixel limit backs it up, and a file is sized up from its
header before it is read whole."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from translate.errors import DataError
from translate.io import images as images_module
from translate.io.imageheader import read_header
from translate.io.images import decode_image, read_image
from translate.runtime import Translator

from .bad_images import tiff_bomb

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if OpenCV is asked to decode anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called")

    monkeypatch.setattr(cv2, "imdecode", refuse)


def test_a_tiff_with_repeated_size_tags_is_refused_before_decoding(no_decoding):
    bomb = tiff_bomb(16384)  # 16384 x 16384 first (what libtiff uses), 16 x 16 last
    assert len(bomb) < 20_000
    with pytest.raises(DataError, match="bomb.tif: a TIFF file that repeats its width or height tag"):
        decode_image(bomb, "bomb.tif")


def test_a_tiff_whose_later_page_is_larger_is_refused_before_decoding(no_decoding):
    bomb = tiff_bomb(16384, stored=16, pages=(16384,), duplicate=False)
    assert read_header(bomb).width == 16  # the first page is small
    with pytest.raises(DataError, match="has a later page larger than its first"):
        decode_image(bomb, "pages.tif")


def test_a_tiff_with_a_loop_of_pages_is_refused(no_decoding):
    bomb = bytearray(tiff_bomb(64, stored=64, pages=(32,), duplicate=False))
    (first,) = struct.unpack_from("<I", bomb, 4)
    count = struct.unpack_from("<H", bomb, first)[0]
    (second,) = struct.unpack_from("<I", bomb, first + 2 + 12 * count)
    count2 = struct.unpack_from("<H", bomb, second)[0]
    struct.pack_into("<I", bomb, second + 2 + 12 * count2, first)  # the second page points back to the first
    with pytest.raises(DataError, match="loop in its chain of pages"):
        decode_image(bytes(bomb), "loop.tif")


def test_small_multi_page_tiffs_still_decode():
    image = decode_image(tiff_bomb(64, stored=64, pages=(32,), duplicate=False), "pages.tif")
    assert image.shape == (64, 64, 3)


def test_opencv_refuses_a_bomb_by_itself_once_translate_is_imported():
    script = (
        "import numpy as np\n"
        "import translate, cv2\n"
        "from tests.bad_images import tiff_bomb\n"
        "data = np.frombuffer(tiff_bomb(9000, duplicate=False), np.uint8)  # 81 MP, 1.3 GB to decode\n"
        "try:\n"
        "    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)\n"
        "except cv2.error:\n"
        "    image = None\n"
        "from tests.memory import peak_rss_kb\n"
        "print(image is None, peak_rss_kb() // 1024)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env, check=True)
    refused, peak_mb = out.stdout.split()
    assert refused == "True" and int(peak_mb) < 400


def test_a_jpeg_with_two_frame_headers_is_refused():
    ok, encoded = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
    data = encoded.tobytes()
    sof = data.index(b"\xff\xc0")
    length = struct.unpack_from(">H", data, sof + 2)[0]
    frame = bytearray(data[sof : sof + 2 + length])
    struct.pack_into(">HH", frame, 5, 16000, 16000)  # a second, huge frame header before the first
    assert read_header(data[:sof] + bytes(frame) + data[sof:]) is None


def test_a_png_must_start_with_its_size_chunk():
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    data = bytearray(encoded.tobytes())
    data[12:16] = b"tEXt"
    assert read_header(bytes(data)) is None


def test_a_webp_is_sized_by_its_largest_claim():
    ok, encoded = cv2.imencode(".webp", np.zeros((32, 32, 3), np.uint8))
    data = encoded.tobytes()
    frame = data[data.index(b"VP8") :]  # the 32 x 32 frame
    canvas = b"VP8X" + struct.pack("<I", 10) + b"\0" * 4 + (15).to_bytes(3, "little") * 2  # claims 16 x 16
    header = read_header(data[:12] + canvas + frame)
    assert (header.width, header.height) == (32, 32)  # the frame's size, not the smaller canvas


def test_a_file_too_large_for_any_allowed_image_is_refused_unread(tmp_path):
    big = tmp_path / "big.png"
    with open(big, "wb") as file:
        file.write(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
        file.truncate(3 * 1024**3)  # 3 GB, sparse: nothing is written
    with pytest.raises(DataError, match=r"big.png: 3.22 GB, more than an image of at most 4.2 megapixels"):
        read_image(big, max_pixels=2048 * 2048)


def test_a_huge_header_is_refused_after_reading_only_the_header(tmp_path, monkeypatch):
    from .bad_images import huge_png

    path = tmp_path / "huge.png"
    path.write_bytes(huge_png(12000, 12000))
    reads = []
    real_open = images_module.open_regular

    class Counting:
        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def fileno(self):
            return self.file.fileno()

        def read(self, n=-1):
            reads.append(n)
            return self.file.read(n)

    monkeypatch.setattr(images_module, "open_regular", lambda *a, **k: Counting(real_open(*a, **k)))
    with pytest.raises(DataError, match="huge.png: 12000x12000"):
        read_image(path)
    assert reads == [1 << 16]  # the header only, never the rest


def test_the_translator_refuses_a_bomb_file_by_its_header(tmp_path, translator_file, no_decoding):
    bomb = tmp_path / "bomb.tif"
    bomb.write_bytes(tiff_bomb(16384))
    with pytest.raises(DataError, match="repeats its width or height tag"):
        Translator(translator_file[1]).translate_file(bomb)


@pytest.mark.parametrize(("before", "after"), [(None, "67108864"), ("1000000000", "67108864"), ("500", "500"),
                                              ("lots", "67108864")])
def test_importing_translate_lowers_a_larger_opencv_pixel_limit_and_keeps_a_smaller_one(before, after):
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    if before is not None:
        env["OPENCV_IO_MAX_IMAGE_PIXELS"] = before
    script = "import os, translate; print(os.environ['OPENCV_IO_MAX_IMAGE_PIXELS'])"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env, check=True)
    assert out.stdout.strip() == after  # 8192 x 8192, docs/onnx.md
