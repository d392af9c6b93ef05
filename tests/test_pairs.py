"""python -m translate.pairs: line drawings and greyscale made from photos, written in
pix2pix's side-by-side layout with a record of how, and clear errors on bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from translate.datasets.drawings import EdgeSettings, drop_small_pieces, fill_small_holes, greyscale, line_drawing, thin
from translate.datasets.pair_maker import pair_names
from translate.datasets.paired import find_paired, read_pair, recorded_domains
from translate.io.fileio import write_image
from translate.pairs import main as pairs_main

from .cli_errors import one_line_error


def _photo(seed: int, side: int = 48) -> np.ndarray:
    """A coloured rectangle on a coloured ground, placed by ``seed``."""
    rng = np.random.default_rng(seed)
    image = np.full((side, side, 3), rng.integers(0, 120, 3), np.uint8)
    x, y = rng.integers(6, side // 3, 2)
    image[y : y + side // 2, x : x + side // 2] = rng.integers(140, 256, 3)
    return image


def photos(folder: Path, count: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        write_image(folder / f"photo{i}.jpg", _photo(seed + i))
    return folder


def test_thinning_keeps_a_diagonal_brush_stroke():
    # A 45-degree stroke of the demo's sketchpad brush, as Chromium drew it: runs of 8 pixels,
    # one step a row. Zhang and Suen's thinning ate it from its ends down to one pixel.
    runs = [(40, 4), (39, 5), (38, 7), *[(37 - i, 8) for i in range(38)], (0, 7), (1, 5), (1, 4)]
    band = np.zeros((50, 52), bool)
    for row, (start, length) in enumerate(runs):
        band[row + 3, start + 3 : start + 3 + length] = True
    line = thin(band)
    assert line.sum() >= 38 and cv2.connectedComponents(line.astype(np.uint8), connectivity=8)[0] == 2
    per_row = line.sum(axis=1)
    assert per_row.max() <= 2 and (per_row == 1).sum() >= 35  # one pixel wide: one a row, but where it ends


def test_thinning_leaves_one_pixel_lines_that_stay_connected():
    bar = np.zeros((20, 40), bool)
    bar[8:13, 5:35] = True
    thinned = thin(bar)
    assert thinned.sum() >= 20 and thinned[:, 10:30].sum(0).max() == 1  # one pixel across, along its length
    assert cv2.connectedComponents(thinned.astype(np.uint8), connectivity=8)[0] == 2  # background + one line


def test_small_pieces_and_small_holes():
    mask = np.zeros((30, 30), bool)
    mask[2:4, 2:4] = True  # 4 pixels
    mask[10:20, 10:20] = True
    mask[14, 14] = False  # a one-pixel hole
    assert not drop_small_pieces(mask, 5)[2:4, 2:4].any() and drop_small_pieces(mask, 5)[10, 10]
    assert fill_small_holes(mask, 2)[14, 14] and not fill_small_holes(mask, 2)[25, 25]


def test_a_line_drawing_traces_the_shapes_outline_in_black_on_white():
    image = np.zeros((64, 64, 3), np.uint8)
    image[16:48, 16:48] = (200, 40, 40)
    drawing = line_drawing(image, EdgeSettings(sigma=1.0))
    assert drawing.shape == image.shape and set(np.unique(drawing)) == {0, 255}
    lines = drawing[:, :, 0] == 0
    assert not lines[:10].any() and not lines[24:40, 24:40].any()  # nothing far from the outline
    assert lines[12:20, 30].any() and lines[30, 12:20].any() and lines[44:52, 30].any()  # the outline's sides


def test_a_wider_line_covers_the_thin_one_and_more():
    image = np.zeros((64, 64, 3), np.uint8)
    image[16:48, 16:48] = (200, 40, 40)
    thin, wide = (line_drawing(image, EdgeSettings(sigma=1.0, line_width=w))[:, :, 0] == 0 for w in (1, 3))
    assert (wide >= thin).all()  # every thin line pixel is inside the wide line
    assert 2 * thin.sum() < wide.sum() < 4 * thin.sum()  # about three pixels across instead of one


def test_bilateral_smoothing_flattens_texture_and_keeps_the_outline():
    rng = np.random.default_rng(1)
    image = np.clip(rng.normal(120, 40, (96, 96, 3)), 0, 255).astype(np.uint8)  # a coarse texture
    image[36:60, 36:60] = (230, 230, 230)
    lines = {passes: line_drawing(image, EdgeSettings(bilateral_passes=passes))[:, :, 0] == 0 for passes in (0, 3)}
    texture = np.ones((96, 96), bool)
    texture[30:66, 30:66] = False  # away from the square
    assert lines[0][texture].sum() > 100 and not lines[3][texture].any()
    assert lines[3][32:40, 48].any() and lines[3][48, 32:40].any()  # the square's outline stays


def test_close_stripes_stay_separate_lines():
    """A zebra's stripes: 13 dark bars 3 px wide, 3 px apart, each drawn by both its edges (a
    closing of the edges had merged them all into one outline around the pattern)."""
    image = np.full((96, 96, 3), 255, np.uint8)
    for left in range(10, 86, 6):
        image[10:86, left : left + 3] = 0
    lines = line_drawing(image, EdgeSettings())[:, :, 0] == 0
    crossings = np.flatnonzero(np.diff(lines[48].astype(np.int8)) == 1)  # where the row meets a line
    assert len(crossings) == 26


def test_a_grey_nose_on_a_blue_sky_has_a_line():
    """Two colours of one brightness: an edge in colour that brightness alone would miss."""
    image = np.zeros((48, 48, 3), np.uint8)
    image[:] = (60, 110, 220)
    grey = int(cv2.cvtColor(image[:1, :1], cv2.COLOR_RGB2GRAY)[0, 0])
    image[:, 24:] = grey
    assert (line_drawing(image, EdgeSettings())[:, 20:28, 0] == 0).any()


def test_greyscale_is_the_luma_in_three_channels():
    image = _photo(3)
    grey = greyscale(image)
    assert grey.shape == image.shape and np.array_equal(grey[:, :, 0], cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(grey[:, :, 0], grey[:, :, 2])


def test_edges_writes_the_side_by_side_layout_and_its_record(tmp_path, capsys):
    source = photos(tmp_path / "zebras", 5)
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "data" / "edges2zebra"
    pairs_main(["edges", str(source), str(out), "--test-fraction", "0.4", "--size", "32", "--domains", "edges",
                "zebra"])
    captured = capsys.readouterr()
    assert "skipping" in captured.err and "broken.jpg" in captured.err
    assert "wrote 3 training and 2 test pairs (edges -> zebra) into" in captured.out
    assert "train pairs: 0/4 photos (0%), 0 s\n" in captured.err  # progress lines off a terminal, per split
    assert re.search(r"test pairs: 2/2 photos \(100%\), \d+ s, done\n", captured.err)
    record = json.loads((out / "pairs.json").read_text())
    assert record["method"] == "edges" and record["counts"] == {"train": 3, "test": 2}
    assert record["parameters"] == EdgeSettings().record() and record["source"] == str(source)
    assert record["skipped"] == [str(source / "broken.jpg")] and record["size"] == 32
    data = find_paired(tmp_path / "data", "edges2zebra")
    assert (len(data.train), len(data.test), data.test_split) == (3, 2, "test")
    a, b = read_pair(data.train[0])
    assert a.shape == b.shape == (32, 32, 3) and set(np.unique(a)) <= {0, 255}
    assert recorded_domains(out) == ("edges", "zebra")
    assert {p.name for p in tmp_path.joinpath("data").iterdir()} == {"edges2zebra"}  # nothing temporary left


def test_gray_takes_its_test_photos_from_another_folder(tmp_path):
    out = tmp_path / "gray"
    pairs_main(["gray", str(photos(tmp_path / "train", 3)), str(out), "--test", str(photos(tmp_path / "test", 2, 9)),
                "--size", "16"])
    record = json.loads((out / "pairs.json").read_text())
    assert record["counts"] == {"train": 3, "test": 2} and record["test_source"] == str(tmp_path / "test")
    assert record["domains"] == ["gray", "photo"] and record["parameters"] == {}
    a, b = read_pair(find_paired(tmp_path, "gray").test[1])
    assert np.array_equal(a[:, :, 0], cv2.cvtColor(b, cv2.COLOR_RGB2GRAY))


def test_a_test_folder_inside_src_is_held_out_and_same_named_photos_keep_their_pairs(tmp_path):
    """Photos from two camera folders (both with a photo0.jpg), a photo0.png beside one, and the
    test photos in a folder of their own below SRC."""
    source = tmp_path / "photos"
    photos(source / "100", 2)
    photos(source / "101", 2, seed=5)
    write_image(source / "100" / "photo0.png", _photo(9))
    photos(source / "held", 2, seed=20)
    out = tmp_path / "out"
    pairs_main(["gray", str(source), str(out), "--test", str(source / "held"), "--size", "16"])
    assert sorted(p.name for p in (out / "train").iterdir()) == [
        "100_photo0_jpg.png", "100_photo0_png.png", "100_photo1.png", "101_photo0.png", "101_photo1.png"]
    assert sorted(p.name for p in (out / "test").iterdir()) == ["photo0.png", "photo1.png"]
    assert json.loads((out / "pairs.json").read_text())["counts"] == {"train": 5, "test": 2}
    first = read_pair(find_paired(tmp_path, "out").test[0])[1]
    assert np.abs(first.astype(int) - cv2.resize(_photo(20), (16, 16), interpolation=cv2.INTER_AREA)).max() < 40


def test_pair_names_never_meet():
    photos = [Path("/s/100/IMG_1.jpg"), Path("/s/101/IMG_1.jpg"), Path("/s/a/b_c.jpg"), Path("/s/a_b/c.jpg"),
              Path("/s/x.jpg"), Path("/s/x.png")]
    assert pair_names(photos) == ["100_IMG_1", "101_IMG_1", "a_b_c_jpg", "a_b_c_jpg_2", "x_jpg", "x_png"]
    assert pair_names([Path("/s/only/one.jpg")]) == ["one"] and pair_names([]) == []


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [
        (None, ["edges", "{tmp}/nowhere", "{tmp}/out"], "SRC {tmp}/nowhere is not a folder"),
        ("empty", ["edges", "{tmp}/empty", "{tmp}/out"], "SRC {tmp}/empty holds no photos"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/out", "--test", "{tmp}/empty"], "--test {tmp}/empty holds no"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/photos"], "OUT {tmp}/photos lies inside SRC {tmp}/photos"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/photos/pairs"],
         "OUT {tmp}/photos/pairs lies inside SRC {tmp}/photos: its pairs would be read as photos the next time "
         "{tmp}/photos is used; choose an OUT outside it"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/empty/pairs", "--test", "{tmp}/empty"],
         "OUT {tmp}/empty/pairs lies inside --test {tmp}/empty"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}"], "already exists and is not an empty folder"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/out", "--size", "8"], "--size must lie in 16.."),
        ("photos", ["edges", "{tmp}/photos", "{tmp}/out", "--sigma", "0"], "--sigma must lie in (0, 20]"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/out", "--test-fraction", "1.5"], "--test-fraction must lie"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/out", "--seed", "-1"], "--seed must lie in 0.."),
        ("photos", ["edges", "{tmp}/photos", "{tmp}/out", "--strong-share", "1"], "--strong-share must lie in (0, 1)"),
        ("photos", ["edges", "{tmp}/photos", "{tmp}/out", "--line-width", "10"], "--line-width in 1..9"),
        ("one", ["gray", "{tmp}/photos", "{tmp}/out"], "1 photo(s) cannot be split into training and test pairs"),
        ("photos", ["gray", "{tmp}/photos", "{tmp}/out", "--test", "{tmp}/photos"],
         "every photo of SRC {tmp}/photos is a --test photo: name a SRC with photos to train on"),
    ],
)
def test_bad_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, setup, argv, message):
    (tmp_path / "empty").mkdir()
    if setup in ("photos", "one"):
        photos(tmp_path / "photos", 3 if setup == "photos" else 1)
    err = one_line_error(capsys, pairs_main, *(a.format(tmp=tmp_path) for a in argv))
    assert message.format(tmp=tmp_path) in err
    assert not (tmp_path / "out").exists()
