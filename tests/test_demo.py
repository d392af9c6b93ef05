"""The demo's logic on real exported models, without a browser (tests/browser drives the page)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
import onnx
import pytest
import torch
from gradio.components.image_editor import EditorData
from gradio.data_classes import DataWithFiles, FileData

from demo.app import CONCURRENCY_GROUP, build_app
from demo.digits import DIGIT_SCALE, digit_checks, digit_grid
from demo.gradio_errors import quiet_checks
from demo.models import DemoModels, how_to_make
from demo.photos import load_photo, sketch_drawing, translate_photo, translate_sketch
from demo.results import ResultFiles
from demo.serving import UploadSweeper, owns_gradio_temp
from demo.tabs import BLOB_MAX_BYTES, BLOBS_PER_SESSION, SESSIONS_KEPT, unavailable_text
from tests.conftest import REPO
from translate.datasets.drawings import strokes_as_lines
from translate.errors import DataError, InputError
from translate.evaluation.judge import conditional_accuracy, load_classifier
from translate.io.grids import image_grid

EXPORTS_GUARD = "${EXPORTS:?set EXPORTS to the folder given to the demo as --exports}"
CELL = 28 * DIGIT_SCALE
PAD = 2 * DIGIT_SCALE


@pytest.fixture(scope="module")
def models(demo_exports):
    loaded = DemoModels.load(demo_exports, threads=1)
    assert not loaded.problems
    return loaded


def digits_of(grid: np.ndarray, n: int, columns: int) -> np.ndarray:
    """Cut a demo grid back into n 28 x 28 grey digits."""
    cells = []
    for i in range(n):
        top, left = PAD + (i // columns) * (CELL + PAD), PAD + (i % columns) * (CELL + PAD)
        cells.append(grid[top : top + CELL : DIGIT_SCALE, left : left + CELL : DIGIT_SCALE, 0])
    return np.stack(cells)


def as_tensor(digits: np.ndarray) -> torch.Tensor:
    """uint8 N x 28 x 28 to the generator's N x 1 x 28 x 28 range [-1, 1]."""
    return torch.from_numpy(digits).float().div(127.5).sub(1).unsqueeze(1)


def test_the_picked_digit_is_the_digit_drawn(models):
    grid = digit_grid(models, "cdcgan", "3", 16, 0, 1, 0.0)
    assert grid.shape == (4 * (CELL + PAD) + PAD,) * 2 + (3,)
    assert conditional_accuracy(load_classifier(), as_tensor(digits_of(grid, 16, 4)), torch.full((16,), 3)) >= 0.9


def test_all_digits_come_one_per_column_and_seeds_differ(models):
    grid = digit_grid(models, "cdcgan", "all", 20, 0, 1, 0.0)
    assert grid.shape[1] == 10 * (CELL + PAD) + PAD and grid.shape[0] == 2 * (CELL + PAD) + PAD
    labels = torch.arange(10).repeat(2)
    assert conditional_accuracy(load_classifier(), as_tensor(digits_of(grid, 20, 10)), labels) >= 0.9
    assert not np.array_equal(grid, digit_grid(models, "cdcgan", "all", 20, 1, 1, 0.0))
    assert np.array_equal(grid, digit_grid(models, "cdcgan", "all", 20, 0, 1, 0.0))


