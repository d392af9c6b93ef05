"""Adding a family is one package: a toy translation family, installed the way another
distribution's family would be (an entry point in the group ``translate.families``), trains,
resumes exactly (with a module and optimiser its recipe builds from the first batch), samples,
packs, exports, applies and scores through the same commands as the shipped families, at the
input sizes it states. And reading a model never imports the training code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.evaluate import main as evaluate_main
from translate.export import main as export_main
from translate.families import all_families, get_family
from translate.io.images import read_image
from translate.modeling.checkpoint import WEIGHTS
from translate.pack import main as pack_main
from translate.runtime import Translator
from translate.sample import main as sample_main

from .cyclegan_data import horse2zebra
from .training_runs import assert_same_state, optimizer_states, train, weights

TOY_SOURCE = Path(__file__).resolve().parent / "toy_family"
PACKAGE = "toy_translate"  # the name the toy is installed under
ODD = (75, 101)  # an image size of no multiple of the toy's 8, nor of CycleGAN's 4
READING_COMMANDS = ["translate.sample", "translate.apply", "translate.evaluate", "translate.evaluation.judge",
                    "translate.export", "translate.pack"]


def install_plugin(root: Path) -> Path:
    """The toy package and a distribution's metadata naming it under ``translate.families``,
    in ``root`` (to put on sys.path): what ``pip install`` of a family's package leaves."""
    shutil.copytree(TOY_SOURCE, root / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    info = root / f"{PACKAGE}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[translate.families]\ntoy = {PACKAGE}\n")
    return root


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy family installed for this module's tests (and forgotten after them)."""
    root = install_plugin(tmp_path_factory.mktemp("plugins"))
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        all_families.cache_clear()
        yield get_family("toy")
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
    all_families.cache_clear()


@pytest.fixture(scope="module")
def data(tmp_path_factory, toy, data_root) -> Path:
    """A few real horses and zebras, and a horse of an odd size among the test images."""
    root = horse2zebra(tmp_path_factory.mktemp("data"))
    test_a = root / "horse2zebra" / "testA"
    horse = read_image(sorted(test_a.iterdir())[0])
    cv2_write(test_a / "odd.png", horse[: ODD[0], : ODD[1]])
    return root


def cv2_write(path: Path, rgb: np.ndarray) -> None:
    import cv2

    cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))


def toy_argv(data: Path, out: Path, *extra: str) -> list[str]:
    return ["toy", "--domains", "horse", "zebra", "--data", str(data), "--out", str(out), "--workers", "0",
            "--log-every", "1", *extra]


def test_the_toy_is_found_beside_the_shipped_families(toy):
    assert all_families()["toy"] is toy and toy.task == "translate" and toy.size_multiple == 8
    families = Path(__file__).parents[1] / "translate" / "families"
    in_tree = {path.parent.name for path in families.glob("*/__init__.py")}
    assert {type(f).__module__.split(".")[2] for f in all_families().values() if f is not toy} == in_tree


def test_resume_restores_what_the_first_batch_built_exactly(toy, data, tmp_path):
    """4 steps straight, and 2 then 2 more on --resume: the same weights and optimiser states,
    the head that ``prepare`` built from the first batch and its optimiser included."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(*toy_argv(data, straight, "--max-steps", "4"))
    train(*toy_argv(data, split, "--max-steps", "2"))
    train(*toy_argv(data, split, "--resume", "--max-steps", "4"))
    assert {name.split(".")[0] for name in weights(straight)} == {"generator_AtoB", "head"}
    assert set(optimizer_states(straight)) == {"generator", "head"}
    assert_same_state(straight, split)


def test_a_family_s_presets_give_it_preset_under_the_flags_given(toy, data, tmp_path):
    """``presets`` alone gives the toy --preset: no shared module names it."""
    run_dir = tmp_path / "wide"
    train(*toy_argv(data, run_dir, "--preset", "wide", "--max-steps", "1"))
    config = json.loads((run_dir / "checkpoints" / "step-00000001" / "config.json").read_text())
    assert (config["model"]["width"], config["train"]["lr"]) == (8, 5e-4) == tuple(toy.presets["wide"].values())
    train(*toy_argv(data, tmp_path / "narrow", "--preset", "wide", "--width", "6", "--max-steps", "1"))
    config = json.loads((tmp_path / "narrow" / "checkpoints" / "step-00000001" / "config.json").read_text())
    assert (config["model"]["width"], config["train"]["lr"]) == (6, 5e-4)  # the flag given, over the preset


@pytest.mark.slow
def test_every_command_takes_the_new_family(toy, data, data_root, tmp_path, capsys):
    run, model = tmp_path / "run", tmp_path / "model"
    weights = str(data_root / "fid" / "inception-2015-12-05-fid.pt")
    train(*toy_argv(data, run, "--max-steps", "2", "--eval-every", "1", "--fid-weights", weights))
    best = json.loads((run / "best" / "evaluation.json").read_text())
    assert "horse_to_zebra" in best["scores"] and "multiple of 8" in best["scores"]["protocol"]["pairs"]
    assert json.loads((run / "best" / "config.json").read_text())["family"] == "toy"
    train(*toy_argv(data, run, "--resume", "--max-steps", "4", "--fid-weights", weights))

    run_cli(sample_main, [str(run), "--data", str(data), "--n", "2", "--out", str(tmp_path / "grid.png")])
    assert read_image(tmp_path / "grid.png").shape[1] == 2 * 256 + 3 * 2  # one way: A and G(A) per row
    run_cli(pack_main, [str(run), "--out", str(model)])
    assert {name.split(".")[0] for name in load_file(model / WEIGHTS)} == {"generator_AtoB"}

    onnx = tmp_path / "toy.onnx"
    run_cli(export_main, [str(model), "--out", str(onnx)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [1, 3, 80, 104] in report["checked_shapes"]  # the odd check input, padded to a multiple of 8
    translator = Translator(onnx)
    assert (translator.info.pad_multiple, translator.info.min_size, translator.info.family) == (8, 8, "toy")
    odd = read_image(data / "horse2zebra" / "testA" / "odd.png")
    assert translator.translate(odd).shape == odd.shape

    run_cli(apply_main, [str(model), "--input", str(data / "horse2zebra" / "testA" / "odd.png"),
                         "--output", str(tmp_path / "applied")])
    applied = read_image(tmp_path / "applied" / "odd.png")
    assert applied.shape == odd.shape
    assert np.abs(applied.astype(int) - translator.translate(odd).astype(int)).max() <= 1

    capsys.readouterr()
    run_cli(evaluate_main, [str(model), "--data", str(data), "--fid-weights", weights, "--cache-dir",
                            str(tmp_path / "cache")])
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) >= {"horse_to_zebra", "protocol"} and "zebra_to_horse" not in scores
    assert scores["horse_to_zebra"]["translated"] == "3 horse test images"  # the odd one among them


def test_reading_a_model_does_not_import_the_training_code():
    code = "".join(f"import {module}\n" for module in READING_COMMANDS) + (
        "from translate.families import all_families\nall_families()\nimport sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('translate.training')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parents[1], check=True)
    assert result.stdout.strip() == "[]"
