"""Two-process data-parallel CycleGAN training on the CPU (gloo), launched by torchrun.

Run as a script (by torchrun, in the test below) this file trains through the real
command line and then dumps the rank's own weights, so the test can compare the ranks.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.file_limits import file_size_limit  # absolute: torchrun runs this file as a script
from translate.train import main as train_main

pytestmark = pytest.mark.slow  # every test here runs real commands, servers or training

REPO = Path(__file__).resolve().parents[1]


def _worker(dump: Path, argv: list[str]) -> None:
    trainer = train_main(argv)
    tensors = {f"{name}.{key}": value.contiguous() for name, module in trainer.recipe.modules().items()
               for key, value in module.state_dict().items()}
    save_file(tensors, str(dump / f"rank{trainer.context.rank}.safetensors"))


def test_two_gloo_processes_keep_identical_weights_and_only_rank_0_writes(tmp_path, capsys, data_root):
    from tests.cyclegan_data import TINY, horse2zebra
    from translate.cli import run_cli

    data, run, dump = horse2zebra(tmp_path / "data"), tmp_path / "run", tmp_path / "dump"
    dump.mkdir()
    # 4 horses / 4 zebras, 2 ranks x batch 1: 2 steps an epoch; stop in the middle of epoch 2.
    # Scored after epoch 1 by rank 0 while rank 1 waits (it once went on alone and hung).
    argv = ["cyclegan", "--domains", "horse", "zebra", "--data", str(data), "--out", str(run), "--epochs", "1",
            "--epochs-decay", "1", "--max-steps", "3", "--eval-every", "1", "--fid-weights",
            str(data_root / "fid" / "inception-2015-12-05-fid.pt"), *TINY]
    # TMPDIR: torchrun leaves a torchelastic_* folder in the temporary directory.
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run([*launch, __file__, str(dump), *argv], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    ranks = [load_file(dump / f"rank{r}.safetensors") for r in (0, 1)]
    saved = load_file(run / "checkpoints" / "step-00000003" / "model.safetensors")
    assert ranks[0].keys() == ranks[1].keys() == saved.keys()
    assert all(torch.equal(ranks[0][k], ranks[1][k]) and torch.equal(ranks[0][k], saved[k]) for k in saved)
    records = [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "start" not in r]
    assert [(r["epoch"], r["step"], "eval" in r) for r in records] == [(1, 2, False), (1, 2, True), (1, 3, False)]
    config = json.loads((run / "checkpoints" / "step-00000003" / "config.json").read_text())
    assert config["train"]["world_size"] == 2
    state = torch.load(run / "checkpoints" / "step-00000003" / "state.pt", weights_only=True)
    assert state["recipe"]["pools"]["A"]["images"].shape[0] == 2  # both ranks' pools

    capsys.readouterr()
    with pytest.raises(SystemExit):
        run_cli(train_main, [*argv, "--max-steps", "4", "--resume"])  # one process
    assert "trained on 2 processes: resume it on as many" in capsys.readouterr().err


def test_a_checkpoint_rank_0_cannot_write_stops_every_rank_with_the_reason(tmp_path, data_root):
    """A full disk at a checkpoint (here a file-size limit, as in test_storage) on rank 0: the
    other rank must not wait on in the checkpoint's barrier, nor go on training alone. The two
    ranks are started here as torchrun would (its environment variables), not by torchrun: it
    kills the other ranks as soon as one exits, which would race the very exits checked here."""
    from demo.process import free_port
    from tests.cli_errors import message_lines
    from tests.cyclegan_data import TINY, horse2zebra

    data, run = horse2zebra(tmp_path / "data"), tmp_path / "run"
    argv = ["cyclegan", "--domains", "horse", "zebra", "--data", str(data), "--out", str(run), "--max-steps", "3",
            "--save-every-steps", "1", *TINY]
    group = {"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    ranks = [subprocess.Popen([sys.executable, "-m", "translate.train", *argv], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=file_size_limit(60_000),
                              env={**os.environ, **group, "RANK": str(r), "LOCAL_RANK": str(r),
                                   "OMP_NUM_THREADS": "1"})
             for r in (0, 1)]
    try:
        errors = [rank.communicate(timeout=300)[1] for rank in ranks]
    finally:  # a rank left waiting (in a barrier) must not outlive the test
        for rank in ranks:
            rank.kill()
    assert [rank.returncode for rank in ranks] == [2, 2], errors
    # The way on is a resume on as many processes, with this start's data and limits.
    resume = (f"torchrun --nproc_per_node 2 -m translate.train cyclegan --out {run} --resume --data {data} "
              "--max-steps 3 --save-every-steps 1")
    assert message_lines(errors[0])[-1].startswith(
        f"error: could not write {run / 'checkpoints' / 'step-00000001'}: the file is larger than this process may "
        f"write (File too large): raise the limit (ulimit -f) or the quota; then continue from the last checkpoint "
        f"with: {resume}")
    assert message_lines(errors[1])[-1].startswith(
        "error: rank 0 could not write the checkpoint of step 1 (its error says why); then continue from the last "
        f"checkpoint with: {resume}")
    assert not any("Traceback" in error for error in errors)
    assert [p.name for p in (run / "checkpoints").iterdir()] == []


if __name__ == "__main__":
    _worker(Path(sys.argv[1]), sys.argv[2:])
