"""translate.apply: any image size in, the same size out, names kept, bad files named; an ONNX file
or a checkpoint."""

import re

import cv2
import numpy as np
import onnxruntime
import pytest
import torch

from tests.cli_errors import run_without_torch
from translate.apply import OUTPUT_MARKER
from translate.cli import run_cli
from translate.families.cyclegan.nets import CycleGANConfig, build_discriminator, build_generator
from translate.io.images import pad_amounts, read_image
from translate.modeling.inference import translate_image
from translate.modeling.pixels import to_pixels, to_unit
from translate.modeling.resnet_generator import MIN_SIZE, SIZE_MULTIPLE
from translate.progress import Progress
from translate.training.checkpoint import save_checkpoint

CUDA_ONNX = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
CONFIG = CycleGANConfig(ngf=8, ndf=8, n_blocks=2, image_size=32, domain_a="horse", domain_b="zebra")


@pytest.fixture
def run(tmp_path):
    """A CycleGAN checkpoint with freshly initialised networks (apply only needs the format)."""
    torch.manual_seed(0)
    modules = {"generator_AtoB": build_generator(CONFIG), "generator_BtoA": build_generator(CONFIG),
               "discriminator_A": build_discriminator(CONFIG), "discriminator_B": build_discriminator(CONFIG)}
    save_checkpoint(tmp_path / "run", 1, "cyclegan", CONFIG.to_dict(), {}, modules, {"step": 1})
    return tmp_path / "run", modules


@pytest.fixture
def horses(tmp_path, data_root):
    """Real test horses cut to odd sizes, a greyscale one in a sub-folder, and a corrupt file."""
    files = sorted((data_root / "horse2zebra" / "testA").iterdir())[:2]
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    first, second = (cv2.imread(str(f)) for f in files)
    cv2.imwrite(str(folder / "odd.jpg"), first[:101, :57])
    cv2.imwrite(str(folder / "sub" / "grey.png"), cv2.cvtColor(second[:30, :43], cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "tiny.png"), second[:3, :5])
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return folder


def apply(*argv: str) -> None:
    from translate.apply import main

    run_cli(main, list(argv))


def test_pad_amounts_reach_a_multiple_of_4_of_at_least_8():
    padding = [pad_amounts(n, SIZE_MULTIPLE, MIN_SIZE) for n in (3, 8, 57, 101, 256)]
    assert padding == [(2, 3), (0, 0), (1, 2), (1, 2), (0, 0)]


def test_odd_sized_images_keep_their_size_and_names(run, horses, tmp_path, capsys):
    out = tmp_path / "out"
    apply(str(run[0]), "--input", str(horses), "--output", str(out), "--direction", "BtoA")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != OUTPUT_MARKER)
    assert written == ["odd.jpg", "sub/grey.png", "tiny.png"]
    assert read_image(out / "odd.jpg").shape == (101, 57, 3)
    assert read_image(out / "sub" / "grey.png").shape == (30, 43, 3)
    assert read_image(out / "tiny.png").shape == (3, 5, 3)
    captured = capsys.readouterr()
    assert "broken.jpg: not a readable image" in captured.err
    assert "translated 3 image(s) zebra -> horse" in captured.out and "skipped 1" in captured.out
    assert "translating: 0/4 images (0%), 0 s\n" in captured.err  # off a terminal: lines, at the start and the end
    assert re.search(r"translating: 4/4 images \(100%\), \d+ s, done\n", captured.err)


def test_a_skipped_file_is_noted_above_the_bar(capsys):
    with Progress("bar").track("translating", 2) as bar:
        bar.update()
        bar.note("skipping broken.jpg: not a readable image")
        bar.update()
    err = capsys.readouterr().err
    assert "skipping broken.jpg: not a readable image\n" in err and "2/2" in err.rsplit("readable image", 1)[1]


def test_a_multiple_of_4_goes_through_the_generator_unpadded(run, data_root):
    generator = run[1]["generator_AtoB"].eval()
    rgb = read_image(sorted((data_root / "horse2zebra" / "testA").iterdir())[0])[:64, :48]
    with torch.no_grad():
        expected = to_pixels(generator(to_unit(np.ascontiguousarray(rgb))))[0]
    assert np.array_equal(translate_image(generator, rgb, SIZE_MULTIPLE, MIN_SIZE), expected.numpy())


def test_single_file_and_bad_arguments(run, horses, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no photos here")
    apply(str(run[0]), "--input", str(horses / "odd.jpg"), "--output", str(tmp_path / "one"))
    assert [p.name for p in (tmp_path / "one").iterdir() if p.name != OUTPUT_MARKER] == ["odd.jpg"]
    for argv, message in [
        ((str(run[0]), "--input", str(horses), "--output", str(horses)), "is the input folder"),
        ((str(run[0]), "--input", str(horses), "--output", str(horses / "zebras")),
         f"--output {horses / 'zebras'} lies inside the input folder {horses}: the translations would mix"),
        ((str(run[0]), "--input", str(horses), "--output", str(horses.parent)),
         f"--output {horses.parent} holds the input folder {horses}: the translations would mix"),
        ((str(run[0]), "--input", str(empty), "--output", str(tmp_path / "o")), f"no images or videos in {empty}"),
        ((str(run[0]), "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")), "does not exist"),
        ((str(run[0]), "--input", str(horses / "broken.jpg"), "--output", str(tmp_path / "o")), "none of the 1"),
        ((str(tmp_path), "--input", str(horses), "--output", str(tmp_path / "o")), "no checkpoint in"),
    ]:
        capsys.readouterr()
        with pytest.raises(SystemExit):
            apply(*argv)
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: ") and message in err
    assert not (horses / "zebras").exists() and not (tmp_path / "o").exists()  # nothing written by any of them