def test_the_walk_goes_from_the_first_seed_to_the_second(models):
    start, end = (digit_grid(models, "dcgan", "all", 9, 0, 5, t) for t in (0.0, 1.0))
    assert np.array_equal(start, digit_grid(models, "dcgan", "all", 9, 0, 0, 0.0))
    assert np.array_equal(end, digit_grid(models, "dcgan", "all", 9, 5, 5, 0.0))
    middle = digit_grid(models, "dcgan", "all", 9, 0, 5, 0.5)
    assert not np.array_equal(middle, start) and not np.array_equal(middle, end)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cdcgan", "3", 0, 0, 1, 0.0), "number of images must be a whole number 1..100"),
        (("cdcgan", "3", float("nan"), 0, 1, 0.0), "number of images must be a whole number 1..100, got nan"),
        (("cdcgan", "3", None, 0, 1, 0.0), "number of images must be a whole number 1..100, got None"),
        (("cdcgan", "3", 2.5, 0, 1, 0.0), "number of images must be a whole number 1..100, got 2.5"),
        (("cdcgan", "3", 4, None, 1, 0.0), "enter a seed: a whole number 0 … 2⁵³−1"),
        (("cdcgan", "3", 4, "", 1, 0.0), "enter a seed"),
        # The browser sends 99999999999999999999999 as the float 1e+23: its digits beyond 2^53 are
        # not the user's, so the message shows the float rather than 99999999999999991611392.
        (("cdcgan", "3", 4, 99999999999999991611392, 1, 0.0), r"a seed must be a whole number 0 … 2⁵³−1, got 1e\+23"),
        (("cdcgan", "3", 4, 2**53, 1, 0.0), "a seed must be a whole number 0 … 2⁵³−1"),
        (("cdcgan", "3", 4, 0.5, 1, 0.0), "a seed must be a whole number 0 … 2⁵³−1, got 0.5"),
        (("cdcgan", "3", 4, 0, 1, float("nan")), "the walk must lie in 0..1, got nan"),
        (("cdcgan", "3", 4, -1, 1, 0.0), "a seed must be a whole number"),
        (("cdcgan", "3", 4, 0, 1, 1.5), "the walk must lie in 0..1"),
        (("cdcgan", "x", 4, 0, 1, 0.0), "unknown digit 'x'"),
        (("gan", "3", 4, 0, 1, 0.0), "unknown model 'gan'"),
        (("cdcgan", "3", 4, 0, 1, 0.0, 0.005), "truncation must be .* at least 0.01 .*; set 0 for plain codes"),
        (("cdcgan", "3", 4, 0, 1, 0.5, 0.0, "x"), "unknown digit 'x'"),
    ],
)
def test_bad_digit_settings_get_clear_errors(models, args, message):
    with pytest.raises(InputError, match=message):
        digit_grid(models, *args)
    # The page checks the same settings first, and shows the message at the input at fault.
    failed = [(index, check["message"]) for index, check in enumerate(digit_checks(models, *args))
              if not check["is_valid"]]
    assert len(failed) == 1 and re.search(message, failed[0][1])


def test_the_largest_seed_and_the_labels_the_page_shows_are_accepted(models):
    assert all(check["is_valid"] for check in digit_checks(models, "cdcgan", "all 0–9", 4, 2**53 - 1, 0, 0.0))
    grid = digit_grid(models, "cdcgan", "all 0–9", 10, 2**53 - 1, 0, 0.0)
    assert np.array_equal(grid, digit_grid(models, "cdcgan", "all", 10, 2**53 - 1, 0, 0.0))
    # The DCGAN takes no digit: with none chosen (the page clears it) it draws.
    assert digit_grid(models, "dcgan", None, 4, 0, 1, 0.0).std() > 10


def test_truncation_draws_the_runtimes_truncated_codes(models):
    grid = digit_grid(models, "cdcgan", "all", 10, 3, 3, 0.0, truncation=1.0)
    runtime = models.samplers["cdcgan"].sample(10, seed=3, truncation=1.0)
    assert np.array_equal(grid, image_grid(runtime, 10, DIGIT_SCALE, background=255))
    assert not np.array_equal(grid, digit_grid(models, "cdcgan", "all", 10, 3, 3, 0.0))


def test_the_walk_between_digits_keeps_the_style_and_ends_at_the_second_digit(models):
    start = digit_grid(models, "cdcgan", "3", 16, 0, 0, 0.0, digit_b="8")
    end = digit_grid(models, "cdcgan", "3", 16, 0, 0, 1.0, digit_b="8")
    assert np.array_equal(start, digit_grid(models, "cdcgan", "3", 16, 0, 0, 0.0))
    assert np.array_equal(end, digit_grid(models, "cdcgan", "8", 16, 0, 0, 0.0))  # the same codes, now eights
    middle = digit_grid(models, "cdcgan", "3", 16, 0, 0, 0.5, digit_b="8")
    assert not np.array_equal(middle, start) and not np.array_equal(middle, end)
    judge = load_classifier()
    for grid, label in ((start, 3), (end, 8)):
        assert conditional_accuracy(judge, as_tensor(digits_of(grid, 16, 4)), torch.full((16,), label)) >= 0.9
    # Every column of "all" walks to the same digit.
    columns = digit_grid(models, "cdcgan", "all", 10, 0, 0, 1.0, digit_b="8")
    assert conditional_accuracy(judge, as_tensor(digits_of(columns, 10, 10)), torch.full((10,), 8)) >= 0.9


