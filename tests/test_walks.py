"""Truncated samples and walks (between two seeds' codes, between two labels) on the shipped
digit models: the command line (PyTorch) and the runtime (ONNX Runtime) draw the same images,
and the files come out as strips or animations of the right number of frames."""


import cv2
import numpy as np
import onnxruntime
import pytest
import torch

from translate.cli import run_cli
from translate.errors import InputError
from translate.evaluation.judge import conditional_accuracy, load_classifier
from translate.families import load_generator
from translate.families.dcgan.family import walk
from translate.io.images import read_image
from translate.latent import latent_codes
from translate.modeling.pixels import to_unit
from translate.onnx_contract import ModelInfo
from translate.onnx_export import ExportPlan, write_checked
from translate.runtime import Sampler
from translate.sample import main as sample_main

from .cli_errors import one_line_error, run_without_torch
from .conftest import REPO

MODELS, EXPORTS = REPO / "models", REPO / "exports"


@pytest.fixture(scope="module")
def samplers():
    return {name: Sampler(EXPORTS / f"{name}-mnist.onnx", threads=1) for name in ("cdcgan", "dcgan")}


def strip_cells(path, rows, columns):
    """The 28 x 28 grey cells of a strip that translate.sample wrote (2-px gaps, scale 1)."""
    grid = read_image(path)
    return np.stack([[grid[2 + r * 30 : 30 + r * 30, 2 + c * 30 : 30 + c * 30, :1] for c in range(columns)]
                     for r in range(rows)])


def close(a, b):
    """ONNX Runtime and PyTorch round the same images alike, to within one grey level."""
    return a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).max() <= 1


@pytest.mark.parametrize("model", ["cdcgan", "dcgan"])
def test_truncated_samples_are_the_same_codes_and_images_in_the_cli_and_the_runtime(tmp_path, samplers, model):
    sampler = samplers[model]
    assert np.array_equal(sampler.codes(10, seed=4, truncation=0.7), latent_codes(10, 100, 4, 0.7))
    out = tmp_path / "grid.png"
    run_cli(sample_main, [str(MODELS / f"{model}-mnist"), "--n", "10", "--nrow", "10", "--seed", "4",
                          "--truncation", "0.7", "--out", str(out)])
    runtime = sampler.sample(10, seed=4, truncation=0.7)
    assert close(strip_cells(out, 1, 10)[0], runtime)
    assert not close(runtime, sampler.sample(10, seed=4))  # the truncation changed the codes, so the digits


def test_a_seed_walk_is_the_same_in_the_cli_and_the_runtime_and_ends_at_the_seeds_images(tmp_path, samplers):
    sampler, out = samplers["cdcgan"], tmp_path / "walk.png"
    run_cli(sample_main, [str(MODELS / "cdcgan-mnist"), "--interpolate", "1", "2", "--steps", "6", "--n", "2",
                          "--out", str(out)])
    runtime = sampler.interpolate(1, 2, steps=6, n=2)  # walk i keeps label i, as sample's classes in turn
    assert runtime.shape == (2, 6, 28, 28, 1)
    assert close(strip_cells(out, 2, 6), runtime)
    assert close(runtime[:, 0], sampler.sample(2, seed=1)) and close(runtime[:, -1], sampler.sample(2, seed=2))
    assert all(not close(runtime[:, k], runtime[:, k + 1]) for k in range(5))  # it moves at every step


def test_a_label_walk_keeps_the_code_and_turns_one_digit_into_the_other(tmp_path, samplers):
    sampler, out = samplers["cdcgan"], tmp_path / "labels.png"
    run_cli(sample_main, [str(MODELS / "cdcgan-mnist"), "--interpolate-labels", "3", "8", "--steps", "5",
                          "--n", "10", "--seed", "7", "--out", str(out)])
    runtime = sampler.interpolate_labels(3, 8, steps=5, n=10, seed=7)
    assert close(strip_cells(out, 10, 5), runtime)
    assert close(runtime[:, 0], sampler.sample(10, labels=3, seed=7))
    assert close(runtime[:, -1], sampler.sample(10, labels=8, seed=7))
    judge = load_classifier()
    for column, digit in ((0, 3), (-1, 8)):  # the judge reads the ends as the two labels
        digits = to_unit(runtime[:, column])
        assert conditional_accuracy(judge, digits, torch.full((10,), digit)) >= 0.9


