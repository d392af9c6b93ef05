"""The argparse types the command lines share: a wrong value is one line naming the option and
what it takes, never argparse's "invalid <function name> value"."""

import pytest

from tests.cli_errors import argparse_error
from translate.train import build_parser
from translate.train import main as train_main


@pytest.mark.parametrize(("flags", "message"), [
    (["--workers", "abc"], "argument --workers: must be a whole number of 0 or more, got abc"),
    (["--workers", "-1"], "argument --workers: must be a whole number of 0 or more, got -1"),
    (["--workers", "1.5"], "argument --workers: must be a whole number of 0 or more, got 1.5"),
    (["--max-hours", "0"], "argument --max-hours: must be a number of hours above 0, got 0"),
    (["--max-hours", "inf"], "argument --max-hours: must be a number of hours above 0, got inf"),
    (["--max-cpu-hours", "two"], "argument --max-cpu-hours: must be a number of hours above 0, got two"),
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
    (["--save-every-steps", "ten"], "argument --save-every-steps: must be a positive integer, got ten"),
])
def test_a_bad_value_names_the_option_and_what_it_takes(tmp_path, capsys, flags, message):
    error = argparse_error(capsys, train_main, "dcgan", "--out", str(tmp_path / "run"), *flags)
    assert error == f"python -m translate.train dcgan: error: {message}"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("flags", "expected"), [
    (["--workers", "0"], {"workers": 0}),
    (["--max-hours", "0.5", "--max-cpu-hours", "12"], {"max_hours": 0.5, "max_cpu_hours": 12.0}),
])
def test_good_values_reach_the_run_options(tmp_path, flags, expected):
    args = build_parser().parse_args(["dcgan", "--out", str(tmp_path / "run"), *flags])
    assert {key: getattr(args, key) for key in expected} == expected