def test_unavailable_files_are_named_in_one_sentence():
    assert unavailable_text(["exports/horse2zebra.onnx is missing"]) == (
        "exports/horse2zebra.onnx is missing. To make it:")
    assert unavailable_text(["exports/horse2zebra.onnx is missing", "exports/zebra2horse.onnx is missing"]) == (
        "exports/horse2zebra.onnx and exports/zebra2horse.onnx are missing. To make them:")
    assert unavailable_text(["a.onnx is not a loadable ONNX model", "b.onnx is missing"]) == (
        "a.onnx is not a loadable ONNX model. b.onnx is missing. To make them:")


def test_a_horse_becomes_a_same_size_image_and_comes_back(models, horse_photo):
    shown, translated, back, note = translate_photo(models, str(horse_photo), "AtoB", True)
    assert shown.shape == translated.shape == back.shape == (256, 256, 3)
    assert np.abs(translated.astype(int) - shown).mean() > 5
    # Each way's lowest-FID model by default ("CUT · FID 98.5" there, "CycleGAN · FID 183.4" back
    # with the shipped files; "CycleGAN · not scored" for the tiny ones), another when asked for.
    [there, *others], [back, *_] = models.photo_models("AtoB"), models.photo_models("BtoA")
    assert note == f"n02381460_1010.jpg: 256×256. By {models.model_label(there)}, back by {models.model_label(back)}"
    for other in others:
        *_, note = translate_photo(models, str(horse_photo), "AtoB", False, model=other)
        assert note == f"n02381460_1010.jpg: 256×256. By {models.model_label(other)}"


def test_large_uploads_are_scaled_down_with_a_note(tmp_path, horse_photo):
    big = tmp_path / "big horse.png"
    cv2.imwrite(str(big), cv2.resize(cv2.imread(str(horse_photo)), (3000, 1500)))
    image, note = load_photo(big, max_side=1024)
    assert image.shape == (512, 1024, 3)
    assert note == "big horse.png: 3000×1500, scaled down to 1024×512 (maximum side 1024)"


def test_non_images_and_missing_uploads_get_clear_errors(tmp_path, models):
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with pytest.raises(DataError, match="notes.jpg: not a readable image"):
        translate_photo(models, str(text), "AtoB", False)
    with pytest.raises(InputError, match="upload a photo first"):
        translate_photo(models, None, "AtoB", False)


def drawn_on_the_pad(width: int = 5) -> np.ndarray:
    """What Gradio's sketchpad hands over: a transparent 256 x 256 RGBA canvas with black
    strokes ``width`` px wide (an outline of a body, four legs and a head)."""
    pad = np.zeros((256, 256, 4), np.uint8)
    black = (0, 0, 0, 255)
    cv2.ellipse(pad, (128, 120), (70, 35), 0, 0, 360, black, width)
    for x in (80, 100, 150, 170):
        cv2.line(pad, (x, 150), (x, 220), black, width)
    cv2.line(pad, (195, 100), (230, 60), black, width)
    return pad


def test_the_pad_is_flattened_onto_white_paper():
    pad = drawn_on_the_pad()
    flat = sketch_drawing({"background": None, "layers": [pad], "composite": pad})
    assert flat.shape == (256, 256, 3) and flat.dtype == np.uint8
    assert (flat[pad[..., 3] == 0] == 255).all() and (flat[pad[..., 3] == 255] == 0).all()
    half = np.zeros((2, 2, 4), np.uint8)
    half[..., 3] = 128  # a half-transparent black stroke edge: half way to white
    assert (sketch_drawing(half) == 127).all()
    assert (sketch_drawing(np.full((3, 4), 9, np.uint8)) == 9).all()  # grey, as an upload may be
    with pytest.raises(InputError, match="draw something first"):
        sketch_drawing({"background": None, "layers": [], "composite": None})
    with pytest.raises(InputError, match="8-bit pixels, got an array of float64 2×2×4"):
        sketch_drawing(np.zeros((2, 2, 4)))


