"""Short real training runs on MNIST and image folders, exact resume, and the CLI's errors."""

import json
import shlex

import pytest
import torch

from translate.cli import run_cli
from translate.families import load_generator
from translate.families.dcgan.nets import DCGANConfig
from translate.families.dcgan.recipe import GANRecipe
from translate.families.dcgan.settings import GANHyper
from translate.io.run_layout import read_metrics
from translate.pack import main as pack_main
from translate.train import main as train_main
from translate.training.optim import (
    WeightMean,
    averaged_copy,
    estimate_batch_norm,
    load_optimizer_state,
    update_average,
)

from .cli_errors import one_line_error
from .exporting import TINY as GAN_TINY
from .training_runs import recorded, train, weights

TINY = [*GAN_TINY, "--log-every", "1"]


@pytest.mark.parametrize(
    ("family", "loss"),
    [
        ("dcgan", "bce"),
        ("dcgan", "lsgan"),
        ("dcgan", "wgan-gp"),
        ("dcgan", "hinge"),
        ("cdcgan", "bce"),
        ("cdcgan", "wgan-gp"),
    ],
)
def test_short_real_run_writes_samples_metrics_and_checkpoint(tmp_path, family, loss):
    run = tmp_path / "run"
    train(family, "--out", str(run), "--loss", loss, "--max-steps", "3", *TINY)
    [record] = recorded(run)
    assert record["step"] == 3 and not record["epoch_complete"]
    assert all(torch.isfinite(torch.tensor(record[k])) for k in ("d_loss", "g_loss"))
    if loss == "wgan-gp":
        assert record["gp"] >= 0
    [grid] = (run / "samples").glob("*.png")
    assert grid.stat().st_size > 0
    assert (run / "checkpoints" / "step-00000003" / "state.pt").is_file()
    config = json.loads((run / "checkpoints" / "step-00000003" / "config.json").read_text())
    assert config["family"] == family and config["model"]["n_classes"] == (10 if family == "cdcgan" else 0)
    assert config["train"]["hyper"]["loss"] == loss
    assert any((run / "tensorboard").iterdir())


@pytest.mark.parametrize("extra", [[], ["--ema", "0.9"]], ids=["plain", "ema"])
@pytest.mark.slow
def test_resume_mid_epoch_gives_the_same_weights_as_a_straight_run(tmp_path, extra):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train("cdcgan", "--out", str(straight), "--max-steps", "5", *TINY, *extra)
    train("cdcgan", "--out", str(resumed), "--max-steps", "3", *TINY, *extra)
    train("cdcgan", "--out", str(resumed), "--max-steps", "5", "--resume", *TINY)
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert any(k.startswith("generator_ema.") for k in a) == bool(extra)
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the straight run"
    # Each start is on record, with its command as typed, for the model card.
    starts = [r["start"] for r in read_metrics(resumed / "metrics.jsonl") if "start" in r]
    assert [r["step"] for r in read_metrics(resumed / "metrics.jsonl") if "start" in r] == [0, 3]
    assert [(start["from_step"], start["command"]) for start in starts] == [
        (0, shlex.join(["python", "-m", "translate.train", "cdcgan", "--out", str(resumed), "--max-steps", "3",
                        *TINY, *extra])),
        (3, shlex.join(["python", "-m", "translate.train", "cdcgan", "--out", str(resumed), "--max-steps", "5",
                        "--resume", *TINY]))]
    # A start at the weights' own step (here one with nothing to train) added nothing to them: the
    # model card lists the two starts that trained them, each with its command.
    train("cdcgan", "--out", str(resumed), "--max-steps", "5", "--resume", *TINY)
    run_cli(pack_main, [str(resumed), "--out", str(tmp_path / "model")])
    card = (tmp_path / "model" / "README.md").read_text()
    listed = card.split("## Commands run (`metrics.jsonl`)\n\n```bash\n")[1].split("```")[0].splitlines()
    assert [line.split(",")[0] for line in listed[::2]] == ["# from the start", "# resumed at step 3"]
    assert listed[1::2] == [start["command"] for start in starts]


