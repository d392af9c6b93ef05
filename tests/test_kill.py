"""Real training processes killed with SIGKILL at random moments, some of them while a
checkpoint is being written, and stopped with Ctrl-C: what is left on disk always loads,
and --resume goes on."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from translate.cli import run_cli
from translate.families.dcgan.nets import DCGANConfig, Discriminator, Generator
from translate.io.fileio import read_json_if_exists
from translate.modeling.checkpoint import LATEST, load_weights, read_checkpoint
from translate.train import default_workers
from translate.train import main as train_main
from translate.training.stopping import GracefulStop

from .cli_errors import message_lines
from .conftest import REPO
from .cyclegan_data import horse2zebra, horse_zebra_argv

# A checkpoint every step, so that writing checkpoints is much of what the process does.
ARGS = ["dcgan", "--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "16", "--save-every-steps", "1",
        "--log-every", "1000"]


def start_training(run: Path, log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "translate.train", *args, "--out", str(run)],
        cwd=run.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),  # a file, not a pipe: the progress bar would fill a pipe and block
        start_new_session=True,
    )


def wait_for(condition, process: subprocess.Popen, timeout: float = 120.0):
    """Poll ``condition`` every half millisecond until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert process.poll() is None, f"training exited early with {process.returncode}"
        time.sleep(0.0005)
    raise AssertionError("timed out")


def freeze(process: subprocess.Popen) -> None:
    """SIGSTOP ``process`` and wait until it has stopped: kill() returns before then, and a
    system call in flight (a rename waiting on the journal) still completes."""
    process.send_signal(signal.SIGSTOP)
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the process ended (wait status {status}) instead of stopping"


def freeze_in_a_write(run: Path, process: subprocess.Popen) -> None:
    """Stop ``process`` (SIGSTOP) at a moment when a checkpoint is half written on disk."""
    while True:
        wait_for(lambda: any(".step-" in name for name in temporaries(run)), process)
        freeze(process)
        if any(".step-" in name for name in temporaries(run)):
            return
        process.send_signal(signal.SIGCONT)  # the write finished in between: catch the next one


