"""A run folder is one run's: a second process on it gets a clear error, a killed process
does not block the next, a folder of other files is not taken over, the temporaries of
other tools are left alone, and checkpoints/latest cannot point outside the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from translate.cli import run_cli
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training.checkpoint import read_checkpoint
from translate.training.run_folder import LOCK_NAME

from .cli_errors import one_line_error
from .conftest import REPO
from .exporting import TINY


def start(run: Path, *args: str) -> subprocess.Popen:
    """A real training process (tiny DCGAN on MNIST) writing into ``run``."""
    log = run.parent / f"{run.name}-{time.monotonic_ns()}.log"
    return subprocess.Popen([sys.executable, "-m", "translate.train", "dcgan", *TINY, "--out", str(run), *args],
                            cwd=run.parent, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                            stderr=log.open("w"), start_new_session=True)


def wait_until_locked(run: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lock = run / LOCK_NAME
        if lock.is_file() and lock.read_text().strip() == str(process.pid):
            return
        assert process.poll() is None, "the first run ended before it held its folder"
        time.sleep(0.05)
    raise AssertionError("the first run never locked its folder")


def test_a_second_process_on_the_same_folder_is_refused_with_the_holders_pid(tmp_path, capsys):
    run = tmp_path / "run"
    first = start(run, "--max-steps", "100000")
    try:
        wait_until_locked(run, first)
        for argv in (["dcgan", *TINY, "--out", str(run)], ["dcgan", "--out", str(run), "--resume"]):
            error = one_line_error(capsys, train_main, *argv)
            assert f"{run} is in use by another training process (PID {first.pid})" in error
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()


def test_a_killed_run_does_not_block_the_next(tmp_path):
    run = tmp_path / "run"
    first = start(run, "--max-steps", "100000", "--save-every-steps", "1")
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoints" / "latest").is_file():
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    step = int(read_checkpoint(run).path.name.split("-")[1])
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", str(step + 1)])
    assert read_checkpoint(run).path.name == f"step-{step + 1:08d}"


def test_a_folder_of_other_files_is_not_taken_over(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / ".draft.tmp").write_text("another editor's temporary file")
    (folder / ".report.abcdefgh.tmp").write_text("another tool's, in a pattern like ours")
    error = one_line_error(capsys, train_main, "dcgan", *TINY, "--out", str(folder), "--max-steps", "1")
    assert "is not empty (.draft.tmp, .report.abcdefgh.tmp, notes.txt) and holds no translate run" in error
    assert "--reuse-out" in error
    run_cli(train_main, ["dcgan", *TINY, "--out", str(folder), "--max-steps", "1", "--reuse-out"])
    assert read_checkpoint(folder).path.name == "step-00000001"
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / ".draft.tmp").is_file() and (folder / ".report.abcdefgh.tmp").is_file()


def test_files_a_run_would_write_over_are_never_taken(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text('{"someone else": 1}\n')
    error = one_line_error(capsys, train_main, "dcgan", *TINY, "--out", str(folder), "--reuse-out")
    assert "already has metrics.jsonl, which a run would write over" in error
    assert (folder / "metrics.jsonl").read_text() == '{"someone else": 1}\n'


def test_a_run_cleans_up_only_its_own_temporaries(tmp_path):
    run = tmp_path / "run"
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "1"])
    ours = run / "checkpoints" / ".step-00000002.translate-0123abcd.tmp"
    ours.mkdir()
    theirs = run / "checkpoints" / ".step-00000002.0123abcd.tmp"
    theirs.mkdir()
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", "2"])
    assert not ours.exists() and theirs.exists()


def test_latest_may_name_only_a_checkpoint_of_its_own_run(tmp_path, capsys):
    other, run = tmp_path / "other", tmp_path / "run"
    for folder in (other, run):
        run_cli(train_main, ["dcgan", *TINY, "--out", str(folder), "--max-steps", "1"])
    for target in ("../../other/checkpoints/step-00000001", str(other / "checkpoints" / "step-00000001")):
        (run / "checkpoints" / "latest").write_text(target + "\n")
        error = one_line_error(capsys, sample_main, str(run), "--out", str(tmp_path / "x.png"))
        assert "which is not a checkpoint of this run" in error
        error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume", "--max-steps", "2")
        assert "which is not a checkpoint of this run" in error
    assert not (tmp_path / "x.png").exists() and read_checkpoint(other).path.name == "step-00000001"
