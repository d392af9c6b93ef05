"""A run knows how long it has trained, across its resumes (RunClock), and ``--max-hours``
(wall clock) or ``--max-cpu-hours`` (the process's CPU time) stops it at a training-time
budget: the way recipes are compared "for the same CPU time"."""

import pytest
import torch

from translate.train import main as train_main
from translate.training.clock import RunClock

from .cli_errors import one_line_error
from .exporting import TINY
from .training_runs import recorded, train


def state_file(run, step: int):
    return run / "checkpoints" / f"step-{step:08d}" / "state.pt"


def test_the_training_time_is_recorded_and_carried_through_a_resume(tmp_path):
    run = tmp_path / "run"
    train("dcgan", "--out", str(run), "--max-steps", "3", *TINY)
    [first] = recorded(run)
    assert first["train_hours"] > 0 and first["cpu_hours"] > 0 and first["clock_from_step"] == 0
    state = torch.load(state_file(run, 3), weights_only=True)
    # The record is written before the epoch's grid and checkpoint, which the state's count includes.
    assert state["train_seconds"] >= first["train_hours"] * 3600 - 0.01
    train("dcgan", "--out", str(run), "--max-steps", "6", "--resume", *TINY)
    second = recorded(run)[-1]
    resumed = torch.load(state_file(run, 6), weights_only=True)
    assert resumed["train_seconds"] > state["train_seconds"] and resumed["cpu_seconds"] > state["cpu_seconds"]
    assert second["train_hours"] >= first["train_hours"] and second["clock_from_step"] == 0


def test_a_checkpoint_from_before_runs_were_timed_starts_the_count_at_its_step(tmp_path):
    run = tmp_path / "run"
    train("dcgan", "--out", str(run), "--max-steps", "3", *TINY)
    state = torch.load(state_file(run, 3), weights_only=True)
    for key in ("train_seconds", "cpu_seconds", "clock_from_step"):
        del state[key]
    torch.save(state, state_file(run, 3))
    train("dcgan", "--out", str(run), "--max-steps", "5", "--resume", *TINY)
    assert recorded(run)[-1]["clock_from_step"] == 3
    assert torch.load(state_file(run, 5), weights_only=True)["clock_from_step"] == 3


def test_a_damaged_count_is_refused_at_resume(tmp_path, capsys):
    run = tmp_path / "run"
    train("dcgan", "--out", str(run), "--max-steps", "2", *TINY)
    state = torch.load(state_file(run, 2), weights_only=True)
    state["train_seconds"] = float("nan")
    torch.save(state, state_file(run, 2))
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume", "--max-steps", "4", *TINY)
    assert f"{state_file(run, 2)} does not fit this run" in error and "training time of nan s" in error


@pytest.mark.slow
def test_max_hours_stops_the_run_at_its_budget_and_a_resume_keeps_to_it(tmp_path):
    run = tmp_path / "run"
    budget = 2 / 3600  # two seconds: well inside the first epoch of MNIST (3,750 steps of 16)
    train("dcgan", "--out", str(run), "--max-hours", str(budget), "--max-steps", "3000", "--save-every-steps", "1",
          *TINY)
    last = recorded(run)[-1]
    stopped = last["step"]
    assert 0 < stopped < 3000 and not last["epoch_complete"]
    seconds = torch.load(state_file(run, stopped), weights_only=True)["train_seconds"]
    # It stopped at the first step past the budget: a step's checkpoint holds the count its
    # limits were judged on (then wrote its grid and checkpoint).
    before = torch.load(state_file(run, stopped - 1), weights_only=True)["train_seconds"]
    assert before < 2 <= seconds
    assert last["train_hours"] == round(seconds / 3600, 6)  # the metrics record the same count
    assert train_main(["dcgan", "--out", str(run), "--max-hours", str(budget), "--resume", *TINY]).step == stopped
    more = train_main(["dcgan", "--out", str(run), "--max-hours", str(2 * budget), "--max-steps", "3000", "--resume",
                       *TINY])
    assert stopped < more.step < 3000
    assert torch.load(state_file(run, more.step), weights_only=True)["train_seconds"] >= 2 * budget * 3600


@pytest.mark.slow
def test_max_cpu_hours_stops_the_run_at_its_cpu_budget_and_a_resume_keeps_to_it(tmp_path):
    """The budget other work on a shared machine does not shrink: the process's CPU time."""
    run = tmp_path / "run"
    budget = 2 / 3600  # two CPU-seconds
    train("dcgan", "--out", str(run), "--max-cpu-hours", str(budget), "--max-steps", "3000",
          "--save-every-steps", "1", *TINY)
    last = recorded(run)[-1]
    stopped = last["step"]
    assert 0 < stopped < 3000 and not last["epoch_complete"]
    state = torch.load(state_file(run, stopped), weights_only=True)
    # it stopped at the first step past the budget
    assert torch.load(state_file(run, stopped - 1), weights_only=True)["cpu_seconds"] < 2 <= state["cpu_seconds"]
    assert last["cpu_hours"] == round(state["cpu_seconds"] / 3600, 6)
    assert train_main(["dcgan", "--out", str(run), "--max-cpu-hours", str(budget), "--resume", *TINY]).step == stopped


@pytest.mark.parametrize("flag", ["--max-hours", "--max-cpu-hours"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_a_budget_that_is_not_a_positive_number_of_hours_is_refused(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        train_main(["dcgan", "--out", str(tmp_path / "run"), flag, value])
    assert info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.endswith(f"error: argument {flag}: must be a number of hours above 0, got {value}")
    assert not (tmp_path / "run").exists()


def test_the_clock_counts_only_while_it_runs():
    clock = RunClock()
    assert clock.hours() == 0
    clock.start()
    sum(range(200_000))
    assert clock.hours() == 0  # the count moves at a lap, not while a step runs
    clock.lap()
    lapped = clock.hours()
    sum(range(200_000))
    clock.stop()
    assert clock.hours() > lapped > 0
    stopped = clock.hours()
    sum(range(200_000))
    assert stopped > 0 and clock.hours() == stopped
    restored = RunClock()
    restored.load(clock.state(), step=7)
    assert restored.state() == clock.state() and restored.from_step == 0
