"""Places that cannot be written: an --out in the way of a file fails at start-up, and a
disk that fills up at a checkpoint stops the run with the previous checkpoint intact."""

import errno
import os
from pathlib import Path

import pytest

from translate.cli import run_cli
from translate.families import load_generator
from translate.modeling.checkpoint import read_checkpoint
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training import checkpoint as checkpoint_module

from .cli_errors import one_line_error
from .exporting import TINY


@pytest.mark.parametrize("family", ["dcgan", "cyclegan"])
def test_an_out_that_cannot_be_created_fails_at_start_up(tmp_path, capsys, family):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    # --data points nowhere: the --out error must come first, before any data is read.
    extra = ["--domains", "horse", "zebra"] if family == "cyclegan" else []
    for out in (blocker / "run", blocker):
        message = one_line_error(capsys, train_main, family, "--out", str(out), "--data", str(tmp_path / "none"),
                                 *extra)
        assert f"--out {out} cannot be created: {blocker} is a file, not a folder: choose another --out" in message
    assert blocker.read_text() == "a file, not a folder"


def test_an_out_in_a_folder_without_write_permission_fails_at_start_up(tmp_path, capsys, monkeypatch):
    # Root writes anywhere, so the permission is refused the way os.access would for a user.
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == locked else real_access(path, mode))
    out = locked / "run"
    message = one_line_error(capsys, train_main, "dcgan", "--out", str(out), "--data", str(tmp_path / "none"))
    assert message == f"error: --out {out} is not writable ({locked} does not allow writing): choose another --out"
    assert not out.exists()


def test_other_commands_name_the_output_they_cannot_write(tmp_path, capsys):
    run = tmp_path / "run"
    run_cli(train_main, ["dcgan", "--out", str(run), "--max-steps", "1", *TINY])
    (tmp_path / "notes.txt").write_text("")
    out = tmp_path / "notes.txt" / "grid.png"
    message = one_line_error(capsys, sample_main, str(run), "--out", str(out))
    assert f"could not write {out}: a file is in the way of a folder" in message


def test_a_full_disk_at_a_checkpoint_stops_the_run_and_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    real_save_file, calls = checkpoint_module.save_file, []

    def disk_fills_at_the_third_checkpoint(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 3:
            with open(filename, "wb") as f:  # what fitted before the disk was full
                f.write(b"\0" * 1000)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)
        real_save_file(tensors, filename, metadata)

    monkeypatch.setattr(checkpoint_module, "save_file", disk_fills_at_the_third_checkpoint)
    argv = ["dcgan", "--out", str(run), "--save-every-steps", "1", *TINY]
    message = one_line_error(capsys, train_main, *argv, "--max-steps", "5")
    assert f"could not write {run / 'checkpoints' / 'step-00000003'}: the disk is full" in message
    assert "free some space there" in message and "continue from the last checkpoint with --resume" in message

    checkpoints = run / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest", "step-00000001", "step-00000002"]
    previous = read_checkpoint(run)
    assert previous.path.name == "step-00000002" and previous.training_state()["step"] == 2
    load_generator(run)

    monkeypatch.setattr(checkpoint_module, "save_file", real_save_file)  # space was freed
    run_cli(train_main, [*argv, "--max-steps", "4", "--resume"])
    assert read_checkpoint(run).training_state()["step"] == 4
