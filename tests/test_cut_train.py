"""Short real CUT and FastCUT runs on horse2zebra files: exact resume (the projection MLPs
built from the first batch and their optimiser state included), the collapse monitors in
metrics.jsonl and the log, one-way checkpoints, and every command on a trained model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.evaluate import main as evaluate_main
from translate.export import main as export_main
from translate.families.cut import monitors
from translate.io.images import read_image
from translate.modeling.checkpoint import WEIGHTS, read_checkpoint
from translate.pack import main as pack_main
from translate.runtime import Translator
from translate.sample import main as sample_main
from translate.train import main as train_main

from .cli_errors import one_line_error
from .cyclegan_data import TINY, horse2zebra, horse_zebra_argv
from .exporting import trained_run
from .test_new_family import cv2_write
from .training_runs import assert_same_state, cpu_preset_run, optimizer_states, recorded, train, weights

MODULES = {"generator_AtoB", "discriminator_B", "projection"}


@pytest.fixture
def data(tmp_path) -> Path:
    return horse2zebra(tmp_path / "data")  # 4 horses, 4 zebras: 4 steps an epoch


def cut_argv(data: Path, out: Path, *options: str, domains: tuple[str, str] = ("horse", "zebra")) -> list[str]:
    return ["cut", "--domains", *domains, "--data", str(data), "--out", str(out), *TINY, *options]


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "precision"), [("cut", "fp32"), ("fastcut", "bf16")])
def test_resume_mid_epoch_matches_a_straight_run_bit_for_bit(tmp_path, data, mode, precision):
    # 6 steps: the learning rates decay after epoch 1, the average takes steps 6 (epoch 2 on,
    # every 2 steps), the monitors run every 2 steps; the split run stops at step 3.
    common = ["--mode", mode, "--precision", precision, "--epochs", "1", "--epochs-decay", "1",
              "--average-from-epoch", "2", "--average-every", "2", "--monitor-every", "2"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(*cut_argv(data, straight, *common, "--max-steps", "6"))
    train(*cut_argv(data, split, *common, "--max-steps", "3"))
    train(*cut_argv(data, split, *common, "--max-steps", "6", "--resume"))
    assert {name.split(".")[0] for name in weights(straight)} == {*MODULES, "generator_AtoB_average"}
    assert set(optimizer_states(straight)) == {"generator", "discriminator"}
    projection_params = sum(1 for name in weights(straight) if name.startswith("projection."))
    generator_params = sum(1 for name in weights(straight) if name.startswith("generator_AtoB."))
    assert len(optimizer_states(straight)["generator"]["state"]) == generator_params + projection_params
    assert_same_state(straight, split)

    first_epoch = recorded(straight)[0]
    assert first_epoch["epoch_complete"] and {"identity_distance", "output_spread", "nce", "g_B", "d_B"} <= set(
        first_epoch)
    assert ("nce_identity" in first_epoch) == (mode == "cut")
    hyper = read_checkpoint(straight).train["hyper"]
    assert (hyper["lambda_nce"], hyper["nce_identity"], hyper["flip_equivariance"]) == (
        (1.0, True, False) if mode == "cut" else (10.0, False, True))
    assert hyper["nce_layers"] == ["input", "down1", "down2", "block1", "block2"]  # TINY's 2 blocks: the last


@pytest.mark.slow
def test_an_antialiased_zebra_to_horse_model_says_so_exports_and_warns_of_a_collapse(tmp_path, data, capsys,
                                                                                     monkeypatch):
    monkeypatch.setattr(monitors, "WARM_UP_STEPS", 0)
    monkeypatch.setattr(monitors, "IDENTITY_THRESHOLD", 10.0)  # any generator "copies" by this measure
    run = tmp_path / "run"
    train(*cut_argv(data, run, "--max-steps", "2", "--monitor-every", "1", "--nce-lambda", "3", "--antialias",
                    domains=("zebra", "horse")))
    err = capsys.readouterr().err
    assert "warning: step 1: the generator nearly copies its input" in err and "identity collapse" in err
    checkpoint = read_checkpoint(run)
    assert checkpoint.family == "cut" and (checkpoint.model["domain_a"], checkpoint.model["domain_b"]) == (
        "zebra", "horse")
    assert checkpoint.model["antialias"] and "generator_AtoB.down.0.1.kernel" not in weights(run)  # no filters
    assert checkpoint.train["hyper"]["lambda_nce"] == 3.0
    onnx = tmp_path / "zebra2horse.onnx"
    run_cli(export_main, [str(run), "--out", str(onnx)])  # checked against PyTorch at three sizes
    info = Translator(onnx).info
    assert (info.family, info.direction, info.source_domain, info.target_domain) == ("cut", "AtoB", "zebra", "horse")
    assert "--mode fastcut differs from the run's cut" in one_line_error(
        capsys, train_main, *cut_argv(data, run, "--resume", "--mode", "fastcut", domains=("zebra", "horse")))
    back = one_line_error(capsys, apply_main, str(run), "--input", str(data), "--output", str(tmp_path / "out"),
                          "--direction", "BtoA")
    assert "is a one-way cut model: it translates zebra -> horse (--direction AtoB) only, so there is no 'BtoA'" in back
    assert "--nce-lambda must be a number of 0 or more" in one_line_error(
        capsys, train_main, *cut_argv(data, tmp_path / "other", "--nce-lambda", "-1"))


@pytest.mark.slow
def test_every_command_takes_a_one_way_cut_model(tmp_path, data, data_root, capsys):
    run, model = tmp_path / "run", tmp_path / "model"
    fid = str(data_root / "fid" / "inception-2015-12-05-fid.pt")
    train(*cut_argv(data, run, "--epochs", "1", "--epochs-decay", "0", "--eval-every", "1", "--fid-weights", fid,
                    "--average-from-epoch", "1", "--average-every", "2"))
    best = json.loads((run / "best" / "evaluation.json").read_text())
    assert set(best["scores"]) == {"horse_to_zebra", "protocol"} and best["generators_averaged"] == 2
    assert {name.split(".")[0] for name in load_file(run / "best" / WEIGHTS)} == {"generator_AtoB"}

    run_cli(sample_main, [str(run), "--data", str(data), "--n", "2", "--out", str(tmp_path / "grid.png")])
    assert read_image(tmp_path / "grid.png").shape[1] == 2 * 256 + 3 * 2  # one way: x and G(x) per row
    run_cli(pack_main, [str(run), "--out", str(model)])
    packed = load_file(model / WEIGHTS)
    assert {name.split(".")[0] for name in packed} == {"generator_AtoB"}
    saved = weights(run)  # the average ships
    assert all((packed[k] == saved[k.replace("generator_AtoB.", "generator_AtoB_average.")]).all() for k in packed)
    assert json.loads((model / "config.json").read_text())["model"]["domain_a"] == "horse"

    onnx = tmp_path / "cut.onnx"
    capsys.readouterr()
    run_cli(export_main, [str(model), "--out", str(onnx)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [1, 3, 76, 104] in report["checked_shapes"]  # the odd check input, padded to a multiple of 4
    translator = Translator(onnx)
    info = translator.info
    assert (info.family, info.direction, info.source_domain, info.target_domain, info.pad_multiple) == (
        "cut", "AtoB", "horse", "zebra", 4)
    horse_file = sorted((data / "horse2zebra" / "testA").iterdir())[0]
    horse = read_image(horse_file)[:75, :101]
    (tmp_path / "odd").mkdir()
    odd_file = tmp_path / "odd" / "odd.png"
    cv2_write(odd_file, horse)
    run_cli(apply_main, [str(model), "--input", str(odd_file), "--output", str(tmp_path / "applied"),
                         "--precision", "fp32"])
    applied = read_image(tmp_path / "applied" / "odd.png")
    assert applied.shape == horse.shape
    assert np.abs(applied.astype(int) - translator.translate(horse).astype(int)).max() <= 1

    capsys.readouterr()
    run_cli(evaluate_main, [str(model), "--data", str(data), "--fid-weights", fid, "--cache-dir",
                            str(tmp_path / "cache")])
    scores = json.loads(capsys.readouterr().out)
    assert {"horse_to_zebra", "protocol"} <= set(scores) and "zebra_to_horse" not in scores
    assert scores["horse_to_zebra"]["fid"] > 0
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1  # the zebras' features only


def test_cut_trains_with_the_gradient_penalty(tmp_path):
    run = trained_run(tmp_path, "cut", steps=2, extra=("--loss", "wgan-gp", "--nce-lambda", "2"))
    assert read_checkpoint(run).train["hyper"]["loss"] == "wgan-gp"
    [record] = recorded(run)
    assert record["gp_B"] > 0 and {"d_B", "g_B", "nce", "nce_identity"} <= set(record)
    # cut mode: the adversarial term plus lambda times the mean of PatchNCE and its identity term
    lam = read_checkpoint(run).train["hyper"]["lambda_nce"]
    assert lam == 2.0
    assert record["g_loss"] == pytest.approx(record["g_B"] + lam * (record["nce"] + record["nce_identity"]) / 2,
                                             rel=1e-5)


def test_cut_with_a_single_source_test_image_measures_what_it_can(tmp_path):
    data = horse2zebra(tmp_path / "data", {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1})
    run = tmp_path / "run"
    run_cli(train_main, [*horse_zebra_argv(data, family="cut"), "--out", str(run), "--max-steps", "2",
                         "--monitor-every", "1"])
    [record] = recorded(run)
    assert record["identity_distance"] > 0 and "output_spread" not in record


@pytest.mark.slow
def test_a_compiled_run_trains_and_records_it(tmp_path, data, capsys):
    """The CPU recipe compiles, as the CycleGAN preset does: the projection MLPs are built on the
    first batch, before the step that uses them is compiled."""
    run = tmp_path / "run"
    train(*cut_argv(data, run, "--mode", "fastcut", "--max-steps", "3", "--compile"))
    assert "note: training on the CPU without a preset may take days: --preset cpu (FastCUT" in capsys.readouterr().err
    config = json.loads((read_checkpoint(run).path / "config.json").read_text())
    assert config["train"]["compile"] is True
    losses = [r for r in recorded(run) if "nce" in r]
    assert losses and all(np.isfinite(r["nce"]) for r in losses)
    # fastcut: lambda 10, no identity term
    assert read_checkpoint(run).train["hyper"]["lambda_nce"] == 10.0
    assert all("nce_identity" not in r and r["g_loss"] == pytest.approx(r["g_B"] + 10 * r["nce"], rel=1e-5)
               for r in losses)


@pytest.mark.slow
def test_the_cpu_preset_sets_its_recipe_under_the_flags_given_and_the_run_keeps_it(tmp_path, data, capsys):
    """The recipe issue 31's candidates chose; flags given (TINY's networks and crops, no
    compiling, no scoring) win, and a resume keeps the preset's values."""
    run = tmp_path / "run"
    checkpoint, preset = cpu_preset_run(run, cut_argv(data, run, "--no-compile", "--eval-every", "0"),
                                        ["cut", "--out", str(run), "--data", str(data)], capsys)
    settings, hyper = checkpoint.train, checkpoint.train["hyper"]
    assert (hyper["mode"], hyper["lambda_nce"], hyper["nce_identity"], hyper["flip_equivariance"]) == (
        preset["mode"], preset["nce_lambda"], False, True)
    assert (hyper["epochs"], hyper["epochs_decay"], hyper["average_from_epoch"]) != (150, 50, 0)  # not the mode's
    assert (settings["compile"], settings["eval_every"]) == (False, 0)  # the flags over the preset
    assert settings["eval_every_averaged"] == preset["eval_every_averaged"] == 1
    assert (checkpoint.model["ngf"], checkpoint.model["image_size"], settings["load_size"]) == (8, 32, 36)