def test_brush_strokes_become_the_one_pixel_lines_the_pairs_hold():
    lines = strokes_as_lines(sketch_drawing(drawn_on_the_pad(width=7)))
    dark = lines[..., 0] == 0
    assert set(np.unique(lines)) == {0, 255}
    # Each leg, 7 px wide, is one line one pixel wide along its length.
    across = dark[170:200, 70:110]  # two legs, x = 80 and 100
    assert (across.sum(axis=1) == 2).all()
    assert 0.5 < dark.sum() / (2 * np.pi * 52 + 4 * 70 + 53) < 1.5  # about the strokes' length, not their area


def test_a_sketch_becomes_an_image_of_the_pad_size(models):
    pad = drawn_on_the_pad()
    lines, output, note = translate_sketch(models, {"background": None, "layers": [pad], "composite": pad})
    # "pix2pix · not scored" for the tiny model, "pix2pix · FID 120.3" once one ships
    assert lines.shape == output.shape == (256, 256, 3)
    assert note == f"drawing: 256×256. By {models.model_label('sketch')}"
    assert np.abs(output.astype(int) - lines.astype(int)).mean() > 5  # the model made something of it
    big = cv2.resize(pad, (2048, 2048), interpolation=cv2.INTER_NEAREST)
    lines, output, note = translate_sketch(models, big, max_side=512)
    assert output.shape == (512, 512, 3) and "scaled down to 512×512" in note
    with pytest.raises(InputError, match="the drawing is blank"):
        translate_sketch(models, np.zeros((256, 256, 4), np.uint8))


@pytest.fixture(scope="module")
def two_models_a_way(demo_exports_with_choices) -> DemoModels:
    loaded = DemoModels.load(demo_exports_with_choices, threads=1)
    assert not loaded.problems
    return loaded


def test_each_direction_offers_its_models_with_their_fid_the_lowest_first(two_models_a_way, horse_photo):
    models = two_models_a_way
    assert models.model_choices("AtoB") == [("CUT · FID 60.2", "cut-AtoB"), ("CycleGAN · FID 97.6", "AtoB")]
    assert models.model_choices("BtoA") == [("CycleGAN · FID 120.0", "BtoA"), ("CUT · not scored", "cut-BtoA")]
    assert models.scored_text("AtoB") == (
        "FID (lower is better) of 120 horse test images against 140 zebra test images")
    assert models.domains() == ("horse", "zebra")
    image, by_cut, back, note = translate_photo(models, str(horse_photo), "AtoB", True)  # the lowest FID
    assert np.array_equal(by_cut, models.translators["cut-AtoB"].translate(image))
    assert np.array_equal(back, models.translators["BtoA"].translate(by_cut))
    assert note == "n02381460_1010.jpg: 256×256. By CUT · FID 60.2, back by CycleGAN · FID 120.0"
    _, by_cyclegan, _, note = translate_photo(models, str(horse_photo), "AtoB", False, model="AtoB")
    assert np.array_equal(by_cyclegan, models.translators["AtoB"].translate(image))
    assert not np.array_equal(by_cyclegan, by_cut) and note.endswith(". By CycleGAN · FID 97.6")
    with pytest.raises(InputError, match="model 'cut-BtoA' does not translate AtoB: choose one of cut-AtoB, AtoB"):
        translate_photo(models, str(horse_photo), "AtoB", False, model="cut-BtoA")
    with pytest.raises(InputError, match="unknown direction 'horse': choose AtoB or BtoA"):
        translate_photo(models, str(horse_photo), "horse", False)
    app = build_app(models)
    parameters = app.get_api_info()["named_endpoints"]["/translate_photo"]["parameters"]
    assert [p["parameter_name"] for p in parameters] == ["photo", "direction", "round_trip", "model"]
    assert parameters[3]["type"]["enum"] == ["cut-AtoB", "AtoB", "BtoA", "cut-BtoA"]  # every direction's, for the API
    assert parameters[3]["parameter_default"] is None  # left out: the lowest FID of the direction asked for
    app.close()


