"""Runs written before the package was reorganised into families (commit 460627b, the state
of the project before this change) still sample, translate, export and resume.

``tests/fixtures/runs-460627b`` holds a tiny cDCGAN and a tiny CycleGAN run as that
version wrote them: three steps each, checkpoint folders and metrics, no new keys.
"""

import json
import shutil
from pathlib import Path

import pytest

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.families import export_model, load_generator
from translate.modeling.checkpoint import read_checkpoint
from translate.runtime import Sampler, Translator
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training.data import RANDOM_STREAMS

from .cyclegan_data import horse2zebra

FIXTURES = Path(__file__).parent / "fixtures" / "runs-460627b"


@pytest.fixture
def old_run(tmp_path):
    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / name, tmp_path / name))

    return copy


def test_an_old_cdcgan_run_samples_exports_and_resumes(old_run, tmp_path, capsys):
    run = old_run("cdcgan")
    assert "precision" not in read_checkpoint(run).train  # written before --precision existed
    run_cli(sample_main, [str(run), "--n", "10", "--out", str(tmp_path / "grid.png")])
    assert (tmp_path / "grid.png").stat().st_size > 0
    export_model(run, tmp_path / "old.onnx")
    assert Sampler(tmp_path / "old.onnx").sample(3, labels=7).shape == (3, 28, 28, 1)
    run_cli(train_main, ["cdcgan", "--out", str(run), "--resume", "--max-steps", "5"])
    # Its data order was drawn by the streams before they were named: the resume says it is not exact.
    assert "whose random streams may differ from this one's" in capsys.readouterr().err
    resumed = read_checkpoint(run)
    assert resumed.training_state()["random_streams"] == RANDOM_STREAMS
    run_cli(train_main, ["cdcgan", "--out", str(run), "--resume", "--max-steps", "6"])
    assert "random streams" not in capsys.readouterr().err  # its own checkpoints resume exactly
    assert resumed.path.name == "step-00000005"
    assert resumed.train["precision"] == "fp32"  # what the CPU trained in before: resume stays in it
    assert resumed.train["hyper"]["loss"] == "bce" and resumed.train["classes"][:2] == ["0", "1"]


@pytest.mark.slow
def test_an_old_cyclegan_run_translates_exports_and_resumes(old_run, tmp_path, horse_photo):
    run = old_run("cyclegan")
    generator, config = load_generator(run, "BtoA")
    assert (config.domain_a, config.domain_b, config.ngf) == ("horse", "zebra", 4)
    run_cli(apply_main, [str(run), "--input", str(horse_photo), "--output", str(tmp_path / "zebras")])
    assert (tmp_path / "zebras" / horse_photo.name).is_file()
    export_model(run, tmp_path / "old.onnx", direction="AtoB")
    assert Translator(tmp_path / "old.onnx").translate_file(horse_photo).shape == (256, 256, 3)
    data = horse2zebra(tmp_path / "data", {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1})
    run_cli(train_main, ["cyclegan", "--out", str(run), "--data", str(data), "--resume", "--max-steps", "5",
                         "--workers", "0"])
    resumed = read_checkpoint(run)
    assert resumed.path.name == "step-00000005"
    assert resumed.train["precision"] == "fp32" and resumed.train["world_size"] == 1
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 5