def wait_for_group_to_exit(group: int, timeout: float = 10.0) -> bool:
    """Whether every process of a process group (a run and its loader workers) is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def first_bar_position(log: Path) -> int:
    """The step of its epoch the progress started from (into a file, its first line is
    ``epoch 1/9: 10/3750 steps (0%)``)."""
    return int(re.search(r"^epoch \d+/\d+: (\d+)/\d+ steps ", log.read_text(), re.MULTILINE).group(1))


def steps_on_disk(run: Path) -> set[int]:
    return {int(m.group(1)) for name in _listing(run) if (m := re.fullmatch(r"step-(\d{8})", name))}


def latest_step(run: Path) -> int:
    try:
        return int((run / "checkpoints" / LATEST).read_text().strip().removeprefix("step-"))
    except FileNotFoundError:
        return 0


def temporaries(run: Path) -> list[str]:
    return [name for name in _listing(run) if name.startswith(".")]


def _listing(run: Path) -> list[str]:
    try:
        return os.listdir(run / "checkpoints")
    except FileNotFoundError:
        return []


def assert_everything_under_a_final_name_is_complete(run: Path) -> None:
    """Every step-* folder loads (weights into the networks, training state), `latest`
    names one of them, and anything else is a leftover under a temporary name."""
    root = run / "checkpoints"
    finals = {name for name in os.listdir(root) if not name.startswith(".")}
    assert LATEST in finals
    steps = steps_on_disk(run)
    assert finals == {LATEST} | {f"step-{s:08d}" for s in steps}, finals
    assert latest_step(run) in steps
    for step in steps:
        checkpoint = read_checkpoint(root / f"step-{step:08d}")
        config = DCGANConfig.from_dict(checkpoint.model)
        load_weights(Generator(config), checkpoint, "generator")
        load_weights(Discriminator(config), checkpoint, "discriminator")
        assert checkpoint.training_state()["step"] == step
    assert all(name.endswith(".tmp") for name in temporaries(run)), temporaries(run)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_broken_checkpoint(tmp_path):
    rng = random.Random(6)
    run = tmp_path / "run"
    previous, landed_in_writes = 0, 0
    # A kill at a random moment; one that surely lands in a write (the process is frozen
    # while a half-written checkpoint is on disk); one a random few milliseconds into a
    # write (the rename, the pointer, the clean-up).
    for kill, moment in enumerate(["random", "writing", "writing+"]):
        log = tmp_path / f"stderr-{kill}.txt"
        process = start_training(run, log, *ARGS, *(["--resume"] if kill else []))
        try:
            wait_for(lambda: latest_step(run) > previous, process)  # noqa: B023 (called at once)
            if moment == "random":
                time.sleep(rng.uniform(0.0, 0.5))
            elif moment == "writing":
                freeze_in_a_write(run, process)
            else:
                wait_for(lambda: any(".step-" in name for name in temporaries(run)), process)
                time.sleep(rng.uniform(0.0, 0.004))
        finally:
            process.kill()
            process.wait()
        # It went on from the checkpoint `latest` named (its progress bar starts there) and got further.
        assert first_bar_position(log) == previous
        landed_in_writes += bool(temporaries(run))
        assert_everything_under_a_final_name_is_complete(run)
        assert latest_step(run) > previous
        previous = latest_step(run)

    run_cli(train_main, [*ARGS, "--out", str(run), "--resume", "--max-steps", str(previous + 2)])
    assert latest_step(run) == previous + 2
    assert_everything_under_a_final_name_is_complete(run)
    assert temporaries(run) == []  # the leftovers of the killed writes are gone
    assert landed_in_writes >= 1  # the frozen one at least left a half-written checkpoint behind


@pytest.mark.parametrize(("signum", "code", "how"),
                         [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")],
                         ids=["ctrl-c", "sigterm"])
@pytest.mark.slow
def test_ctrl_c_or_sigterm_stops_after_the_step_with_a_checkpoint_and_a_one_line_message(
    tmp_path, digit_folder, signum, code, how
):
    run, log = tmp_path / "run", tmp_path / "stderr.txt"
    # An image folder read by a loader worker: Ctrl-C in a terminal reaches the whole
    # process group, workers included.
    args = ["cdcgan", "--dataset", "folder", "--data", str(digit_folder), "--workers", "1", "--image-size", "32",
            "--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "8", "--save-every-steps", "2",
            "--epochs", "1000"]
    process = start_training(run, log, *args)
    try:
        wait_for(lambda: latest_step(run) >= 2, process)
        time.sleep(random.Random(6).uniform(0.0, 0.3))
        os.killpg(process.pid, signum)  # the whole process group, as a terminal or a container stop does
        assert process.wait(timeout=60) == code, log.read_text()[-3000:]  # how it ended otherwise
    finally:
        if process.poll() is None:
            process.kill()
    messages = message_lines(log.read_text())
    assert "Traceback" not in log.read_text() and len(messages) == 1, messages
    # The command to continue keeps what a resume takes from its own command line, not the run's.
    resume = shlex.join(["python", "-m", "translate.train", "cdcgan", "--out", str(run), "--resume",
                         "--data", str(digit_folder), "--save-every-steps", "2",
                         *(["--workers", "1"] if default_workers() != 1 else [])])
    match = re.fullmatch(how + r" at step (\d+): saved (.+); continue with: " + re.escape(resume), messages[0])
    assert match, messages
    step = int(match.group(1))
    assert match.group(2) == str(run / "checkpoints" / f"step-{step:08d}") and latest_step(run) == step
    assert read_checkpoint(run).training_state()["step"] == step
    assert wait_for_group_to_exit(process.pid), "a process of the interrupted run is still alive"

    run_cli(train_main, [*shlex.split(resume)[3:], "--max-steps", str(step + 2)])  # the command as printed
    assert latest_step(run) == step + 2


def test_a_second_ctrl_c_interrupts_at_once_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    with GracefulStop() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs between bytecodes of the main thread
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is before


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a run's loader workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.slow
def test_a_run_killed_while_its_loader_workers_run_resumes_at_once(tmp_path):
    data = horse2zebra(tmp_path / "data", {"trainA": 40, "trainB": 40})
    argv = horse_zebra_argv(data, "--save-every-steps", "1")
    at = argv.index("--workers")
    del argv[at : at + 2]  # the default loader workers, as a user runs it
    run, log = tmp_path / "run", tmp_path / "stderr.txt"
    process = start_training(run, log, *argv)
    try:
        wait_for(lambda: latest_step(run) >= 2 and child_pids(process.pid), process)
        process.kill()  # SIGKILL to the training process alone: its workers are orphaned, not killed
        process.wait()
        os.killpg(process.pid, 0)  # its workers outlive it (ProcessLookupError if none did)
        step = latest_step(run)
        run_cli(train_main, [*argv, "--out", str(run), "--resume", "--max-steps", str(step + 1)])  # at once
        assert latest_step(run) == step + 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_kill_during_the_last_scoring_is_made_good_on_resume(tmp_path, data_root):
    data = horse2zebra(tmp_path / "data")  # 4 steps an epoch
    weights = data_root / "fid" / "inception-2015-12-05-fid.pt"
    argv = horse_zebra_argv(data, "--epochs", "1", "--epochs-decay", "0", "--eval-every", "1", "--fid-weights",
                            str(weights))
    run = tmp_path / "run"
    # Killed as the scoring begins, by the process itself: a test polling for that moment could
    # be starved of the CPU until the scoring had ended.
    killed = subprocess.run([sys.executable, "-c", KILLED_AT_SCORING, *argv, "--out", str(run)], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert latest_step(run) == 4  # the last checkpoint was written before the scoring
    scored = [line for line in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in line]
    assert not scored and not (run / "best").exists(), "the kill came after the scoring"
    run_cli(train_main, [*argv, "--out", str(run), "--resume"])
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    [scoring] = [r for r in records if "eval" in r]
    assert (scoring["epoch"], scoring["step"]) == (1, 4) and latest_step(run) == 4
    best = read_json_if_exists(run / "best" / "evaluation.json")
    assert best["epoch"] == 1 and best["fid"] == scoring["eval"]["horse_to_zebra/fid"]
    run_cli(train_main, [*argv, "--out", str(run), "--resume"])  # nothing owed any more: nothing scored again
    assert (run / "metrics.jsonl").read_text().count('"eval"') == 1


KILLED_AT_SCORING = """
import os
import signal
import sys