def test_an_absent_extra_model_is_not_missing_and_a_broken_one_is_only_reported(tmp_path, demo_exports):
    exports = tmp_path / "exports"
    exports.mkdir()
    for file in demo_exports.iterdir():
        if not file.name.startswith("cut-"):  # an extra model that ships is absent here
            (exports / file.name).write_bytes(file.read_bytes())
    assert DemoModels.load(exports, threads=1).problems == {}
    (exports / "cut-horse2zebra.onnx").write_bytes(b"truncated")
    unscored = onnx.load(str(exports / "horse2zebra.onnx"))  # a file exported without a record
    onnx.helper.set_model_props(unscored, {p.key: p.value for p in unscored.metadata_props
                                           if p.key not in ("translate.fid", "translate.kid", "translate.scored")})
    onnx.save(unscored, str(exports / "horse2zebra.onnx"))
    models = DemoModels.load(exports, threads=1)
    assert list(models.problems) == ["cut-AtoB"] and not models.missing  # no command to make an extra model
    assert models.problems["cut-AtoB"].startswith("cut-horse2zebra.onnx is not a loadable ONNX model")
    assert models.photo_models("AtoB") == ["AtoB"]
    assert models.model_choices("AtoB") == [("CycleGAN · not scored", "AtoB")]
    assert models.scored_text("AtoB") == "FID: none of these files records one"


def test_missing_model_files_name_the_file_and_the_command(tmp_path, demo_exports, horse_photo, monkeypatch):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "horse2zebra.onnx").write_bytes((demo_exports / "horse2zebra.onnx").read_bytes())
    (exports / "dcgan-mnist.onnx").write_bytes(b"truncated")
    models = DemoModels.load(exports, threads=1)
    assert set(models.problems) == set(models.missing) == {"cdcgan", "dcgan", "BtoA", "sketch"}
    assert models.problems["cdcgan"] == "cdcgan-mnist.onnx is missing"
    # The exports folder lies outside the project, where the commands run: they write into it.
    [command] = how_to_make({"cdcgan": models.missing["cdcgan"]}).splitlines()
    assert command == f'python -m translate.export models/cdcgan-mnist --out "{EXPORTS_GUARD}/cdcgan-mnist.onnx"'
    # The shell fills in the folder, or refuses that command (pasted into a terminal too) while EXPORTS is unset.
    shown = command.replace("python -m translate.export", "printf %s", 1)
    unset = subprocess.run(["bash", "-c", shown], capture_output=True, text=True, env={"PATH": os.defpath})
    assert unset.returncode != 0 and "set EXPORTS to the folder given to the demo as --exports" in unset.stderr
    filled = subprocess.run(["bash", "-c", shown], capture_output=True, text=True,
                            env={"PATH": os.defpath, "EXPORTS": str(exports)})
    assert filled.stdout.endswith(f"--out{exports}/cdcgan-mnist.onnx")
    assert models.problems["dcgan"].startswith("dcgan-mnist.onnx is not a loadable ONNX model")
    commands = how_to_make({"BtoA": models.missing["BtoA"]})
    assert models.model_choices("BtoA") == [] and models.scored_text("BtoA") == "no model file for this direction yet"
    assert f'--direction BtoA --out "{EXPORTS_GUARD}/zebra2horse.onnx"' in commands
    # The server's absolute paths never reach the page.
    assert not any(str(tmp_path) in text for text in [*models.problems.values(), *models.missing.values(), commands])

    with pytest.raises(InputError, match="cdcgan-mnist.onnx is missing"):
        digit_grid(models, "cdcgan", "3", 4, 0, 1, 0.0)
    # A file that is not an image says so before the missing model does.
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with pytest.raises(DataError, match="notes.jpg: not a readable image"):
        translate_photo(models, str(text), "BtoA", False)
    with pytest.raises(DataError, match="nowhere.jpg: cannot read it"):
        translate_photo(models, str(tmp_path / "nowhere.jpg"), "BtoA", False)
    decoded = []
    with monkeypatch.context() as patch:  # no model for it: the photo is not decoded for nothing
        patch.setattr("demo.photos.read_image", lambda *args, **kwargs: decoded.append(args))
        with pytest.raises(InputError, match="zebra2horse.onnx is missing"):
            translate_photo(models, str(horse_photo), "BtoA", False)
    assert decoded == []
    _, translated, back, note = translate_photo(models, str(horse_photo), "AtoB", True)
    assert translated.shape == (256, 256, 3) and back is None
    assert "No round trip" in note and "zebra2horse.onnx is missing" in note
    with pytest.raises(InputError, match="edges2zebra.onnx is missing"):
        translate_sketch(models, drawn_on_the_pad())
    sketch = {"sketch": models.missing["sketch"]}
    recipe = [
        "python -m translate.data fetch horse2zebra fid --data data",
        "python -m translate.pairs edges data/horse2zebra/trainB data/edges2zebra --test data/horse2zebra/testB "
        "--domains edges zebra",
        "python -m translate.train pix2pix --dataset edges2zebra --data data --preset cpu --out runs/edges2zebra",
        f'python -m translate.export runs/edges2zebra --out "{EXPORTS_GUARD}/edges2zebra.onnx"',
    ]
    root = tmp_path / "clone"  # a checkout without the shipped model folder, then with it
    assert how_to_make(sketch, root=root).splitlines() == [
        "# train a model first (about 3 hours on one core of a 2-core CPU):", *recipe]
    (root / "models" / "pix2pix-edges2zebra").mkdir(parents=True)
    assert how_to_make(sketch, root=root).splitlines() == [
        f'python -m translate.export models/pix2pix-edges2zebra --out "{EXPORTS_GUARD}/edges2zebra.onnx"',
        "# or train your own first (about 3 hours on one core of a 2-core CPU):", *recipe]


