"""Decoding untrusted image files: a corpus of awkward files, EXIF orientation in every
format that carries it, and sizes read from headers before anything is decoded."""

import io
import struct
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from translate.errors import DataError
from translate.io.imageheader import read_header
from translate.io.images import decode_image, pad_to_multiple, read_image

from .bad_images import HUGE, huge_png, photo_crop, write_corpus


@pytest.fixture(scope="module")
def photo(data_root):
    return sorted((data_root / "horse2zebra" / "testA").iterdir())[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, photo):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_corpus(folder, photo)


def test_every_corpus_file_decodes_upright_in_rgb_or_is_refused_by_name(corpus):
    folder, cases = corpus
    for case in cases:
        path = folder / case.name
        if case.refusal:
            with pytest.raises(DataError) as info:
                read_image(path)
            assert str(path) in str(info.value) and case.refusal in str(info.value), case.name
            continue
        image = read_image(path)
        assert image.dtype == np.uint8 and image.shape == case.expected.shape, case.name
        assert np.abs(image.astype(float) - case.expected).mean() <= case.tolerance, case.name
        assert read_image(path, channels=1).shape == case.expected.shape[:2] + (1,)


def test_a_huge_image_is_refused_from_its_header_but_is_a_real_image(monkeypatch):
    data = huge_png(HUGE, HUGE)
    assert len(data) < 64_000  # 144 megapixels in a few kB: a decompression bomb
    assert (read_header(data).width, read_header(data).height) == (HUGE, HUGE)
    with pytest.raises(DataError, match=f"upload.png: {HUGE}x{HUGE} \\(144.0 megapixels\\), above the limit"):
        decode_image(data, "upload.png")
    # The refusal is about size, not a broken file: Pillow, told to allow any size, decodes it.
    # (Not OpenCV: translate sets its own decoder limit, read once by OpenCV, whose value then
    # depends on whether OpenCV or translate was loaded first.)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (HUGE, HUGE)


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("fmt", "options", "tolerance"),
    [("PNG", {}, 0), ("WEBP", {"lossless": True}, 0), ("TIFF", {}, 0), ("JPEG", {"quality": 95}, 2.0)],
)
def test_exif_orientation_is_applied_as_pillow_applies_it(photo, fmt, options, tolerance, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _save(Image.fromarray(photo_crop(photo)), fmt, exif=exif.tobytes(), **options)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    got = decode_image(data)
    assert got.shape == expected.shape
    assert np.abs(got.astype(float) - expected).mean() <= tolerance


@pytest.mark.parametrize(("fmt", "options"), [("PNG", {}), ("WEBP", {"lossless": True}), ("JPEG", {"quality": 95})])
def test_a_damaged_exif_block_is_read_as_no_rotation_not_as_a_damaged_image(photo, fmt, options):
    image = Image.fromarray(photo_crop(photo))
    damaged = b"Exif\0\0II*\0" + struct.pack("<IH", 8, 5)  # says 5 entries follow; none does
    data = _save(image, fmt, exif=damaged, **options)
    with warnings.catch_warnings():  # Pillow says "Corrupt EXIF data" for one of them, and opens it, as OpenCV does
        warnings.simplefilter("ignore", UserWarning)
        Image.open(io.BytesIO(data)).load()
    np.testing.assert_array_equal(decode_image(data), decode_image(_save(image, fmt, **options)))


def test_a_bound_above_opencv_s_own_is_held_to_opencv_s_with_a_size_error(monkeypatch):
    png = cv2.imencode(".png", np.zeros((20, 30, 3), np.uint8))[1].tobytes()  # 600 pixels
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "500")  # what OpenCV would refuse above, without a reason
    with pytest.raises(DataError, match=r"x\.png: 30x20 \(600 pixels\), above the limit of 500 pixels: scale it down"):
        decode_image(png, "x.png", max_pixels=10**8)
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "600")
    assert decode_image(png, "x.png", max_pixels=10**8).shape == (20, 30, 3)


