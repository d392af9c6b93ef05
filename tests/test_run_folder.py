"""A run folder is one run's: a second process on it gets a clear error, a killed process
does not block the next (nor is it named as the holder), a folder of other files is not
taken over, the temporaries of other tools are left alone, checkpoints/latest cannot point
outside the run and a damaged one says how to repair it, and a FIFO in a run is refused
rather than waited on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from translate.cli import run_cli
from translate.io.run_layout import LOCK_NAME
from translate.modeling.checkpoint import WEIGHTS, find_checkpoint, read_checkpoint
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training.run_folder import claim_for_new_run

from .cli_errors import message_lines, one_line_error
from .conftest import REPO
from .exporting import TINY, trained_run
from .training_runs import recorded


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_run_cleans_up_only_its_own_temporaries(tmp_path):
    run = tmp_path / "run"
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "1"])
    ours = run / "checkpoints" / ".step-00000002.translate-0123abcd.tmp"
    ours.mkdir()
    theirs = run / "checkpoints" / ".step-00000002.0123abcd.tmp"
    theirs.mkdir()
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", "2"])
    assert not ours.exists() and theirs.exists()


@pytest.mark.slow
def test_lines_recorded_after_the_checkpoint_a_run_goes_on_from_are_not_kept_twice(tmp_path):
    run = tmp_path / "run"
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "2", "--save-every-steps", "1"])
    # As if the save of step 2 had failed after its line was written (a kill, a full disk):
    shutil.rmtree(run / "checkpoints" / "step-00000002")
    (run / "checkpoints" / "latest").write_text("step-00000001\n")
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", "2"])
    steps = [r["step"] for r in recorded(run)]
    assert steps == [2]


@pytest.mark.slow
def test_a_run_whose_first_save_failed_can_be_started_again_in_its_folder(tmp_path):
    run = tmp_path / "run"
    claim_for_new_run(run, "dcgan", reuse=False)  # as the first start left it: marker, empty checkpoints/, a line
    (run / "checkpoints" / ".step-00000001.translate-0123abcd.tmp").mkdir(parents=True)
    (run / "metrics.jsonl").write_text('{"epoch": 0, "step": 1, "epoch_complete": false}\n')
    run_cli(train_main, ["dcgan", *TINY, "--out", str(run), "--max-steps", "1"])
    assert read_checkpoint(run).path.name == "step-00000001"
    assert [r["step"] for r in recorded(run)] == [1]
    assert not list((run / "checkpoints").glob(".*.tmp"))


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


# A holder that dies and leaves its lock to a process it started, as an earlier translate's
# loader workers kept a SIGKILLed run's lock for seconds.
ORPHANED_LOCK = """
import fcntl, os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
child = subprocess.Popen(["sleep", "120"], pass_fds=[fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(os.getpid(), child.pid)
"""


def test_a_dead_holder_is_never_named_as_the_training_process(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    started = subprocess.run([sys.executable, "-c", ORPHANED_LOCK, str(run / LOCK_NAME)], capture_output=True,
                             text=True, check=True)
    dead, heir = map(int, started.stdout.split())
    try:
        error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume")
        assert f"the lock's recorded holder, PID {dead}, is no longer running" in error
        assert f"training process (PID {dead})" not in error
    finally:
        os.kill(heir, signal.SIGKILL)


def command(module: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m translate.MODULE ARGS``, stopped after a minute if it hangs."""
    return subprocess.run([sys.executable, "-m", f"translate.{module}", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)


@pytest.mark.slow
def test_a_fifo_in_a_run_folder_is_refused_not_waited_on(tmp_path):
    run = trained_run(tmp_path, "dcgan", steps=1)
    weights = find_checkpoint(run) / WEIGHTS
    saved = weights.read_bytes()
    weights.unlink()
    os.mkfifo(weights)
    for module, *args in (("sample", str(run), "--out", str(tmp_path / "x.png")),
                          ("export", str(run), "--out", str(tmp_path / "x.onnx")),
                          ("pack", str(run), "--out", str(tmp_path / "model")),
                          ("evaluate", str(run), "--n", "2"),
                          ("train", "dcgan", "--out", str(run), "--resume", "--max-steps", "2")):
        result = command(module, *args)
        assert result.returncode == 2, (module, result.stderr[-2000:])
        assert message_lines(result.stderr) == [f"error: {weights} is a FIFO, not a regular file, so it was not "
                                                "read: replace the folder with a complete checkpoint or model folder"]
    weights.unlink()
    weights.write_bytes(saved)
    metrics = run / "metrics.jsonl"
    metrics.unlink()
    os.mkfifo(metrics)
    result = command("train", "dcgan", "--out", str(run), "--resume", "--max-steps", "2")
    assert result.returncode == 2
    assert message_lines(result.stderr) == [f"error: {metrics} is a FIFO, not a regular file, so it was not read: "
                                            "remove it, or put back the run's own metrics.jsonl"]
    assert read_checkpoint(run).path.name == "step-00000001"


def test_a_damaged_latest_says_how_to_repair_it(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=1)
    latest = run / "checkpoints" / "latest"
    latest.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")  # an image written over it
    repair = f"{latest} is damaged (it holds no checkpoint name): point it at one of its step-NNNNNNNN folders, " \
             f"e.g. echo step-00000001 > {latest} (the newest)"
    assert repair in one_line_error(capsys, sample_main, str(run), "--out", str(tmp_path / "x.png"))
    assert repair in one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume", "--max-steps", "2")
    latest.write_text("step-00000001\n")  # the repair it names
    run_cli(train_main, ["dcgan", "--out", str(run), "--resume", "--max-steps", "2"])
    assert read_checkpoint(run).path.name == "step-00000002"


def test_a_lock_on_a_file_a_failed_start_removed_is_taken_again_on_the_new_file(tmp_path, monkeypatch):
    """A start that fails removes the lock file it made; a process that opened that file just
    before would hold a lock on a deleted file while a third locks a new one: two holders."""
    from translate.errors import ConfigError
    from translate.training import run_folder

    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_NAME).write_text("")
    real_flock, calls = run_folder.fcntl.flock, []

    def removed_first(fd, operation):
        calls.append(fd)
        if len(calls) == 1:
            (run / LOCK_NAME).unlink()  # what the failed start's exit does between our open and our lock
        return real_flock(fd, operation)

    monkeypatch.setattr(run_folder.fcntl, "flock", removed_first)
    with run_folder.RunLock(run):
        assert len(calls) == 2  # opened again, on the file now at the path
        monkeypatch.setattr(run_folder.fcntl, "flock", real_flock)
        with pytest.raises(ConfigError, match="is in use by"), run_folder.RunLock(run):
            pass


@pytest.mark.parametrize("family", ["dcgan", "cut"])
def test_a_start_that_fails_leaves_no_folder_behind_not_even_the_default_outs_parent(tmp_path, capsys, monkeypatch,
                                                                                     family):
    monkeypatch.chdir(tmp_path)  # the default --out is runs/<name>, relative to where the user stands
    domains = ("--domains", "horse", "zebra") if family == "cut" else ()
    missing = tmp_path / "missing"
    assert str(missing) in one_line_error(capsys, train_main, family, *domains, "--data", str(missing))
    deep = tmp_path / "a" / "b" / "run"  # --out with parents that do not exist yet
    error = one_line_error(capsys, train_main, family, *domains, "--data", str(missing), "--out", str(deep))
    assert str(missing) in error
    assert list(tmp_path.iterdir()) == []