def test_a_model_file_with_deeply_nested_metadata_only_turns_its_tab_off(tmp_path, demo_exports):
    exports = tmp_path / "exports"
    exports.mkdir()
    for file in demo_exports.iterdir():
        (exports / file.name).write_bytes(file.read_bytes())
    model = onnx.load(str(exports / "cdcgan-mnist.onnx"))
    next(p for p in model.metadata_props if p.key == "translate.class_names").value = "[" * 100_000 + "]" * 100_000
    onnx.save(model, str(exports / "cdcgan-mnist.onnx"))
    models = DemoModels.load(exports, threads=1)
    assert models.problems == {"cdcgan": "cdcgan-mnist.onnx has translate metadata nested too deeply to read: "
                                         "re-export it"}
    assert digit_grid(models, "dcgan", "all", 4, 0, 1, 0.0).shape[2] == 3  # the other models still work
    build_app(models).close()  # the page builds, that tab's controls off


def test_the_commands_name_only_model_folders_that_exist(tmp_path):
    missing = {"AtoB": "exports/horse2zebra.onnx", "BtoA": "exports/zebra2horse.onnx"}
    train = "python -m translate.train cyclegan --domains horse zebra --preset cpu --download --out runs/horse2zebra"
    assert how_to_make(missing, root=tmp_path).splitlines() == [  # no shipped model: train one
        "# train a model first (15.5 to 40 hours on a 2-core CPU):", train,
        "python -m translate.export runs/horse2zebra --direction AtoB --out exports/horse2zebra.onnx",
        "python -m translate.export runs/horse2zebra --direction BtoA --out exports/zebra2horse.onnx",
    ]
    (tmp_path / "models" / "cyclegan-horse2zebra").mkdir(parents=True)
    assert how_to_make(missing, root=tmp_path).splitlines()[:3] == [
        "python -m translate.export models/cyclegan-horse2zebra --direction AtoB --out exports/horse2zebra.onnx",
        "python -m translate.export models/cyclegan-horse2zebra --direction BtoA --out exports/zebra2horse.onnx",
        "# or train your own first (15.5 to 40 hours on a 2-core CPU):",
    ]


def test_result_files_are_unique_whole_pngs_and_only_the_newest_are_kept(tmp_path):
    results = ResultFiles(tmp_path, keep=3)
    image = np.zeros((5, 7, 3), np.uint8)
    image[1, 2] = (10, 20, 30)
    paths = [results.save(image, "same") for _ in range(5)]
    assert len(set(paths)) == 5, "identical images must still get files of their own"
    kept = sorted(tmp_path.iterdir())
    assert kept == sorted(Path(p) for p in paths[-3:])
    decoded = cv2.cvtColor(cv2.imread(paths[-1]), cv2.COLOR_BGR2RGB)
    assert np.array_equal(decoded, image)
    assert results.save(None, "none") is None


