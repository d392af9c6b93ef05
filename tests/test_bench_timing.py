"""The timing every benchmark shares (bench/timing.py): the loops take turns, in an order
that rotates, warm-up calls are not timed, and each loop gets the median of its own calls."""

import importlib.util

import torch

from .conftest import REPO


def _timing():
    spec = importlib.util.spec_from_file_location("timing", REPO / "bench" / "timing.py")
    module = importlib.util.module_from_spec(spec)
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


def test_every_clock_times_the_same_calls():
    timing = _timing()
    wall, cpu = [0.0], [0.0]

    def run(i):
        wall[0] += 2.0
        cpu[0] += 3.0

    medians = timing.alternating_medians_by_clock({"x": run}, 1, 3, torch.device("cpu"),
                                                  {"wall": lambda: wall[0], "cpu": lambda: cpu[0]})
    assert medians == {"wall": {"x": 2.0}, "cpu": {"x": 3.0}}