@pytest.mark.slow
def test_resume_across_epochs_on_an_image_folder(tmp_path, digit_folder):
    # 40 images, batch 8: 5 steps an epoch; stop at 7 (mid epoch 2), go on to 12 (mid epoch 3).
    common = [
        "--dataset",
        "folder",
        "--data",
        str(digit_folder),
        "--workers",
        "0",
        "--epochs",
        "3",
        "--image-size",
        "32",
        *TINY,
        "--batch-size",
        "8",
        "--loss",
        "wgan-gp",
        "--n-critic",
        "2",
    ]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train("cdcgan", "--out", str(straight), "--max-steps", "12", *common)
    train("cdcgan", "--out", str(resumed), "--max-steps", "7", *common)
    train("cdcgan", "--out", str(resumed), "--max-steps", "12", "--resume", *common)
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    epochs = [r["epoch"] for r in recorded(straight)]
    assert epochs == [1, 2, 2]  # two full epochs, then the stop at step 12
    assert sorted(p.name for p in (straight / "samples").iterdir()) == [
        "epoch-001.png",
        "epoch-002.png",
        "step-00000012.png",
    ]


@pytest.mark.slow
def test_ema_run_ships_the_weight_average_with_its_own_batch_norm_statistics(tmp_path):
    run = tmp_path / "run"
    train("cdcgan", "--out", str(run), "--max-steps", "4", "--ema", "0.5", *TINY)
    saved = weights(run)
    generator, _ = load_generator(run)
    loaded = generator.state_dict()
    assert all(torch.equal(loaded[k], saved[f"generator_ema.{k}"]) for k in loaded)
    # After four steps at decay 0.5 the average lags the live weights but has moved off the start.
    conv = next(k for k in loaded if k.endswith("weight") and loaded[k].dim() == 4)
    assert not torch.equal(saved[f"generator.{conv}"], loaded[conv])
    # Its batch-norm statistics are its own, estimated for its weights, not the live model's.
    means = [k for k in loaded if k.endswith("running_mean")]
    assert means and not any(torch.equal(saved[f"generator.{k}"], loaded[k]) for k in means)
    recipe = GANRecipe(generator.config, GANHyper(ema=0.5), torch.device("cpu"))
    recipe.generator_ema.load_state_dict(loaded)
    recipe.before_checkpoint()
    assert all(torch.equal(v, loaded[k]) for k, v in recipe.generator_ema.state_dict().items())


def test_update_average_moves_parameters_by_one_minus_decay_and_leaves_buffers():
    model = torch.nn.BatchNorm1d(3)
    average = averaged_copy(model)
    assert not any(p.requires_grad for p in average.parameters())
    with torch.no_grad():
        model.weight.fill_(3.0)  # average's weight is still 1
        model.running_mean.fill_(5.0)
    update_average(average, model, decay=0.75)
    assert torch.allclose(average.weight, torch.full((3,), 1.5))  # 0.75 * 1 + 0.25 * 3
    assert torch.equal(average.running_mean, torch.zeros(3))


def test_a_resumed_optimiser_keeps_the_fused_setting_of_the_device_it_runs_on():
    """A run saved on CUDA (fused Adam) and resumed on the CPU, or the other way, must not take
    the saved setting: fused Adam is what adam() gives CUDA, and slower or unsupported elsewhere."""
    net = torch.nn.Linear(3, 2)
    saved = torch.optim.Adam(net.parameters(), fused=True)
    net(torch.ones(1, 3)).sum().backward()
    saved.step()
    resumed = torch.optim.Adam(net.parameters(), fused=False)
    load_optimizer_state(resumed, saved.state_dict())
    assert resumed.param_groups[0]["fused"] is False
    assert torch.equal(resumed.state[net.weight]["exp_avg"], saved.state[net.weight]["exp_avg"])
    resumed.step()  # the loaded state serves the unfused step
    two_groups = torch.optim.Adam([{"params": [net.weight]}, {"params": [net.bias]}])
    with pytest.raises(ValueError, match="1 parameter groups, this one 2"):
        load_optimizer_state(two_groups, saved.state_dict())


def test_weight_mean_is_the_uniform_mean_of_the_weights_it_was_given():
    net = torch.nn.Linear(3, 2)
    mean = WeightMean({"net": net})
    assert mean.current()["net"] is net  # nothing averaged yet: the network itself ships
    with torch.no_grad():
        net.weight.fill_(7.0)
    mean.fill_if_empty()  # a checkpoint before the first update holds the network's weights
    assert torch.equal(mean.means["net"].weight, net.weight)
    seen = []
    for value in (1.0, 2.0, 6.0):
        with torch.no_grad():
            net.weight.fill_(value)
            net.bias.copy_(torch.tensor([value, -value]))
        seen.append({k: v.clone() for k, v in net.state_dict().items()})
        mean.update()
    mean.fill_if_empty()  # no longer empty: leaves the mean alone
    assert mean.count == 3 and mean.current()["net"] is mean.means["net"]
    for key, value in mean.means["net"].state_dict().items():
        assert torch.allclose(value, torch.stack([s[key] for s in seen]).mean(0)), key
    assert torch.allclose(mean.means["net"].weight, torch.full((2, 3), 3.0))  # (1 + 2 + 6) / 3


