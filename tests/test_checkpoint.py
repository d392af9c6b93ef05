import os
import pickle
import re
import shutil
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO
from translate.errors import CheckpointError
from translate.families import all_families, load_generator
from translate.families.dcgan.nets import DCGANConfig, Discriminator, Generator
from translate.modeling.checkpoint import find_checkpoint, read_checkpoint
from translate.training.checkpoint import save_checkpoint

CONFIG = DCGANConfig(z_dim=8, n_classes=10, ngf=8, ndf=8)


def _save(run, step, family="cdcgan"):
    torch.manual_seed(step)
    g, d = Generator(CONFIG), Discriminator(CONFIG)
    path = save_checkpoint(run, step, family, CONFIG.to_dict(), {"note": step}, {"generator": g, "discriminator": d},
                           {"step": step})
    return path, g


def test_save_writes_a_complete_folder_and_points_latest_at_it(tmp_path):
    path, generator = _save(tmp_path, 7)
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors", "state.pt"]
    assert find_checkpoint(tmp_path) == path
    loaded, config = load_generator(tmp_path)
    assert config == CONFIG and not loaded.training
    z, labels = torch.randn(3, 8), torch.tensor([0, 4, 9])
    assert torch.equal(loaded(z, labels), generator.eval()(z, labels))
    assert read_checkpoint(path).training_state() == {"step": 7}


def test_only_the_newest_three_are_kept_and_no_temporary_folder_remains(tmp_path):
    for step in (1, 2, 3, 4, 5):
        _save(tmp_path, step)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["latest", "step-00000003", "step-00000004", "step-00000005"]


@pytest.fixture
def immutable(tmp_path):
    """Marks files or folders immutable (chattr +i: even root cannot rename or delete them),
    and clears every mark below tmp_path afterwards (wherever a marked file was moved), so that
    tmp_path can be cleaned."""

    def mark(path):
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
            pytest.skip("chattr +i is not available here (it needs root and a file system that has it)")

    yield mark
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-R", "-i", str(tmp_path)], capture_output=True)


def test_an_old_checkpoint_that_cannot_be_deleted_is_named_and_the_run_goes_on(tmp_path, immutable):
    for step in (1, 2, 3):
        _save(tmp_path, step)
    stuck = tmp_path / "checkpoints" / "step-00000001"
    immutable(stuck)
    with pytest.warns(UserWarning) as caught:
        path, _ = _save(tmp_path, 4)
    assert [str(w.message) for w in caught] == [
        f"could not delete the old checkpoint step-00000001 (Operation not permitted): the run goes on; delete "
        f"{stuck} by hand, as each one left takes disk space"]
    assert find_checkpoint(tmp_path) == path
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["latest", "step-00000001", "step-00000002", "step-00000003", "step-00000004"]


def test_an_old_checkpoint_moved_aside_but_not_emptied_is_named_by_its_temporary_name(tmp_path, immutable):
    """A file inside it cannot go (its folder renames, but the file is immutable): the warning
    names the folder as it is now called, which is what the user must delete."""
    for step in (1, 2, 3):
        _save(tmp_path, step)
    stuck = tmp_path / "checkpoints" / "step-00000001" / "state.pt"
    immutable(stuck)
    with pytest.warns(UserWarning) as caught:
        _save(tmp_path, 4)
    [left] = [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".step-00000001")]
    assert [str(w.message) for w in caught] == [
        f"could not delete the old checkpoint step-00000001 (Operation not permitted): the run goes on; delete "
        f"{left} by hand, as each one left takes disk space"]


def test_wrong_family_missing_and_model_folder_errors(tmp_path):
    _save(tmp_path, 1, family="dcgan-other")
    known = ", ".join(sorted(all_families()))  # whichever families are installed, not a list kept here
    with pytest.raises(CheckpointError, match=f"unknown model family 'dcgan-other': this version of translate knows "
                       f"{known}$"):
        load_generator(tmp_path)
    with pytest.raises(CheckpointError, match="does not exist"):
        find_checkpoint(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        find_checkpoint(tmp_path / "empty")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="; it has config.json but no model.safetensors: copy that too"):
        find_checkpoint(tmp_path / "half")
    (tmp_path / "empty" / "horse2zebra.onnx").write_bytes(b"")  # a file beside no checkpoint names itself
    with pytest.raises(CheckpointError, match=r"horse2zebra.onnx is not a checkpoint, and .*empty holds none: pass a "
                       r"run folder, a checkpoint folder or a model folder \(for an ONNX export, the model folder it "
                       r"was exported from; translate.apply and translate.sample take the .onnx file itself\)$"):
        find_checkpoint(tmp_path / "empty" / "horse2zebra.onnx")