from translate.train import main
from translate.training.trainer import Trainer

Trainer._evaluate = lambda self: os.kill(os.getpid(), signal.SIGKILL)
main(sys.argv[1:])
"""

BEST_WRITER = """
import sys
from pathlib import Path

import torch

from translate.evaluation.best import keep_best
from translate.families.cyclegan.nets import CycleGANConfig, build_generator

config = CycleGANConfig(ngf=8, n_blocks=2)
generators = {name: build_generator(config) for name in ("generator_AtoB", "generator_BtoA")}
for epoch in range(1, 100_000):
    with torch.no_grad():
        for generator in generators.values():
            for parameter in generator.parameters():
                parameter.fill_(epoch)
    keep_best(Path(sys.argv[1]), "cyclegan", config.to_dict(), generators, {"fid": 1000.0 - epoch, "epoch": epoch})
    print(epoch, flush=True)
"""


def best_epochs(best: Path) -> tuple[set[float], int]:
    """(the values of best/'s weights, the epoch of its evaluation.json): one epoch's, or a mix."""
    values = {float(v) for tensor in load_file(best / "model.safetensors").values() for v in tensor.unique()}
    return values, read_json_if_exists(best / "evaluation.json")["epoch"]


@pytest.mark.slow
def test_best_never_holds_the_weights_of_one_epoch_and_the_scores_of_another(tmp_path):
    best = tmp_path / "run" / "best"
    writer = subprocess.Popen([sys.executable, "-c", BEST_WRITER, str(best)], cwd=REPO, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    rng = random.Random(6)
    try:
        assert writer.stdout.readline()  # the first best/ is written: freeze the writer at random moments
        for _ in range(40):
            time.sleep(rng.uniform(0.0, 0.02))
            freeze(writer)  # what a kill at this moment would leave on disk
            try:
                weights, epoch = best_epochs(best)
                assert weights == {float(epoch)}, f"best/ holds weights of epochs {weights} with the scores of {epoch}"
            finally:
                writer.send_signal(signal.SIGCONT)
    finally:
        writer.kill()
        writer.wait()
    weights, epoch = best_epochs(best)
    assert weights == {float(epoch)}
    assert {p.name for p in best.parent.iterdir() if not p.name.endswith(".tmp")} == {"best"}