def test_pytorch_walks_take_truncation_and_keep_the_truncated_ends():
    generator, config = load_generator(MODELS / "dcgan-mnist")
    images = walk(generator, config, rows=2, steps=4, seeds=(5, 6), truncation=0.7).reshape(2, 4, 1, 28, 28)
    with torch.no_grad():  # the ends are the seeds' truncated codes, drawn by the generator itself
        ends = [generator(torch.from_numpy(latent_codes(2, config.z_dim, seed, 0.7))) for seed in (5, 6)]
    torch.testing.assert_close(images[:, 0], ends[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(images[:, -1], ends[1], atol=1e-5, rtol=0)
    plain = walk(generator, config, rows=2, steps=4, seeds=(5, 6)).reshape(2, 4, 1, 28, 28)
    assert (plain[:, 0] - images[:, 0]).abs().max() > 0.1  # untruncated codes draw other digits


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_a_walk_written_as_an_animation_has_one_frame_per_step(tmp_path, suffix):
    out = tmp_path / f"walk{suffix}"
    run_cli(sample_main, [str(MODELS / "cdcgan-mnist"), "--interpolate-labels", "1", "7", "--steps", "7", "--n", "3",
                          "--scale", "2", "--out", str(out)])
    ok, animation = cv2.imreadanimation(str(out))
    assert ok and len(animation.frames) == 7 and animation.loop_count == 0
    assert {frame.shape[:2] for frame in animation.frames} == {((3 * 30 + 2) * 2, (30 + 2) * 2)}  # 3 digits stacked
    assert len({frame.tobytes() for frame in animation.frames}) == 7


def test_a_walk_written_as_a_png_is_a_strip(tmp_path):
    out = tmp_path / "walk.png"
    run_cli(sample_main, [str(MODELS / "dcgan-mnist"), "--interpolate", "0", "9", "--out", str(out)])
    assert read_image(out).shape == (2 + 30, 2 + 8 * 30, 3)  # the default 8 steps in one row


def test_a_walk_too_wide_for_jpeg_says_so_in_one_line(tmp_path, capfd):
    out = tmp_path / "walk.jpg"  # 1000 steps of 28 px at --scale 3: 90,006 px, beyond JPEG's 65,500
    with pytest.raises(SystemExit):
        run_cli(sample_main, [str(EXPORTS / "cdcgan-mnist.onnx"), "--interpolate", "1", "2", "--steps", "1000",
                              "--scale", "3", "--out", str(out)])
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too large for .jpg (at most 65,500 pixels a side): write .png" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--truncation", "0"], "truncation must be a finite number of at least 0.01"),
    (["--truncation", "nan"], "truncation must be a finite number"),
    (["--steps", "4"], "--steps applies to walks"),
    (["--interpolate", "1", "2", "--steps", "1"], "steps must be a whole number in 2..1000"),
    (["--interpolate", "1", "2", "--seed", "3"], "--seed and --interpolate both name the codes"),
    (["--interpolate", "1", "2", "--nrow", "3"], "--nrow does not apply to walks"),
    (["--interpolate-labels", "3", "10"], "--interpolate-labels 10 is out of range"),
    (["--interpolate-labels", "3", "8", "--label", "1"], "--label and --interpolate-labels both set the label"),
    (["--interpolate", "1", "2", "--n", "2000", "--steps", "6"], "more than 10000 images"),
    (["--interpolate", "1", str(2**64)], "--interpolate's seeds must lie in 0.."),
    (["--interpolate", "-1", "2"], "--interpolate's seeds must lie in 0.."),
])
@pytest.mark.parametrize("source", [MODELS / "cdcgan-mnist", EXPORTS / "cdcgan-mnist.onnx"])
def test_walk_and_truncation_errors_are_one_line(tmp_path, capsys, argv, message, source):
    out = tmp_path / "out.png"
    assert message in one_line_error(capsys, sample_main, str(source), "--out", str(out), *argv)
    assert not out.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--interpolate-labels", "1", "2"], "--interpolate-labels needs a conditional (cdcgan) model"),
    (["--label", "3"], "--label needs a conditional (cdcgan) model; this one is unconditional"),
])
@pytest.mark.parametrize("source", [MODELS / "dcgan-mnist", EXPORTS / "dcgan-mnist.onnx"])
def test_an_unconditional_model_takes_no_label(tmp_path, capsys, source, argv, message):
    assert message in one_line_error(capsys, sample_main, str(source), *argv, "--out", str(tmp_path / "out.png"))


def test_the_runtime_has_no_label_walk_for_an_unconditional_file(samplers):
    with pytest.raises(InputError, match="interpolate_labels needs a conditional model"):
        samplers["dcgan"].interpolate_labels(1, 2, steps=3)


def test_a_translation_model_has_no_codes_to_truncate_or_walk(tmp_path, capsys):
    run = REPO / "tests" / "fixtures" / "runs-460627b" / "cyclegan"
    for argv, message in ((["--truncation", "1"], "--truncation applies to models that draw from latent codes"),
                          (["--interpolate", "1", "2"], "walk between latent codes")):
        assert message in one_line_error(capsys, sample_main, str(run), "--out", str(tmp_path / "g.png"), *argv)


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.sample(2, truncation=-1), "truncation must be"),
    (lambda s: s.interpolate(1, 2, steps=1), "steps must be"),
    (lambda s: s.interpolate(1, -2, steps=3), "seed must be an integer"),
    (lambda s: s.interpolate_labels(1, 10, steps=3), r"labels must lie in 0\.\.9"),
    (lambda s: s.generate(np.zeros((2, 100), np.float32), np.zeros((2, 9), np.float32)), "shape 2 x 10"),
])
def test_the_runtime_refuses_bad_walks(samplers, call, message):
    with pytest.raises(InputError, match=message):
        call(samplers["cdcgan"])