def test_a_folder_without_a_checkpoint_names_what_it_holds_instead(tmp_path):
    """The careless user's paths: a run whose latest is gone, the parent of model folders, a folder of exports."""
    run = tmp_path / "run"
    _save(run, 3)
    _save(run, 5)
    (run / "checkpoints" / "latest").unlink()
    newest = run / "checkpoints" / "step-00000005"
    with pytest.raises(CheckpointError, match=f"its checkpoints/latest is missing: pass {newest} \\(the newest\\), "
                       f"or to resume, echo step-00000005 > {run / 'checkpoints' / 'latest'}$"):
        find_checkpoint(run)
    (run / "checkpoints" / "latest").write_text("step-00000005")
    with pytest.raises(CheckpointError, match=f"it is a run's checkpoints folder: pass the run, {run}$"):
        find_checkpoint(run / "checkpoints")
    models = tmp_path / "models"
    for name in ("b-model", "a-model"):
        _save(models / name, 1)
        newest = models / name / "checkpoints" / "step-00000001"
        for file in ("config.json", "model.safetensors"):  # a model folder: a checkpoint's two files, no run layout
            (newest / file).rename(models / name / file)
    (models / "notes").mkdir()
    with pytest.raises(CheckpointError, match=f"it holds these, pass one of them: {models / 'a-model'}, "
                       f"{models / 'b-model'}$"):
        find_checkpoint(models)
    with pytest.raises(CheckpointError, match=f"it holds these, pass one of them: {run}$"):
        find_checkpoint(tmp_path)
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("zebra2horse.onnx", "horse2zebra.onnx"):
        (exports / name).write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"it holds ONNX exports \(horse2zebra.onnx, zebra2horse.onnx\): "
                       r"translate.apply and translate.sample take such a file itself, the other commands the model "
                       r"folder it was exported from$"):
        find_checkpoint(exports)


def test_a_planted_pickle_is_never_executed(tmp_path):
    path, _ = _save(tmp_path, 1)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (path / "state.pt").write_bytes(pickle.dumps({"step": Exploit()}))
    with pytest.raises(CheckpointError, match="objects other than tensors and plain data, which could run code"):
        read_checkpoint(tmp_path).training_state()
    assert not marker.exists()


def test_corrupt_weights_and_state_files_are_clear_errors(tmp_path):
    path, _ = _save(tmp_path, 1)
    (path / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_generator(tmp_path)
    (path / "state.pt").write_bytes((path / "state.pt").read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"state.pt is not a readable training state \(PytorchStreamReader"):
        read_checkpoint(tmp_path).training_state()


@pytest.mark.parametrize(("text", "message"), [
    ('{"model"', r"config.json is not valid JSON \(Expecting ':' delimiter.*\): copy the folder again"),
    ('{"family": "dcgan", "model": {}, "train": null}', r"config.json holds 'model' or 'train' that is not a mapping"),
    ('{"model": {}}', r"config.json lacks the 'family' \(a name\) and 'model' keys of a translate checkpoint"),
    ('{"family": 3, "model": {}}', r"config.json lacks the 'family' \(a name\)"),
])
def test_a_damaged_config_is_one_line_naming_the_file(tmp_path, capsys, text, message):
    from translate.sample import main as sample_main

    from .cli_errors import one_line_error

    path, _ = _save(tmp_path / "run", 1)
    (path / "config.json").write_text(text)
    error = one_line_error(capsys, sample_main, str(tmp_path / "run"), "--out", str(tmp_path / "grid.png"))
    assert error.startswith(f"error: {path / 'config.json'}")
    assert re.search(message, error), error
    assert not (tmp_path / "grid.png").exists()


def test_model_folder_files_get_the_usual_permissions(tmp_path):
    import os

    from translate.modeling.checkpoint import write_model_folder

    write_model_folder(tmp_path / "model", "dcgan", CONFIG.to_dict(), {"generator": Generator(CONFIG)})
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.safetensors", "config.json"):  # safetensors replaces the file it writes
        assert (tmp_path / "model" / name).stat().st_mode & 0o777 == 0o666 & ~umask
    loaded, config = load_generator(tmp_path / "model")
    assert config == CONFIG


def test_loading_a_shipped_model_imports_neither_training_nor_the_compiler():
    """Reading a model is not training (sample, apply, evaluate and the judge stay light), and the
    shape check's meta-device skeleton is not initialised: that imported torch._dynamo, 2 s a
    command. One fresh process loads every shipped model in turn and says after each what it
    has imported, so the first model that pulls either in is the one named."""
    models = sorted(str(p) for p in (REPO / "models").iterdir() if p.is_dir())
    code = ("import sys; from translate.families import load_generator\n"
            f"for model in {models!r}:\n"
            "    load_generator(model)\n"
            "    print(model, sorted(m for m in ('translate.training', 'torch._dynamo') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.stdout.splitlines() == [f"{model} []" for model in models]