def test_sigterm_during_a_destructor_still_stops_the_server_and_removes_its_files(tmp_path):
    """A signal handled while a destructor runs has a raised SystemExit swallowed; the server
    once went on serving (1 start in 8 hung in CI's install test). The handler must end it."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        sys.path.insert(0, sys.argv[1])
        from demo.serving import private_temp_dir

        print(private_temp_dir(), flush=True)

        class SignalledDuringDel:
            def __del__(self):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(2)  # the handler runs in here

        SignalledDuringDel()
        time.sleep(2)
        print("still serving", flush=True)
    """)
    result = subprocess.run([sys.executable, "-c", script, str(REPO)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / "gradio")})
    assert result.returncode == 0, result.stderr
    assert "still serving" not in result.stdout and "Traceback" not in result.stderr
    folder = Path(result.stdout.split()[0])
    assert folder.name.startswith("translate-demo-") and not folder.exists()


def _renamed(source, dest, source_domain, target_domain, direction=None):
    """A copy of the ONNX file ``source`` whose metadata names other domains (and direction)."""
    from translate.onnx_contract import PREFIX

    model = onnx.load(str(source))
    for prop in model.metadata_props:
        if prop.key == PREFIX + "source_domain":
            prop.value = source_domain
        elif prop.key == PREFIX + "target_domain":
            prop.value = target_domain
        elif prop.key == PREFIX + "direction" and direction:
            prop.value = direction
    dest.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dest))
    return dest


def test_the_directions_and_the_sketch_title_come_from_the_files_domain_names(translator_file, tmp_path):
    _renamed(translator_file[1], tmp_path / "both" / "horse2zebra.onnx", "apple", "orange")
    _renamed(translator_file[1], tmp_path / "both" / "edges2zebra.onnx", "outline", "cat")
    models = DemoModels.load(tmp_path / "both")
    assert models.direction_choices() == [("apple → orange", "AtoB"), ("orange → apple", "BtoA")]
    assert models.sketch_title() == "Sketch → cat"
    # Only the other direction's file: its source is the B side.
    _renamed(translator_file[1], tmp_path / "back" / "zebra2horse.onnx", "orange", "apple", "BtoA")
    assert DemoModels.load(tmp_path / "back").domains() == ("apple", "orange")


def test_a_file_of_the_wrong_direction_or_domains_is_refused_not_mislabelled(translator_file, tmp_path):
    exports = tmp_path / "exports"
    _renamed(translator_file[1], exports / "zebra2horse.onnx", "horse", "zebra")  # exported AtoB, named BtoA
    models = DemoModels.load(exports, threads=1)
    assert "BtoA" not in models.translators and models.missing["BtoA"] == f'"{EXPORTS_GUARD}/zebra2horse.onnx"'
    assert models.problems["BtoA"] == (
        "zebra2horse.onnx translates horse → zebra (exported with --direction AtoB), but the page serves it as "
        "BtoA: export it again with --direction BtoA")
    _renamed(translator_file[1], exports / "horse2zebra.onnx", "horse", "zebra")
    _renamed(translator_file[1], exports / "cut-horse2zebra.onnx", "apple", "orange")  # a model of other domains
    models = DemoModels.load(exports, threads=1)
    assert "AtoB" in models.translators and "cut-AtoB" not in models.translators
    assert models.problems["cut-AtoB"] == ("cut-horse2zebra.onnx translates apple → orange, but the page serves it "
                                           "as horse → zebra: export it from a horse ↔ zebra model")
    assert "cut-AtoB" not in models.missing  # an extra model: nothing to make
    assert DemoModels.load(tmp_path / "none").direction_choices()[0][0] == "horse → zebra"  # no files: the defaults


def test_every_queued_event_shares_one_concurrency_limit_and_the_first_grid_is_no_api(models):
    app = build_app(models, concurrency=2)
    groups = {fn.concurrency_id for fn in app.fns.values() if fn.queue}
    assert groups == {CONCURRENCY_GROUP}  # Gradio's default is a limit per function: 3 tabs, 3 x 2 at once
    assert (app._queue.default_concurrency_limit, app._queue.max_size) == (2, 32)  # docs/demo.md's defaults
    assert sorted(app.get_api_info()["named_endpoints"]) == ["/generate_digits", "/translate_photo",
                                                            "/translate_sketch"]
    app.close()
    other = build_app(models, concurrency=3, queue_size=5)  # --concurrency 3 --queue-size 5
    assert (other._queue.default_concurrency_limit, other._queue.max_size) == (3, 5)
    other.close()


