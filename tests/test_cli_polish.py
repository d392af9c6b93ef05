"""What a new user meets on the command line: help texts, the progress bar, the final line,
domain names that do not match, and readable digit grids."""

import io
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from tqdm import tqdm

from translate.cli import run_cli
from translate.datasets.domains import find_domains
from translate.errors import DataError
from translate.io.images import read_image
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training import progress as progress_module
from translate.training.progress import LogLines, Throughput, restart_clock

from .cli_errors import one_line_error
from .cyclegan_data import TINY as CYCLEGAN_TINY
from .cyclegan_data import horse2zebra, horse_zebra_argv
from .exporting import TINY, trained_run

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [["train"], ["train", "dcgan"], ["train", "cdcgan"], ["train", "cyclegan"], ["train", "pix2pix"],
            ["sample"], ["apply"], ["export"], ["evaluate"], ["classifier"], ["pairs"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.slow
def test_help_is_plain_text(command):
    result = subprocess.run([sys.executable, "-m", f"translate.{command[0]}", *command[1:], "--help"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and "usage: python -m translate." in result.stdout
    assert "``" not in result.stdout and ":mod:" not in result.stdout and ":func:" not in result.stdout


def test_speed_shows_a_readable_number_on_a_slow_cpu(monkeypatch):
    now = [100.0]  # a clock the test moves
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    speed = Throughput()
    assert speed.add(1) and speed.postfix() == {}  # the first step only starts the clock
    now[0] += 4.0  # four seconds for the next three images
    speed.add(3)
    assert speed.postfix() == {"s/img": "1.33"}
    now[0] += 100.0  # then 400 more in 100 s: 403 images in 104 s
    speed.add(400)
    assert speed.postfix() == {"img/s": "3.9"}


def test_the_time_left_does_not_count_start_up_as_a_step():
    shown = io.StringIO()
    with tqdm(total=1000, initial=500, disable=False, file=shown, mininterval=0) as bar:
        time.sleep(0.5)  # start-up: workers, compiling, caches
        bar.update(1)
        started_up = bar._time()
        restart_clock(bar)
        for _ in range(20):
            bar.update(1)
        stats = bar.format_dict
    assert stats["n"] == 521 and stats["initial"] == 501
    assert bar.start_t >= started_up  # the start-up is not part of the rate the ETA divides by
    assert not re.search(r"-\d", shown.getvalue())  # no negative rate or ETA drawn (a resumed run drew them)


def test_into_a_log_file_progress_is_a_line_a_minute_with_the_time_left(monkeypatch, capsys):
    now = [0.0]
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    with LogLines(total=100, initial=10, desc="epoch 2/5") as bar:
        now[0] += 90.0  # the first step of a start: loaders, compiling; no time left from it
        bar.update(1)
        bar.set_postfix({"g_loss": "2.000"}, refresh=False)
        restart_clock(bar)
        for step in range(10):  # then 6 s a step, each step's figures set after its update, as the trainer does
            now[0] += 6.0
            bar.update(1)
            bar.set_postfix({"g_loss": f"{1 + step / 10:.3f}", "img/s": "0.2"}, refresh=False)
    assert capsys.readouterr().err.splitlines() == [
        "epoch 2/5: 10/100 steps (10%)",
        "epoch 2/5: 11/100 steps (11%), g_loss 2.000",
        "epoch 2/5: 21/100 steps (21%), 0:07:54 left, g_loss 1.900, img/s 0.2",  # 60 s on: 79 steps at 6 s
    ]


def test_a_run_into_a_log_says_where_it_is_and_sums_up_each_epoch_without_redraws(tmp_path, capsys):
    run = tmp_path / "run"
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "3"])
    err = capsys.readouterr().err
    assert "\r" not in err
    assert f"dcgan run in {run}: starting; records in metrics.jsonl, samples/ and tensorboard/ there" in err
    assert "epoch 1/25: 0/3750 steps (0%)\n" in err
    assert re.search(r"epoch 1/25: stopped at step 3 \(means of steps 1-3: d_loss [\d.]+, g_loss [\d.]+.*\), "
                     r"[\d.]+ (img/s|s/img), [\d.]+ training hours, [\d.]+ CPU-hours\n", err), err
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", "5"])
    assert (f"dcgan run in {run}: resuming from {run / 'checkpoints' / 'step-00000003'} (step 3, in epoch 1/25)"
            in capsys.readouterr().err)


def test_the_final_line_numbers_epochs_as_the_progress_bar_does(tmp_path, capsys):
    run = tmp_path / "run"
    # MNIST at batch 16: 3750 steps an epoch; stop in the middle of the first.
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "3"])
    captured = capsys.readouterr()
    assert "epoch 1/25" in captured.err
    assert "trained dcgan to step 3, in epoch 1/25" in captured.out


