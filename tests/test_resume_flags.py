"""``train --resume`` with a flag that would change what the run recorded is an error, not a
flag dropped without a word; the run's own command again, with ``--resume``, continues it."""

from __future__ import annotations

import json

import pytest

from tests.cli_errors import one_line_error
from tests.cyclegan_data import horse2zebra, horse_zebra_argv
from tests.training_runs import train
from translate.modeling.checkpoint import read_checkpoint
from translate.train import main as train_main


@pytest.fixture
def run(tmp_path):
    data = horse2zebra(tmp_path / "data")
    run = tmp_path / "run"
    train(*horse_zebra_argv(data, "--out", str(run), "--lr", "1e-4", "--no-compile", "--max-steps", "1"))
    return data, run


def test_a_changed_setting_is_refused_and_the_same_one_passes(run, capsys):
    data, run = run
    error = one_line_error(capsys, train_main, "cyclegan", "--out", str(run), "--resume", "--ngf", "16", "--lr", "0.1",
                           "--max-steps", "2")
    assert error == (f"error: --resume continues {run} with the settings it recorded, and --ngf 16 differs from the "
                     "run's 8; --lr 0.1 differs from the run's 0.0001: leave them out, or start a new run in another "
                     "--out")
    for flags, found in ((("--domains", "zebra", "horse"), "--domains zebra horse differs from the run's horse zebra"),
                         (("--seed", "3"), "--seed 3 differs from the run's 0"),
                         (("--crop-size", "64"), "--crop-size 64 differs from the run's 32"),  # recorded as image_size
                         (("--preset", "cpu"), "--preset cpu differs from the run's (none)")):
        assert found in one_line_error(capsys, train_main, "cyclegan", "--out", str(run), "--resume", *flags)
    assert read_checkpoint(run).path.name == "step-00000001"  # nothing trained

    # The first command again (its architecture, data and --lr 1e-4), with what a resume may change.
    train(*horse_zebra_argv(data, "--out", str(run), "--lr", "0.0001", "--no-compile", "--resume", "--max-steps", "2",
                            "--epochs", "3", "--eval-every", "0", "--save-every-steps", "1"))
    checkpoint = read_checkpoint(run)
    assert checkpoint.path.name == "step-00000002" and checkpoint.train["hyper"]["epochs"] == 3


def test_a_flag_the_run_did_not_record_is_refused_rather_than_guessed(run, capsys):
    _, run = run
    config = read_checkpoint(run).path / "config.json"  # as a run written before --lr was recorded
    meta = json.loads(config.read_text())
    del meta["train"]["hyper"]["lr"]
    config.write_text(json.dumps(meta))
    error = one_line_error(capsys, train_main, "cyclegan", "--out", str(run), "--resume", "--lr", "0.0001")
    assert error == (f"error: --resume continues {run} with the settings it recorded, and --lr 0.0001 is fixed when "
                     "a run starts: leave it out, or start a new run in another --out")


def test_a_run_recorded_with_compile_and_wgan_gp_resumes_with_no_compile(tmp_path, capsys):
    """The pair is refused (torch.compile has no double backward for the penalty); a run that
    recorded both, as one from before the refusal would, continues with --no-compile."""
    data = horse2zebra(tmp_path / "data")
    run = tmp_path / "run"
    train(*horse_zebra_argv(data, "--out", str(run), "--loss", "wgan-gp", "--no-compile", "--max-steps", "1"))
    config_file = read_checkpoint(run).path / "config.json"
    config = json.loads(config_file.read_text())
    config["train"]["compile"] = True
    config_file.write_text(json.dumps(config))
    error = one_line_error(capsys, train_main, "cyclegan", "--out", str(run), "--resume", "--max-steps", "2")
    assert "--loss wgan-gp cannot train compiled" in error and "add --no-compile" in error
    train("cyclegan", "--out", str(run), "--resume", "--no-compile", "--max-steps", "2", "--data", str(data))
    assert read_checkpoint(run).path.name == "step-00000002"


def test_the_continue_command_keeps_what_a_resume_takes_from_its_own_command_line(monkeypatch, tmp_path):
    from translate.train import _continue_command, _parse, default_workers

    run, data = tmp_path / "my run", tmp_path / "data"
    args = _parse(["cyclegan", "--domains", "horse", "zebra", "--out", str(run), "--data", str(data), "--gpu",
                   "--save-every-steps", "500", "--log-every", "10", "--skip-nonfinite", "--fid-weights", "fid.pt",
                   "--workers", str(default_workers() + 1), "--max-steps", "9", "--lr", "1e-4"])
    monkeypatch.setenv("WORLD_SIZE", "2")  # under torchrun, a run resumes on as many processes
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert _continue_command(args) == (
        f"torchrun --nproc_per_node 2 -m translate.train cyclegan --out '{run}' --resume --data {data} --max-steps 9 "
        f"--save-every-steps 500 --fid-weights fid.pt --log-every 10 --workers {default_workers() + 1} --gpu "
        "--skip-nonfinite")
    monkeypatch.setenv("WORLD_SIZE", "4")  # two machines of two
    assert _continue_command(args).startswith("torchrun --nnodes 2 --nproc_per_node 2 -m translate.train cyclegan ")
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("TRANSLATE_DATA", raising=False)
    monkeypatch.delenv("TRANSLATE_FID_WEIGHTS", raising=False)
    plain = _parse(["dcgan", "--out", str(run)])
    assert _continue_command(plain) == f"python -m translate.train dcgan --out '{run}' --resume"
    # Data and weights this start found through the environment (as make train gives them) are named too:
    # the shell the command is pasted in may not have it.
    # Relative ones are made absolute: they were relative to where the run started.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRANSLATE_DATA", "data")
    monkeypatch.setenv("TRANSLATE_FID_WEIGHTS", "fid.pt")
    assert _continue_command(plain) == (f"python -m translate.train dcgan --out '{run}' --resume --data {data} "
                                        f"--fid-weights {tmp_path / 'fid.pt'}")
    monkeypatch.setenv("TRANSLATE_DATA", "")  # set but empty: no data named
    assert "--data" not in _continue_command(plain)