def test_a_pixel_limit_below_every_image_names_each_size_and_writes_nothing(run, horses, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(horses), "--output", str(out), "--max-pixels", "10")
    err = capsys.readouterr().err
    assert "odd.jpg: 57x101 (5,757 pixels), above the limit of 10 pixels: scale it down first" in err
    assert err.strip().splitlines()[-1] == ("error: none of the 4 input files could be translated (each is named "
                                            "above, with why): nothing was written")
    assert not out.exists()  # nothing written: not even the folder and its marker
    earlier = tmp_path / "earlier"  # an earlier call's output folder keeps its files and its marker
    apply(str(run[0]), "--input", str(horses / "odd.jpg"), "--output", str(earlier))
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(horses), "--output", str(earlier), "--max-pixels", "10", "--overwrite")
    assert sorted(p.name for p in earlier.iterdir()) == [OUTPUT_MARKER, "odd.jpg"]
    capsys.readouterr()
    for limit in ("0", "-5", "lots"):
        with pytest.raises(SystemExit):
            apply(str(run[0]), "--input", str(horses), "--output", str(out), "--max-pixels", limit)
        assert f"argument --max-pixels: must be a positive integer, got {limit}" in capsys.readouterr().err


def test_max_side_scales_images_down_before_translating(run, horses, tmp_path, capsys):
    out = tmp_path / "out"
    apply(str(run[0]), "--input", str(horses), "--output", str(out), "--max-side", "40")
    assert read_image(out / "odd.jpg").shape == (40, 23, 3)  # 57x101, longer side to 40: 22.6 -> 23
    assert read_image(out / "sub" / "grey.png").shape == (28, 40, 3)  # 43x30: 27.9 -> 28
    assert read_image(out / "tiny.png").shape == (3, 5, 3)  # no larger: as it is
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(horses / "odd.jpg"), "--output", str(tmp_path / "o2"), "--max-side", "40",
              "--max-pixels", "10")
    assert ("odd.jpg scaled to --max-side 40: 23x40 (920 pixels), above the limit of 10 pixels"
            in capsys.readouterr().err)
    with pytest.raises(SystemExit):
        apply(str(run[0]), "--input", str(horses), "--output", str(out), "--max-side", "0")
    assert "argument --max-side: must be a positive integer, got 0" in capsys.readouterr().err


def test_an_onnx_file_translates_as_its_checkpoint_does(translator_file, horses, tmp_path, capsys):
    run_folder, onnx_file = translator_file
    apply(str(onnx_file), "--input", str(horses), "--output", str(tmp_path / "onnx"))
    from_onnx = capsys.readouterr()
    apply(str(run_folder), "--input", str(horses), "--output", str(tmp_path / "torch"), "--precision", "fp32")
    assert "broken.jpg: not a readable image" in from_onnx.err
    assert "translated 3 image(s) horse -> zebra" in from_onnx.out and "skipped 1" in from_onnx.out
    for name in ("odd.jpg", "sub/grey.png", "tiny.png"):
        onnx_image, torch_image = (read_image(tmp_path / kind / name).astype(int) for kind in ("onnx", "torch"))
        assert onnx_image.shape == torch_image.shape == read_image(horses / name).shape
        assert np.abs(onnx_image - torch_image).max() <= (8 if name.endswith(".jpg") else 1)  # JPEG rounds alike


def test_an_onnx_file_refuses_what_only_a_checkpoint_can_do(translator_file, onnx_files, horses, tmp_path, capsys):
    import onnx

    onnx_file, older = translator_file[1], tmp_path / "older.onnx"
    model = onnx.load(str(onnx_file))  # as files exported before the direction was recorded
    onnx.helper.set_model_props(model, {p.key: p.value for p in model.metadata_props
                                        if p.key not in ("translate.direction", "translate.task")})
    onnx.save(model, str(older))
    for argv, message in [
        ((str(older), "--direction", "AtoB"), f"{older} records no direction (exported by an earlier toolkit): "
                                              "leave --direction out"),
        ((str(onnx_file), "--direction", "BtoA"), f"{onnx_file} translates AtoB only (horse -> zebra): for zebra -> "
                                                  "horse, pass a file that translates that way (a two-way model's "
                                                  "exported with --direction BtoA, or a model trained that way)"),
        ((str(onnx_file), "--precision", "bf16"), "--precision applies to a checkpoint or model folder"),
        ((str(onnx_files["dcgan"]),), "holds a dcgan model, which draws images rather than translating them"),
        ((str(tmp_path / "missing.onnx"),), "missing.onnx does not exist"),
    ] + [((str(onnx_file), "--gpu"), "--gpu was given, but this onnxruntime runs on the CPU only: install "
                                     "onnxruntime-gpu, or leave out --gpu")] * (not CUDA_ONNX):
        capsys.readouterr()
        with pytest.raises(SystemExit):
            apply(*argv, "--input", str(horses), "--output", str(tmp_path / "out"))
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: ") and message in err
        assert not (tmp_path / "out").exists()  # refused before anything is written


def test_applying_an_onnx_file_needs_no_torch(translator_file, horses, tmp_path):
    result = run_without_torch("apply", str(translator_file[1]), "--input", str(horses), "--output",
                               str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "translated 3 image(s) horse -> zebra" in result.stdout
    assert (tmp_path / "out" / "sub" / "grey.png").is_file()