def test_the_sketchpad_decodes_only_its_composite_and_keeps_few_drawings(models, tmp_path):
    app = build_app(models)
    pad = next(block for block in app.blocks.values() if getattr(block, "elem_id", None) == "sketchpad")
    cv2.imwrite(str(tmp_path / "large.png"), np.full((300, 300, 3), 255, np.uint8))
    cv2.imwrite(str(tmp_path / "drawing.png"), np.zeros((8, 8, 3), np.uint8))
    large = FileData(path=str(tmp_path / "large.png"))
    value = pad.preprocess(EditorData(background=large, layers=[large] * 3,  # an API call naming a picture 4 times
                                      composite=FileData(path=str(tmp_path / "drawing.png"))))
    assert value["background"] is None and value["layers"] == [] and value["composite"].shape == (8, 8, 4)

    png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()

    def blob(kind: str, index: str | None, key: str, session: str) -> DataWithFiles:
        """What Gradio's route hands the pad: the form the page posts (its session among the
        fields) and the picture."""
        return DataWithFiles(data={"type": kind, "index": index, "id": key, "session_hash": session},
                             files=[("blob", png)])

    pad.accept_blobs(blob("layer", "10000000000", "huge-index", "a"))  # would grow a 10**10 list
    pad.accept_blobs(blob("background", None, "unused", "a"))
    pad.accept_blobs(DataWithFiles(data={"type": "composite", "index": None, "id": "none", "session_hash": "a"},
                                   files=[]))  # no picture
    pad.accept_blobs(DataWithFiles(data={"type": "composite", "index": None, "id": "big", "session_hash": "a"},
                                   files=[("blob", b"\0" * (BLOB_MAX_BYTES + 1))]))  # not the pad's
    assert pad.blob_storage == {}
    pad.accept_blobs(blob("composite", None, "a-drawing", "a"))  # its click waits in the queue...
    for stroke in range(100):  # ...while two others draw on: each keeps only its newest few
        for other in ("b", "c"):
            pad.accept_blobs(blob("composite", None, f"{other}-{stroke}", other))
    assert sorted(pad.blob_storage) == sorted(["a-drawing", *(f"{other}-{stroke}" for other in "bc"
                                                              for stroke in range(100 - BLOBS_PER_SESSION, 100))])
    drawing = pad.preprocess(EditorData(id="a-drawing", background=None, layers=[], composite=None))
    assert drawing["composite"].shape == (8, 8, 4)
    assert "a-drawing" not in pad.blob_storage  # used: Gradio lets go of it
    for other in range(SESSIONS_KEPT):  # as many new sessions as are kept push out the oldest ones
        pad.accept_blobs(blob("composite", None, f"new-{other}", f"new-{other}"))
    assert sorted(pad.blob_storage) == sorted(f"new-{other}" for other in range(SESSIONS_KEPT))
    app.close()


def test_a_dropdown_takes_the_label_the_page_shows_as_its_value():
    dropdown = gr.Dropdown(choices=[("same digit", "same"), ("7", "7")], value="same")
    quiet_checks(dropdown)
    assert dropdown.preprocess("same digit") == "same" and dropdown.preprocess("7") == "7"


def test_the_sweeper_removes_only_gradio_s_leftovers_and_only_in_the_server_s_own_folder(tmp_path, monkeypatch):
    for name in ("tmpa1b2c3", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert UploadSweeper(tmp_path, age=0).sweep() == 1 and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    assert owns_gradio_temp(tmp_path)
    monkeypatch.setenv("GRADIO_TEMP_DIR", "/tmp")  # the user's: never swept
    assert not owns_gradio_temp(tmp_path)


@pytest.mark.parametrize(("domains", "expected"), [
    (("horse", "zebra"), ["AtoB", "AtoB", "BtoA", "BtoA"]),
    (("zebra", "horse"), ["BtoA", "BtoA", "AtoB", "AtoB"]),  # a model trained the other way round
    (("horses", "zebras"), []),  # other domain names: no example is run by a model of something else
    (("apple", "orange"), []),
])
def test_each_example_photo_goes_to_the_model_of_its_domain(domains, expected):
    from types import SimpleNamespace

    from demo.tabs import _examples

    examples = _examples(SimpleNamespace(domains=lambda: domains))
    assert [path.name for path, _ in examples] == (["horse-1.jpg", "horse-2.jpg", "zebra-1.jpg", "zebra-2.jpg"]
                                                   if expected else [])
    assert [key for _, key in examples] == expected
