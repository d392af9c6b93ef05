"""A planted pickle, a file whose unpickling would create a marker file, handed to every
entry point that reads a checkpoint, a model folder or a weights file: none of them
executes it, and each refuses it with one line naming the file."""

import pickle
import shutil

import cv2
import numpy as np
import pytest
import torch

from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.evaluate import main as evaluate_main
from translate.evaluation.judge import DEFAULT_CLASSIFIER
from translate.export import main as export_main
from translate.families.cyclegan.nets import CycleGANConfig, build_discriminator, build_generator
from translate.families.dcgan.nets import DCGANConfig, Discriminator, Generator
from translate.modeling.checkpoint import write_model_folder
from translate.sample import main as sample_main
from translate.train import main as train_main
from translate.training.checkpoint import save_checkpoint

from .cli_errors import one_line_error
from .exporting import TINY


class Exploit:
    """Unpickling this opens (creates) ``marker`` for writing: arbitrary code, in effect."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def plant(path, marker, style: str) -> None:
    """Replace ``path`` with a malicious pickle: a bare one, or in torch.save's zip format."""
    payload = {"step": Exploit(marker)}
    if style == "zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A real DCGAN run (one step), a cDCGAN and a CycleGAN checkpoint, and the shipped classifier."""
    root = tmp_path_factory.mktemp("originals")
    run_cli(train_main, ["dcgan", "--out", str(root / "dcgan"), "--max-steps", "1", *TINY])
    config = DCGANConfig(z_dim=8, n_classes=10, ngf=8, ndf=8)
    save_checkpoint(root / "cdcgan", 1, "cdcgan", config.to_dict(), {},
                    {"generator": Generator(config), "discriminator": Discriminator(config)}, {})
    cyclegan = CycleGANConfig(ngf=8, ndf=8, n_blocks=2, image_size=32)
    write_model_folder(root / "cyclegan", "cyclegan", cyclegan.to_dict(),
                       {"generator_AtoB": build_generator(cyclegan), "discriminator_A": build_discriminator(cyclegan)})
    shutil.copytree(DEFAULT_CLASSIFIER, root / "classifier")
    return root


def _latest(run):
    return run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()


CASES = {
    # entry point: (copied folder, file to plant inside it, arguments; RUN is the copy, TMP the test folder)
    "train --resume, state.pt": ("dcgan", "CHECKPOINT/state.pt", ["dcgan", "--out", "RUN", "--resume", *TINY]),
    "train --resume, weights": ("dcgan", "CHECKPOINT/model.safetensors", ["dcgan", "--out", "RUN", "--resume"]),
    "sample": ("dcgan", "CHECKPOINT/model.safetensors", ["RUN", "--out", "TMP/grid.png"]),
    "export": ("dcgan", "CHECKPOINT/model.safetensors", ["RUN", "--out", "TMP/model.onnx"]),
    "evaluate": ("dcgan", "CHECKPOINT/model.safetensors", ["RUN", "--n", "10"]),
    "evaluate --classifier": ("classifier", "model.safetensors",
                              ["ORIGINALS/cdcgan", "--classifier", "RUN", "--n", "10"]),
    "evaluate --fid-weights": ("dcgan", "fid.pt", ["RUN", "--fid-weights", "RUN/fid.pt", "--n", "10"]),
    "apply": ("cyclegan", "model.safetensors", ["RUN", "--input", "TMP/in.png", "--output", "TMP/out"]),
}
MAINS = {"train": train_main, "sample": sample_main, "export": export_main, "evaluate": evaluate_main,
         "apply": apply_main}
REFUSALS = {
    "state.pt": "holds objects other than tensors and plain data, which could run code, so it was not loaded",
    "model.safetensors": "is not a readable safetensors file",
    "fid.pt": "cannot load FID weights",
}


@pytest.mark.parametrize("style", ["bare", "zip"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.slow
def test_no_entry_point_executes_a_planted_pickle(originals, tmp_path, capsys, case, style):
    folder, target, argv = CASES[case]
    run = tmp_path / "copy"
    shutil.copytree(originals / folder, run)
    file = (_latest(run) if target.startswith("CHECKPOINT/") else run) / target.removeprefix("CHECKPOINT/")
    cv2.imwrite(str(tmp_path / "in.png"), np.zeros((8, 8, 3), np.uint8))  # an input for apply
    marker = tmp_path / "pwned"
    plant(file, marker, style)
    paths = {"RUN": str(run), "TMP": str(tmp_path), "ORIGINALS": str(originals)}
    for key, value in paths.items():
        argv = [arg.replace(key, value) for arg in argv]
    message = one_line_error(capsys, MAINS[case.split()[0]], *argv)
    assert not marker.exists(), f"{case} executed the planted pickle"
    assert str(file) in message and REFUSALS[file.name] in message


def test_commands_that_need_no_training_state_never_open_it(originals, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(originals / "dcgan", run)
    marker = tmp_path / "pwned"
    plant(_latest(run) / "state.pt", marker, "bare")
    run_cli(sample_main, [str(run), "--n", "4", "--out", str(tmp_path / "grid.png")])
    assert (tmp_path / "grid.png").is_file() and not marker.exists()
