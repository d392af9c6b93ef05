"""NaN and infinite losses: the run stops naming the step and the loss, keeps its last good
checkpoint, or with --skip-nonfinite skips the step without any update from it. NaN enters
honestly: through the data (a batch poisoned in the real data source) or a learning rate
so large that the weights overflow."""

import pytest
import torch
from safetensors.torch import load_file

import translate.families.dcgan.training as dcgan_training
import translate.families.translation_training as translation_training
from translate.cli import run_cli
from translate.families import load_generator
from translate.modeling.checkpoint import read_checkpoint
from translate.train import main as train_main

from .cli_errors import message_lines, one_line_error
from .cyclegan_data import horse2zebra, horse_zebra_argv
from .exporting import TINY
from .training_runs import recorded

# Where each family's training module finds its data source.
SOURCES = {"dcgan": (dcgan_training, "TensorSource"), "cyclegan": (translation_training, "UnpairedSource")}


def poison_batches(monkeypatch, family: str, steps: set[int]) -> None:
    """Make the family's real data source deliver NaN images at the given (1-based) steps."""
    module, name = SOURCES[family]
    original = getattr(module, name)

    class Poisoned(original):
        def batches(self, epoch, start=0):
            for offset, batch in enumerate(super().batches(epoch, start)):
                if epoch * self.steps_per_epoch + start + offset + 1 in steps:
                    batch = (torch.full_like(batch[0], float("nan")), *batch[1:])
                yield batch

    monkeypatch.setattr(module, name, Poisoned)


def argv(family: str, tmp_path) -> list[str]:
    if family == "cyclegan":
        data = horse2zebra(tmp_path / "data", {"trainA": 8, "trainB": 7, "testA": 1, "testB": 1})
        return horse_zebra_argv(data)
    return [family, *TINY]


@pytest.mark.parametrize(("family", "term"), [("dcgan", "d_loss"), ("cyclegan", "g_loss")])
@pytest.mark.slow
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch, family, term):
    run = tmp_path / "run"
    poison_batches(monkeypatch, family, {2})
    message = one_line_error(capsys, train_main, *argv(family, tmp_path), "--out", str(run), "--max-steps", "3",
                             "--save-every-steps", "1")
    good = run / "checkpoints" / "step-00000001"
    assert f"{term} = nan" in message and "at step 2: the run stopped without saving these weights" in message
    assert f"the last good checkpoint is {good}: continue it with: python -m translate.train {family} --out {run} " \
           "--resume" in message
    assert "--max-steps 3 --save-every-steps 1 " in message and " --skip-nonfinite to skip such steps" in message
    assert read_checkpoint(run).path == good and not (run / "checkpoints" / "step-00000002").exists()
    weights = load_file(good / "model.safetensors")
    assert all(torch.isfinite(t).all() for t in weights.values())


@pytest.mark.parametrize("family", ["dcgan", "cyclegan"])
@pytest.mark.slow
def test_skip_nonfinite_skips_the_step_without_any_update_and_counts_it(tmp_path, capsys, monkeypatch, family):
    run = tmp_path / "run"
    poison_batches(monkeypatch, family, {1, 3})
    run_cli(train_main, [*argv(family, tmp_path), "--out", str(run), "--max-steps", "4", "--save-every-steps", "1",
                         "--skip-nonfinite"])
    err = capsys.readouterr().err
    assert "step 1: skipped" in err and "step 3: skipped" in err
    [record] = recorded(run)
    assert record["skipped_steps"] == 2 and "at step 4 (means of steps 1-4: " in err
    assert ", 2 skipped, " in err  # the epoch's line counts them too

    steps = {n: read_checkpoint(run / "checkpoints" / f"step-{n:08d}") for n in (2, 3, 4)}
    weights = {n: load_file(c.path / "model.safetensors") for n, c in steps.items()}
    states = {n: c.training_state() for n, c in steps.items()}
    # Step 3 was skipped: weights, batch-norm statistics and optimiser state are those of step 2.
    assert all(torch.equal(weights[2][k], weights[3][k]) for k in weights[2])
    for name, optimizer in states[2]["optimizers"].items():
        for index, values in optimizer["state"].items():
            later = states[3]["optimizers"][name]["state"][index]
            assert all(torch.equal(values[k], later[k]) for k in values)
    assert (states[2]["skipped_steps"], states[3]["skipped_steps"], states[4]["skipped_steps"]) == (1, 2, 2)
    assert [states[n]["skipped_in_a_row"] for n in (2, 3, 4)] == [0, 1, 0]  # a resume goes on counting
    # Step 4 trained again.
    assert not all(torch.equal(weights[3][k], weights[4][k]) for k in weights[3])
    assert all(torch.isfinite(t).all() for t in weights[4].values())


@pytest.mark.slow
def test_weights_that_overflow_stop_the_run_even_when_skipping(tmp_path, capsys):
    run = tmp_path / "run"
    # At lr 1e30 the first discriminator update is finite but huge, and every loss after it
    # overflows: without --skip-nonfinite the first step already fails...
    message = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--lr", "1e30", *TINY)
    assert "g_loss = nan at step 1" in message and "start again with a lower --lr" in message
    assert not (run / "checkpoints").exists()
    # ...and with it, skipping every step to come would be pointless: it stops after 25.
    with pytest.raises(SystemExit) as info:
        run_cli(train_main, ["dcgan", "--out", str(tmp_path / "skip"), "--lr", "1e30", "--skip-nonfinite", *TINY])
    *skips, message = message_lines(capsys.readouterr().err)
    assert info.value.code == 2 and len(skips) == 25 and all(": skipped, " in line for line in skips)
    assert message == ("error: the last 25 steps up to step 25 were all skipped: the weights have diverged; "
                       "start again with a lower --lr")
    # A stop and a resume in the middle of the streak go on counting it: the run still stops at step 25.
    stopped = tmp_path / "stopped"
    run_cli(train_main, ["dcgan", "--out", str(stopped), "--lr", "1e30", "--skip-nonfinite", "--max-steps", "10",
                         "--save-every-steps", "10", *TINY])
    with pytest.raises(SystemExit):
        run_cli(train_main, ["dcgan", "--out", str(stopped), "--resume", "--skip-nonfinite", "--max-steps", "100"])
    assert message_lines(capsys.readouterr().err)[-1].startswith("error: the last 25 steps up to step 25 were all")


def test_non_finite_weights_are_never_saved(tmp_path, capsys):
    from translate.errors import DivergedError

    trainer = train_main(["dcgan", "--out", str(tmp_path / "run"), "--max-steps", "1", *TINY])
    with torch.no_grad():
        next(trainer.recipe.discriminator.parameters())[0] = float("inf")
    trainer.step += 1
    with pytest.raises(DivergedError, match="the weights of discriminator are not finite at step 2: nothing was saved"):
        trainer.save()
    assert read_checkpoint(tmp_path / "run").path.name == "step-00000001"
    load_generator(tmp_path / "run")
