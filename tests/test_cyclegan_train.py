"""Short real CycleGAN runs on horse2zebra files: records, checkpoint contents, exact resume,
and the command line's errors."""

import json

import pytest
import torch
from safetensors.torch import load_file

from tests.cli_errors import one_line_error
from tests.cyclegan_data import TINY, horse2zebra, horse_zebra_argv
from tests.training_runs import cpu_preset_run, optimizer_states, train, weights
from translate.cli import run_cli
from translate.families import load_generator
from translate.modeling.checkpoint import read_checkpoint
from translate.pack import main as pack_main
from translate.train import main as train_main

from .training_runs import recorded


@pytest.fixture
def data(tmp_path):
    return horse2zebra(tmp_path / "data")


@pytest.mark.slow
def test_a_short_run_writes_grids_metrics_tensorboard_and_a_full_checkpoint(tmp_path, data, capsys):
    run = tmp_path / "run"
    # 4 horses and 4 zebras: 4 steps an epoch; one epoch and two steps more.
    train(*horse_zebra_argv(data, "--out", str(run), "--max-steps", "6", "--epochs", "1", "--epochs-decay", "1"))
    assert "note: training on the CPU without a preset may take days: --preset cpu" in capsys.readouterr().err
    records = recorded(run)
    assert [(r["epoch"], r["step"], r["epoch_complete"]) for r in records] == [(1, 4, True), (1, 6, False)]
    for key in ("g_loss", "g_A", "g_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "d_A", "d_B"):
        assert torch.isfinite(torch.tensor(records[0][key])), key
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch-001.png", "step-00000006.png"]
    assert any((run / "tensorboard").iterdir())

    checkpoint = read_checkpoint(run)
    assert checkpoint.path.name == "step-00000006" and checkpoint.family == "cyclegan"
    assert checkpoint.model["domain_a"] == "horse" and checkpoint.model["image_size"] == 32
    assert {k.split(".")[0] for k in weights(run)} == {
        "generator_AtoB",
        "generator_BtoA",
        "discriminator_A",
        "discriminator_B",
    }
    state = checkpoint.training_state()  # torch.load(weights_only=True)
    assert (state["step"], state["epoch"]) == (6, 1)
    assert set(state["optimizers"]) == {"generators", "discriminators"}
    assert state["recipe"]["schedulers"]["generators"]["last_epoch"] == 1
    assert state["optimizers"]["generators"]["param_groups"][0]["lr"] == pytest.approx(1e-4)  # decaying
    pool = state["recipe"]["pools"]["B"]
    assert pool["images"].shape == (1, 50, 3, 32, 32) and pool["count"].tolist() == [6]
    generator, config = load_generator(run, "BtoA")
    assert config.domain_b == "zebra" and generator(torch.zeros(1, 3, 36, 40)).shape == (1, 3, 36, 40)


@pytest.mark.slow
def test_resume_mid_epoch_matches_a_straight_run_bit_for_bit(tmp_path, data):
    # Stop at step 3 of epoch 1 and resume to step 10 (into epoch 3, with the learning rate
    # decaying after epochs 1 and 2, and the generators averaged at steps 6, 8 and 10); the
    # straight run loads with 2 worker processes.
    common = horse_zebra_argv(data, "--epochs", "1", "--epochs-decay", "2", "--pool-size", "3",
                              "--average-from-epoch", "2", "--average-every", "2")
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(*common, "--out", str(straight), "--max-steps", "10", "--workers", "2")
    train(*common, "--out", str(resumed), "--max-steps", "3")
    train(*common, "--out", str(resumed), "--max-steps", "10", "--resume")
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys() and "generator_AtoB_average.stem.0.weight" in a
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the straight run"
    sa, sb = (read_checkpoint(r).training_state()["recipe"] for r in (straight, resumed))
    assert torch.equal(sa["pools"]["A"]["images"], sb["pools"]["A"]["images"])
    assert sa["average_count"] == sb["average_count"] == 3


def test_a_longer_schedule_on_resume_trains_at_its_rate_from_the_first_step(tmp_path, data):
    """A finished 1 + 1 epoch run ends at rate 0; resumed with --epochs-decay 3, its third
    epoch trains at half the rate (1 - 2/4), not at the 0 the optimiser saved."""
    run = tmp_path / "run"
    common = horse_zebra_argv(data, "--epochs", "1", "--out", str(run))
    train(*common, "--epochs-decay", "1")  # 2 epochs of 4 steps
    rates = {name: state["param_groups"][0]["lr"] for name, state in optimizer_states(run).items()}
    assert set(rates.values()) == {0.0}
    train(*common, "--epochs-decay", "3", "--max-steps", "9", "--resume")
    assert read_checkpoint(run).training_state()["step"] == 9
    rates = {name: state["param_groups"][0]["lr"] for name, state in optimizer_states(run).items()}
    assert rates and all(rate == pytest.approx(1e-4) for rate in rates.values()), rates


def test_a_resume_on_data_of_another_size_is_refused(tmp_path, data, capsys):
    run = tmp_path / "run"
    train(*horse_zebra_argv(data, "--out", str(run), "--max-steps", "2"))
    train_a = data / "horse2zebra" / "trainA"
    for i, photo in enumerate(sorted(train_a.iterdir())):  # twice the horses: twice the steps an epoch
        (train_a / f"copy{i}{photo.suffix}").write_bytes(photo.read_bytes())
    error = one_line_error(capsys, train_main, *horse_zebra_argv(data, "--out", str(run), "--max-steps", "4",
                                                                  "--resume"))
    assert error.endswith("trained 4 steps an epoch, and its data now gives 8: its place in the epoch would be "
                          "wrong; resume it on the data it trained on (check --data), or start a new run")


@pytest.mark.slow
def test_an_averaged_run_ships_scores_and_packs_its_average(tmp_path, data):
    run, model = tmp_path / "run", tmp_path / "model"
    # 4 steps an epoch: epoch 1 stays out of the average, which takes steps 6 and 8 of epoch 2.
    train(*horse_zebra_argv(data, "--out", str(run), "--epochs", "1", "--epochs-decay", "1",
                            "--average-from-epoch", "2", "--average-every", "2", "--save-every-steps", "2"))
    saved = weights(run)
    assert read_checkpoint(run).training_state()["recipe"]["average_count"] == 2
    for direction, name in (("AtoB", "generator_AtoB"), ("BtoA", "generator_BtoA")):
        generator, _ = load_generator(run, direction)
        for key, value in generator.state_dict().items():
            assert torch.equal(value, saved[f"{name}_average.{key}"]), key
        assert any(not torch.equal(saved[f"{name}_average.{k}"], saved[f"{name}.{k}"])
                   for k in generator.state_dict())  # the average is not the last weights
    run_cli(pack_main, [str(run), "--out", str(model)])
    packed = load_file(model / "model.safetensors")
    assert {k.split(".")[0] for k in packed} == {"generator_AtoB", "generator_BtoA"}
    assert all(torch.equal(packed[k], saved[k.replace("generator_AtoB.", "generator_AtoB_average.")])
               for k in packed if k.startswith("generator_AtoB."))


def _error(capsys, *argv: str) -> str:
    return one_line_error(capsys, train_main, *argv)


def test_bad_input_gets_one_line_errors(tmp_path, capsys, data):
    out = str(tmp_path / "run")
    base = ["cyclegan", "--out", out, "--data", str(data), *TINY]
    assert "name the two domains: --domains A B" in _error(capsys, *base)
    assert "no images for domains 'apple' and 'orange'" in _error(capsys, *base, "--domains", "apple", "orange")
    assert "--crop-size 64 is larger than" in _error(capsys, *base, "--domains", "horse", "zebra", "--crop-size", "64")
    for file in (data / "horse2zebra" / "trainB").iterdir():
        file.write_bytes(b"corrupt")
    assert "none of the 4 image files in" in _error(capsys, *base, "--domains", "horse", "zebra")
    assert "unknown loss 'wgan'" in _error(capsys, *base, "--domains", "horse", "zebra", "--loss", "wgan")
    compiled = _error(capsys, *base, "--domains", "horse", "zebra", "--loss", "wgan-gp", "--compile")
    assert "--loss wgan-gp cannot train compiled" in compiled and "add --no-compile" in compiled
    late = _error(capsys, *base, "--domains", "horse", "zebra", "--epochs", "2", "--epochs-decay", "1",
                  "--average-from-epoch", "4")
    assert "--average-from-epoch must be one of the run's epochs, 1..3, or 0 (no average), got 4" in late
    batch_norm = _error(capsys, *base, "--domains", "horse", "zebra", "--norm", "batch", "--average-from-epoch", "1")
    assert ("use --norm instance / instance_affine / layer / none or --average-from-epoch 0, not --norm batch"
            in batch_norm)
    assert "--resume found nothing" in _error(capsys, *base, "--resume")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.slow
def test_eval_every_scores_both_directions_and_keeps_the_best_generators(tmp_path, data, data_root, average):
    run, weights = tmp_path / "run", data_root / "fid" / "inception-2015-12-05-fid.pt"
    # With the average from epoch 2 (4 steps an epoch, every 2nd step) scored every epoch,
    # epochs 2, 3 and 4 score the mean of 2, 4 and 6 weights.
    averaging = ("--average-from-epoch", "2", "--average-every", "2", "--eval-every-averaged", "1") if average else ()
    train(*horse_zebra_argv(data, "--out", str(run), "--epochs", "3", "--epochs-decay", "1", "--eval-every", "3",
                            "--fid-weights", str(weights), *averaging))
    records = recorded(run)
    scored = [r for r in records if "eval" in r]
    # every 3 epochs and after the last; every epoch of the average
    assert [r["epoch"] for r in scored] == ([2, 3, 4] if average else [3, 4])
    for record in scored:
        assert set(record["eval"]) - {"generators_averaged"} == {
            "horse_to_zebra/fid", "horse_to_zebra/kid_mean", "zebra_to_horse/fid", "zebra_to_horse/kid_mean"}
        assert record["eval_seconds"] > 0
    assert [r["eval"].get("generators_averaged") for r in scored] == ([2, 4, 6] if average else [None, None])
    best = json.loads((run / "best" / "evaluation.json").read_text())
    assert best["fid"] == min(r["eval"]["horse_to_zebra/fid"] for r in scored)
    generator, config = load_generator(run / "best", "BtoA")
    assert config.domain_b == "zebra" and not (run / "best" / "state.pt").exists()


def test_a_damaged_best_record_is_refused_when_the_run_starts(tmp_path, data, data_root, capsys):
    run, weights = tmp_path / "run", data_root / "fid" / "inception-2015-12-05-fid.pt"
    train(*horse_zebra_argv(data, "--out", str(run), "--max-steps", "1"))
    record = run / "best" / "evaluation.json"
    record.parent.mkdir()
    resume = horse_zebra_argv(data, "--out", str(run), "--resume", "--max-steps", "4", "--eval-every", "1",
                              "--fid-weights", str(weights))
    for text, found in (('{"fid": "abc", "epoch": 2}', "its fid is 'abc', not a FID"),
                        ('{"fid": NaN, "epoch": 2}', "its fid is nan, not a FID"),
                        ("[1, 2]", "a JSON list where an object belongs"), ("{", "not JSON")):
        record.write_text(text)
        error = one_line_error(capsys, train_main, *resume)
        assert f"{record} is damaged ({found}): remove {run / 'best'} to keep the best generators afresh" in error
        assert read_checkpoint(run).path.name == "step-00000001"  # refused before a step was taken


def test_eval_every_without_the_fid_network_says_how_to_go_on(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setenv("TRANSLATE_FID_WEIGHTS", str(tmp_path / "missing.pt"))
    run = tmp_path / "run"
    error = one_line_error(capsys, train_main, *horse_zebra_argv(data, "--out", str(run), "--eval-every", "1"))
    assert "missing.pt" in error and "--eval-every 0" in error
    train(*horse_zebra_argv(data, "--out", str(run), "--eval-every", "0", "--max-steps", "1"))
    assert read_checkpoint(run).train["eval_every"] == 0


def test_gpu_without_cuda_names_the_cpu_preset_and_its_time(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    error = one_line_error(capsys, train_main, *horse_zebra_argv(data, "--out", str(tmp_path / "run"), "--gpu"))
    assert "no CUDA device" in error and "--preset cpu" in error and "hours" in error
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_cpu_preset_sets_its_recipe_under_the_flags_given_and_the_run_keeps_it(tmp_path, data, capsys):
    run = tmp_path / "run"
    # TINY gives its own networks and crops; --no-compile and --eval-every 0 override two more.
    first = horse_zebra_argv(data, "--out", str(run), "--no-compile", "--eval-every", "0")
    checkpoint, preset = cpu_preset_run(run, first, horse_zebra_argv(data, "--out", str(run)), capsys)
    settings = checkpoint.train
    schedule = (settings["hyper"]["epochs"], settings["hyper"]["epochs_decay"], settings["hyper"]["average_from_epoch"])
    assert schedule != (100, 100, 0)  # the preset's (cpu_preset_run checks), not the reference's
    assert (settings["compile"], settings["eval_every"]) == (False, 0)  # the flags over the preset
    assert settings["eval_every_averaged"] == preset["eval_every_averaged"] == 1
    assert (checkpoint.model["ngf"], checkpoint.model["image_size"], settings["load_size"]) == (8, 32, 36)