def _recording_draw():
    """Inputs for estimate_batch_norm that are also kept, to check what it computed."""
    drawn = []

    def draw(rng):
        drawn.append(torch.randn(8, 4, generator=rng))
        return (drawn[-1],)

    return drawn, draw


def test_estimate_batch_norm_is_the_plain_mean_of_the_batches_statistics():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3, momentum=0.1)).eval()
    batches, draw = _recording_draw()
    estimate_batch_norm(model, draw, 5)
    hidden = [model[0](x).detach() for x in batches]
    assert torch.allclose(model[1].running_mean, torch.stack([h.mean(0) for h in hidden]).mean(0), atol=1e-6)
    assert torch.allclose(model[1].running_var, torch.stack([h.var(0) for h in hidden]).mean(0), atol=1e-6)
    assert model[1].momentum == 0.1 and not model.training  # settings restored, ready to sample
    again, draw = _recording_draw()
    estimate_batch_norm(model, draw, 5)
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))  # the same inputs each time


def _error(capsys, *argv: str) -> str:
    return one_line_error(capsys, train_main, *argv)


def test_bad_input_gets_one_line_errors_and_leaves_no_files(tmp_path, capsys, digit_folder):
    out = tmp_path / "run"
    assert "unknown loss 'wgan'" in _error(capsys, "dcgan", "--out", str(out), "--loss", "wgan", *TINY)
    assert "--ema must be in [0, 1)" in _error(capsys, "dcgan", "--out", str(out), "--ema", "1", *TINY)
    assert "MNIST not found" in _error(capsys, "dcgan", "--out", str(out), "--data", str(tmp_path / "x"), *TINY)
    assert "--resume found nothing" in _error(capsys, "dcgan", "--out", str(out), "--resume", *TINY)
    assert not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no images in" in _error(capsys, "dcgan", "--out", str(out), "--dataset", "folder", "--data", str(empty))
    if not torch.cuda.is_available():
        assert "no CUDA device" in _error(capsys, "dcgan", "--out", str(out), "--gpu")
    train("dcgan", "--out", str(out), "--max-steps", "1", *TINY)
    assert "already holds a run" in _error(capsys, "dcgan", "--out", str(out), *TINY)
    assert "is a dcgan checkpoint, but a cdcgan one" in _error(capsys, "cdcgan", "--out", str(out), "--resume")


def test_torchrun_of_a_digit_family_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    """Each of its processes would think itself rank 0, on the same GPU, writing into one folder."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    out = tmp_path / "run"
    assert "dcgan trains in one process" in _error(capsys, "dcgan", "--out", str(out), *TINY)
    assert not out.exists()


def test_tensorboard_keeps_the_checkpoints_own_step_across_a_resume(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    argv = ["dcgan", "--out", str(run), *TINY]
    train(*argv, "--max-steps", "2")
    train(*argv, "--max-steps", "4", "--resume")
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    steps = [event.step for event in events.Scalars("loss/g_loss")]
    assert steps == [1, 2, 3, 4]  # step 2, logged before its checkpoint, survives the resume's purge
    # Each start's first step has no speed yet (it pays for the start-up), and the stops' partial
    # epochs are not curves of epoch means.
    assert [event.step for event in events.Scalars("speed/images_per_s")] == [2, 4]
    assert not [tag for tag in events.Tags()["scalars"] if tag.startswith("epoch/")]


def test_the_grids_codes_are_not_the_first_steps_noise():
    # Both were drawn from generators seeded with the seed itself: the grid showed the very codes
    # the first step had trained on.
    recipe = GANRecipe(DCGANConfig(), GANHyper(), torch.device("cpu"), seed=12345)
    noise = torch.Generator()
    noise.set_state(recipe.rng.get_state())
    first_step = torch.randn(len(recipe.fixed_z), recipe.config.z_dim, generator=noise)
    assert not torch.isclose(first_step, recipe.fixed_z).all(dim=1).any()