def test_header_sizes_match_the_decoded_sizes(photo):
    rgb = photo_crop(photo)[:37, :53]  # odd sizes, wider than tall
    pil = Image.fromarray(rgb)
    files = {
        "png": cv2.imencode(".png", rgb)[1].tobytes(),
        "png-16-bit-rgba": cv2.imencode(".png", np.dstack([rgb, rgb[..., :1]]).astype(np.uint16) * 257)[1].tobytes(),
        "jpeg": cv2.imencode(".jpg", rgb)[1].tobytes(),
        "jpeg-progressive": _save(pil, "JPEG", progressive=True),
        "jpeg-grey": cv2.imencode(".jpg", rgb[..., 0])[1].tobytes(),
        "webp-lossy": _save(pil, "WEBP"),
        "webp-lossless": _save(pil, "WEBP", lossless=True),
        "webp-extended": _save(pil.convert("RGBA"), "WEBP", exif=Image.Exif().tobytes()),
        "bmp": cv2.imencode(".bmp", rgb)[1].tobytes(),
        "tiff": cv2.imencode(".tiff", rgb)[1].tobytes(),
        "tiff-pillow": _save(pil, "TIFF"),
    }
    for name, data in files.items():
        header = read_header(data)
        assert header is not None, name
        assert (header.height, header.width) == (37, 53), name
        assert (header.orientation, header.truncated) == (1, False), name


def test_a_jpeg_cut_short_is_refused(photo):
    data = photo.read_bytes()
    assert not read_header(data).truncated
    scan = data.index(b"\xff\xda")  # the pixels start here
    for end in (len(data) - 2, len(data) // 2, scan + 10):
        assert read_header(data[:end]).truncated, end
        with pytest.raises(DataError, match="cut.jpg: a truncated JPEG"):
            decode_image(data[:end], "cut.jpg")
    assert read_header(data[: scan - 100]) is None  # cut inside the header: no size to read
    with pytest.raises(DataError, match="cut.jpg: not a readable image"):
        decode_image(data[: scan - 100], "cut.jpg")


def test_formats_outside_the_list_are_refused_before_opencv_reads_their_header():
    # OpenCV decodes PPM too, and would allocate the 3 GB this 20-byte header claims.
    bomb = b"P6\n32000 32000\n255\n" + bytes(12)
    with pytest.raises(DataError, match="upload: not a readable image .*not PNG, JPEG, WebP, BMP or TIFF"):
        decode_image(bomb, "upload")
    small_ppm = b"P6\n2 1\n255\n" + bytes(6)
    assert cv2.imdecode(np.frombuffer(small_ppm, np.uint8), cv2.IMREAD_UNCHANGED).shape == (1, 2, 3)
    with pytest.raises(DataError, match="not PNG, JPEG, WebP, BMP or TIFF"):
        decode_image(small_ppm, "upload")


def test_inputs_are_reflect_padded_to_the_multiple_and_the_offset_says_where_the_image_is():
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    padded, (top, left) = pad_to_multiple(image, 4)  # 5 -> 8 rows, 7 -> 8 columns
    assert padded.shape == (8, 8, 3) and np.array_equal(padded[top:top + 5, left:left + 7], image)
    assert np.array_equal(padded, np.pad(image, ((top, 8 - 5 - top), (left, 8 - 7 - left), (0, 0)), mode="reflect"))
    # A side too small to reflect that far repeats its edge instead.
    thin = image[:2]
    padded, (top, left) = pad_to_multiple(thin, 8)
    assert padded.shape == (8, 8, 3)
    assert np.array_equal(padded, np.pad(thin, ((top, 8 - 2 - top), (left, 8 - 7 - left), (0, 0)), mode="edge"))


def test_a_webp_animation_is_lossless_and_loops_and_an_old_opencv_says_what_to_install(tmp_path, monkeypatch):
    from translate.errors import TranslateError
    from translate.io.fileio import write_animation

    frames = [np.random.default_rng(i).integers(0, 256, (12, 16, 3), dtype=np.uint8) for i in range(3)]
    write_animation(tmp_path / "walk.webp", frames, 125)
    with Image.open(tmp_path / "walk.webp") as animation:
        assert animation.n_frames == 3 and animation.info.get("loop") == 0
        for index, frame in enumerate(frames):
            animation.seek(index)
            assert np.array_equal(np.asarray(animation.convert("RGB")), frame)  # every pixel kept
            assert animation.info["duration"] == 125
    monkeypatch.delattr("cv2.imencodeanimation")
    with pytest.raises(TranslateError, match=r"cannot write animations: install opencv-python-headless 4.12 or later"):
        write_animation(tmp_path / "old.gif", frames, 125)