@pytest.mark.slow
def test_a_finished_epoch_is_reported_as_complete(tmp_path, capsys):
    data = horse2zebra(tmp_path / "data")  # 4 horses and 4 zebras: 4 steps an epoch
    run_cli(train_main, ["cyclegan", "--domains", "horse", "zebra", "--data", str(data), *CYCLEGAN_TINY,
                         "--out", str(tmp_path / "run"), "--epochs", "1", "--epochs-decay", "1"])
    assert "to step 8, epoch 2/2 complete" in capsys.readouterr().out


def test_swapped_domain_names_find_the_dataset_with_a_note(tmp_path, capsys):
    data = horse2zebra(tmp_path / "data")
    folders = find_domains(data, "zebra", "horse")
    assert folders.train_a == data / "horse2zebra" / "trainB" and folders.test_b == data / "horse2zebra" / "testA"
    assert "its B side (zebra) is domain A here" in folders.note
    run_cli(train_main, ["cyclegan", "--domains", "zebra", "horse", "--data", str(data), *CYCLEGAN_TINY,
                         "--out", str(tmp_path / "run"), "--max-steps", "1"])
    assert "note: found" in capsys.readouterr().err


def test_data_may_name_the_dataset_folder_itself(tmp_path):
    data = horse2zebra(tmp_path / "data")
    folders = find_domains(data / "horse2zebra", "horse", "zebra")
    assert folders.train_a == data / "horse2zebra" / "trainA" and folders.note == ""


def test_wrong_domain_names_list_what_the_folder_holds_and_suggest_the_nearest(tmp_path):
    data = horse2zebra(tmp_path / "data")
    with pytest.raises(DataError, match=r"holds horse2zebra \(did you mean --domains horse zebra\?\)"):
        find_domains(data, "horses", "zebra", training=True)
    with pytest.raises(DataError, match="or add --download to fetch it"):
        find_domains(tmp_path, "apple", "orange", training=True)


def test_commands_that_only_read_data_name_no_training_flags(tmp_path, capsys):
    """sample and evaluate take the domains from the model and have no --download."""
    with pytest.raises(DataError, match=r"holds horse2zebra$"):
        find_domains(horse2zebra(tmp_path / "listed"), "horses", "zebra")
    run = trained_run(tmp_path, "cyclegan", steps=1)
    (tmp_path / "empty").mkdir()
    error = one_line_error(capsys, sample_main, str(run), "--data", str(tmp_path / "empty"),
                           "--out", str(tmp_path / "grid.png"))
    assert error.endswith(f"; or fetch it with python -m translate.data fetch horse2zebra --data {tmp_path / 'empty'}")
    assert "--download" not in error and not (tmp_path / "grid.png").exists()
    (tmp_path / "data.zip").write_bytes(b"PK")
    error = one_line_error(capsys, sample_main, str(run), "--data", str(tmp_path / "data.zip"),
                           "--out", str(tmp_path / "grid.png"))
    assert f"the data folder {tmp_path / 'data.zip'} is a file, not a folder: pass --data DIR" in error