def test_a_walk_counts_against_max_samples():
    sampler = Sampler(EXPORTS / "cdcgan-mnist.onnx", threads=1, max_samples=10)
    assert sampler.interpolate(0, 1, steps=5, n=2).shape == (2, 5, 28, 28, 1)
    with pytest.raises(InputError, match="2 walks of 6 steps exceed max_samples=10"):
        sampler.interpolate(0, 1, steps=6, n=2)


def test_a_file_exported_with_class_indices_still_samples_but_cannot_walk_between_labels(tmp_path, samplers):
    """cDCGAN files exported before walks between labels take int64 class indices."""
    generator, config = load_generator(MODELS / "cdcgan-mnist")
    z = torch.randn(3, config.z_dim, generator=torch.Generator().manual_seed(0))
    old = ExportPlan(module=_IndexGenerator(generator), input_names=["z", "label"],
                     dynamic_axes={"z": {0: "batch"}, "label": {0: "batch"}, "image": {0: "batch"}},
                     check_inputs=[(z, torch.tensor([1, 5, 9]))],
                     info=ModelInfo(family="cdcgan", task="sample", channels=1, z_dim=config.z_dim,
                                    class_names=[str(d) for d in range(10)], image_size=28))
    write_checked(old, tmp_path / "old.onnx")
    sampler = Sampler(tmp_path / "old.onnx", threads=1)
    assert np.array_equal(sampler.sample(20, seed=3), samplers["cdcgan"].sample(20, seed=3))
    assert np.array_equal(sampler.interpolate(1, 2, steps=3), samplers["cdcgan"].interpolate(1, 2, steps=3))
    with pytest.raises(InputError, match="takes class indices only .*re-export it with python -m translate.export"):
        sampler.interpolate_labels(3, 8, steps=3)


class _IndexGenerator(torch.nn.Module):
    """(z, int64 label) -> image: the cDCGAN export's inputs before class weights."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, z, label):
        return self.generator(z, label)


@pytest.mark.parametrize(("name", "argv"), [
    ("cdcgan", ("--n", "20", "--seed", "3")),
    ("cdcgan", ("--label", "7", "--n", "8", "--scale", "2", "--truncation", "1.5")),
    ("cdcgan", ("--interpolate-labels", "3", "8", "--steps", "8", "--n", "4")),
    ("cdcgan", ("--interpolate", "1", "2", "--label", "5", "--steps", "6", "--n", "2", "--truncation", "1.5")),
    ("cdcgan", ("--interpolate", "4", "9", "--interpolate-labels", "1", "2", "--steps", "5", "--n", "3")),
    ("dcgan", ("--n", "20", "--seed", "3", "--truncation", "1.5")),
    ("dcgan", ("--interpolate", "1", "2", "--steps", "6", "--n", "2")),
])
def test_an_exported_file_draws_what_its_model_folder_draws(tmp_path, name, argv):
    run_cli(sample_main, [str(EXPORTS / f"{name}-mnist.onnx"), *argv, "--out", str(tmp_path / "onnx.png")])
    run_cli(sample_main, [str(MODELS / f"{name}-mnist"), *argv, "--out", str(tmp_path / "torch.png")])
    from_onnx, from_torch = read_image(tmp_path / "onnx.png").astype(int), read_image(tmp_path / "torch.png")
    assert from_onnx.shape == from_torch.shape
    assert np.abs(from_onnx - from_torch).max() <= 1  # ONNX Runtime and PyTorch round alike to a grey level


def test_an_exported_file_walks_into_an_animation(tmp_path):
    run_cli(sample_main, [str(EXPORTS / "cdcgan-mnist.onnx"), "--interpolate-labels", "3", "8", "--steps", "5",
                          "--n", "2", "--out", str(tmp_path / "walk.gif")])
    assert cv2.VideoCapture(str(tmp_path / "walk.gif")).get(cv2.CAP_PROP_FRAME_COUNT) == 5


def test_an_exported_translator_or_gpu_without_cuda_is_a_one_line_error(capsys, tmp_path, translator_file):
    error = one_line_error(capsys, sample_main, str(translator_file[1]), "--out", str(tmp_path / "x.png"))
    assert f"{translator_file[1]} translates images one way: translate photos with python -m translate.apply" in error
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        error = one_line_error(capsys, sample_main, str(EXPORTS / "cdcgan-mnist.onnx"), "--gpu", "--out",
                               str(tmp_path / "x.png"))
        assert "--gpu was given, but this onnxruntime runs on the CPU only" in error
    assert not (tmp_path / "x.png").exists()


def test_drawing_from_an_exported_file_needs_no_torch(tmp_path):
    result = run_without_torch("sample", str(EXPORTS / "cdcgan-mnist.onnx"), "--label", "7", "--n", "8", "--out",
                               str(tmp_path / "sevens.png"))
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "sevens.png").shape == (2 + 3 * 30, 2 + 3 * 30, 3)  # 8 digits, 3 to a row
