"""The timing every benchmark shares (bench/timing.py): the loops take turns, in an order
that rotates, warm-up calls are not timed, and each loop gets the median of its own calls
(and their range, for the tables that show it)."""

import importlib.util
import sys

import torch

from .conftest import REPO


def _timing():
    spec = importlib.util.spec_from_file_location("timing", REPO / "bench" / "timing.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as importlib's recipe does: a dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_loops_take_turns_in_a_rotating_order_and_get_the_median_of_their_timed_calls():
    timing = _timing()
    now, calls = [0.0], []
    cost = {"a": [9.0, 9.0, 1.0, 2.0, 30.0], "b": [9.0, 9.0, 5.0, 6.0, 7.0], "c": [9.0, 9.0, 4.0, 4.0, 4.0]}

    def loop(name):
        def run(i):
            calls.append((i, name))
            now[0] += cost[name][i]  # this call's seconds on the fake clock

        return run

    medians = timing.alternating_medians({name: loop(name) for name in cost}, 2, 3, torch.device("cpu"),
                                         clock=lambda: now[0])
    assert medians == {"a": 2.0, "b": 6.0, "c": 4.0}  # the warm-up's 9 s calls left out; 30 s is an outlier
    assert [name for _, name in calls] == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c", "b", "c", "a"]
    assert [i for i, _ in calls] == [i for i in range(5) for _ in range(3)]  # in turns, iteration by iteration
    now[0] = 0.0
    timed = timing.alternating_timings_by_clock({name: loop(name) for name in cost}, 2, 3, torch.device("cpu"),
                                                {"fake": lambda: now[0]})["fake"]
    assert timed["a"] == timing.Timed(2.0, 1.0, 30.0) and timed["a"].range() == "1.000–30.000"
    assert timed["c"] == timing.Timed(4.0, 4.0, 4.0)


def test_every_clock_times_the_same_calls():
    timing = _timing()
    wall, cpu = [0.0], [0.0]

    def run(i):
        wall[0] += 2.0
        cpu[0] += 3.0

    medians = timing.alternating_medians_by_clock({"x": run}, 1, 3, torch.device("cpu"),
                                                  {"wall": lambda: wall[0], "cpu": lambda: cpu[0]})
    assert medians == {"wall": {"x": 2.0}, "cpu": {"x": 3.0}}


def test_the_train_step_table_gives_each_median_its_speed_up_and_under_it_the_range(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))  # as the script runs: its neighbours importable
    spec = importlib.util.spec_from_file_location("train_step", REPO / "bench" / "train_step.py")
    train_step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_step)
    timed = train_step.Timed
    row = {"plain": timed(2.0, 1.9, 2.3), "toolkit bf16": timed(0.5, 0.45, 0.6)}
    lines = train_step._table([(128, row)], "header").splitlines()
    assert lines[2] == "| size | plain loop s/it | toolkit bf16 s/it (speed-up) |"
    assert lines[4:] == ["| 128x128 | 2.000 | 0.500 (4.00x) |", "| (range) | 1.900–2.300 | 0.450–0.600 |"]


def test_family_steps_times_the_deepest_unet_a_size_allows(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("family_steps", REPO / "bench" / "family_steps.py")
    family_steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(family_steps)
    assert [family_steps.deepest(size) for size in (32, 96, 128, 256, 512)] == [5, 5, 7, 8, 8]