def test_a_data_folder_that_does_not_exist_is_named(tmp_path, capsys):
    error = one_line_error(capsys, train_main, "cyclegan", "--domains", "horse", "zebra", "--data",
                           str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"), *CYCLEGAN_TINY)
    assert f"the data folder {tmp_path / 'nowhere'} does not exist" in error


def test_sample_scale_makes_digits_readable(tmp_path):
    run = trained_run(tmp_path, "cdcgan", steps=1)
    run_cli(sample_main, [str(run), "--n", "10", "--out", str(tmp_path / "small.png")])
    run_cli(sample_main, [str(run), "--n", "10", "--scale", "3", "--out", str(tmp_path / "large.png")])
    small, large = read_image(tmp_path / "small.png"), read_image(tmp_path / "large.png")
    assert large.shape == (small.shape[0] * 3, small.shape[1] * 3, 3)
    assert (large[::3, ::3] == small).all()  # sharp pixels: each one repeated, nothing blurred


@pytest.mark.parametrize(("argv", "message"), [(["--scale", "0"], "--scale must lie in 1..16"),
                                               (["--nrow", "-3"], "--nrow must be at least 1")])
def test_sample_refuses_bad_layouts(tmp_path, capsys, argv, message):
    run = trained_run(tmp_path, "cdcgan", steps=1)
    assert message in one_line_error(capsys, sample_main, str(run), *argv, "--out", str(tmp_path / "x.png"))


def test_resuming_a_run_at_its_limit_says_nothing_was_trained(tmp_path, capsys):
    run = trained_run(tmp_path, "cdcgan", steps=1)
    capsys.readouterr()
    run_cli(train_main, ["cdcgan", "--out", str(run), "--resume", "--max-steps", "1"])
    captured = capsys.readouterr()
    assert ("note: nothing to train at step 1: --max-steps 1 is reached (a higher one continues it)"
            in captured.err)
    assert "trained cdcgan to step 1" in captured.out


def test_resume_mistakes_name_the_fix(tmp_path, capsys):
    run = trained_run(tmp_path, "cdcgan", steps=1)
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume")
    assert error.endswith("is a cdcgan checkpoint, but a dcgan one is needed: name cdcgan as the family (or, for a "
                          "new run, choose another --out)")
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(tmp_path / "nowhere"), "--resume")
    assert error.endswith("does not exist: check --out, or leave out --resume to start a new run")
    photos = tmp_path / "photos"  # a user's folder, not a run: left as it was
    photos.mkdir()
    (photos / "horse.jpg").write_bytes(b"a photo")
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(photos), "--resume")
    assert error.endswith(f"{photos} holds no checkpoints/: check --out, or leave out --resume to start a new run")
    assert [p.name for p in photos.iterdir()] == ["horse.jpg"]


def test_a_run_inside_the_folders_it_trains_on_is_refused_and_leaves_nothing_there(tmp_path, capsys):
    data = horse2zebra(tmp_path / "data")
    horses = data / "horse2zebra" / "trainA"
    before = sorted(p.name for p in horses.iterdir())
    out = horses / "run"
    error = one_line_error(capsys, train_main, *horse_zebra_argv(data), "--out", str(out), "--max-steps", "1")
    assert error == (f"error: --out {out} lies inside {horses}, which this run reads its images from (its sample "
                     "grids would become training data): choose an --out outside it, e.g. runs/NAME")
    assert sorted(p.name for p in horses.iterdir()) == before


def test_a_grid_of_more_rows_than_test_images_names_the_most(tmp_path, capsys):
    run = trained_run(tmp_path, "cyclegan", steps=1)  # 2 test images a domain
    error = one_line_error(capsys, sample_main, str(run), "--n", "5", "--data", str(tmp_path / "data"), "--out",
                           str(tmp_path / "grid.png"))
    assert error.endswith("--n 5 asks for more rows than the 2 images of "
                          f"{tmp_path / 'data' / 'horse2zebra' / 'testA'}: pass --n 2 or fewer")
