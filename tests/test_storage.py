"""Places that cannot be written: an --out in the way of a file fails at start-up, and a
disk that fills up at a checkpoint stops the run with the previous checkpoint intact."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.export import main as export_main
from translate.families import load_generator
from translate.modeling.checkpoint import read_checkpoint
from translate.sample import main as sample_main
from translate.train import main as train_main

from .cli_errors import one_line_error
from .exporting import TINY
from .file_limits import file_size_limit


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
    # export and apply check their outputs before any work, as docs/reliability.md says.
    onnx_out = tmp_path / "notes.txt" / "model.onnx"
    message = one_line_error(capsys, export_main, str(run), "--out", str(onnx_out))
    assert "notes.txt" in message and "a file is in the way of a folder" in message
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), np.zeros((8, 8, 3), np.uint8))
    message = one_line_error(capsys, apply_main, str(run), "--input", str(photos), "--output",
                             str(tmp_path / "notes.txt" / "out"))
    assert "notes.txt" in message and ("is a file, not a folder" in message or "in the way" in message)
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)  # an existing --out is read for its metadata: not a FIFO, which would never end
    assert "is a FIFO, not a regular file" in one_line_error(capsys, export_main, str(run), "--out", str(fifo))


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's traceback
def test_a_full_disk_under_tensorboard_is_one_line_not_its_traceback(tmp_path, capsys, monkeypatch):
    import threading

    from tensorboard.summary.writer import record_writer
    from torch.utils import tensorboard

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    hook = threading.excepthook
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(tensorboard, "SummaryWriter", full)  # at the start
        message = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--max-steps", "1", *TINY)
        assert f"could not write {run / 'tensorboard'}: the disk is full" in message
    # Mid-run: TensorBoard's writer thread fails first (and would print its own traceback).
    real_write, writes = record_writer.RecordWriter.write, []

    def full_later(self, data):
        writes.append(data)
        if len(writes) > 3:  # the file's first events are written: the disk fills during the run
            full()
        return real_write(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", full_later)
    message = one_line_error(capsys, train_main, "dcgan", "--out", str(tmp_path / "run2"), "--max-steps", "3",
                             "--log-every", "1", *TINY)
    assert "tensorboard: the disk is full" in message
    assert threading.excepthook is hook  # put back


def test_a_full_disk_at_a_checkpoint_stops_the_run_and_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    real_write_bytes, calls = Path.write_bytes, []

    def disk_fills_at_the_third_checkpoint(path, data):
        """As the OS fails a write when the disk fills: part written, then ENOSPC."""
        if path.name == "model.safetensors":
            calls.append(path)
            if len(calls) == 3:
                real_write_bytes(path, bytes(data)[:1000])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", disk_fills_at_the_third_checkpoint)
    argv = ["dcgan", "--out", str(run), "--save-every-steps", "1", *TINY]
    message = one_line_error(capsys, train_main, *argv, "--max-steps", "5")
    assert f"could not write {run / 'checkpoints' / 'step-00000003'}: the disk is full" in message
    assert "free some space there" in message
    assert f"continue from the last checkpoint with: python -m translate.train dcgan --out {run} --resume" in message

    checkpoints = run / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest", "step-00000001", "step-00000002"]
    previous = read_checkpoint(run)
    assert previous.path.name == "step-00000002" and previous.training_state()["step"] == 2
    load_generator(run)

    monkeypatch.setattr(Path, "write_bytes", real_write_bytes)  # space was freed
    run_cli(train_main, [*argv, "--max-steps", "4", "--resume"])
    assert read_checkpoint(run).training_state()["step"] == 4


@pytest.mark.slow
def test_a_real_write_failure_at_a_checkpoint_is_one_line_not_a_traceback(tmp_path, data_root):
    """With the real libraries: a file-size limit makes the OS refuse the checkpoint's write (as a
    full disk does). safetensors and torch.save would report it as their own errors."""
    run = tmp_path / "run"
    argv = ["dcgan", "--out", str(run), "--max-steps", "2", "--save-every-steps", "1", "--data", str(data_root), *TINY]
    result = subprocess.run([sys.executable, "-m", "translate.train", *argv], preexec_fn=file_size_limit(60_000),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: could not write {run / 'checkpoints' / 'step-00000001'}: the file is larger than this process may "
        "write (File too large): raise the limit (ulimit -f) or the quota; then continue from the last checkpoint "
        f"with: python -m translate.train dcgan --out {run} --resume --data {data_root} --max-steps 2 "
        "--save-every-steps 1")
    assert [p.name for p in (run / "checkpoints").iterdir()] == []  # nothing half written left
