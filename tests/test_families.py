"""The family contract and the package's layers: every command finds a family by name, the
torch-free modules import without torch, no import runs upward, and the defects the review
of the family refactor found stay fixed."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from translate.cli import run_cli
from translate.families import all_families, get_family, load_generator
from translate.families.base import Family
from translate.families.dcgan.nets import DCGANConfig
from translate.families.dcgan.recipe import GANRecipe
from translate.families.dcgan.settings import GANHyper
from translate.io.images import read_image
from translate.runtime import Sampler
from translate.sample import main as sample_main
from translate.train import main as train_main

from .cli_errors import one_line_error, run_without_torch
from .exporting import trained_run

PACKAGE = Path(__file__).resolve().parents[1] / "translate"
# Layers, lowest first: a module may import from its own layer and the ones below it only.
LAYERS = [
    ("translate", "translate.errors", "translate.config", "translate.latent", "translate.io",
     "translate.onnx_contract", "translate.runtime"),
    ("translate.modeling", "translate.datasets", "translate.onnx_export"),
    ("translate.training",),
    ("translate.evaluation",),
    ("translate.families",),
    ("translate.cli", "translate.train", "translate.sample", "translate.apply", "translate.checkpoint_models",
     "translate.export", "translate.evaluate", "translate.classifier", "translate.pack", "translate.data",
     "translate.pairs", "translate.model_card", "translate.card", "translate.resume_flags"),
]
TORCH_FREE = ["translate.runtime", "translate.io.images", "translate.io.imageheader", "translate.io.fileio",
              "translate.io.pixels", "translate.io.download", "translate.onnx_contract", "translate.latent",
              "translate.arguments", "translate.command_line", "translate.onnx_models", "translate.apply",
              "translate.progress", "translate.sample", "translate.io.grids"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best, level = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level is not None, f"{module} is in no layer: add it to LAYERS"
    return level


def _imports(path: Path) -> list[str]:
    """translate.* modules a file imports at run time (TYPE_CHECKING blocks excluded)."""
    tree = ast.parse(path.read_text())
    skipped = {id(node) for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
               for node in ast.walk(n)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("translate"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("translate")]
    return found


def test_no_import_runs_upward():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        for target in _imports(path):
            if _layer(target) > _layer(module):
                upward.append(f"{module} -> {target}")
    assert not upward, upward


def test_the_runtime_and_the_io_modules_import_without_torch():
    code = "import sys; sys.modules['torch'] = None\n" + "".join(f"import {m}\n" for m in TORCH_FREE)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr


def test_a_torch_command_without_torch_is_a_one_line_error_with_the_command_line_code():
    result = run_without_torch("train", "cyclegan", "--out", "run")
    assert result.returncode == 2  # as every command-line error (run_cli's)
    assert result.stderr.strip().splitlines() == [
        "error: this command needs PyTorch, which the runtime-only install leaves out: "
        "pip install 'translate-gan[train]' (or pip install -e '.[train]' in a clone)"]


@pytest.mark.slow
def test_every_family_is_found_by_its_name_and_declares_what_the_commands_need():
    families = all_families()
    in_tree = {path.parent.name for path in (PACKAGE / "families").glob("*/__init__.py")}
    assert {type(family).__module__.split(".")[2] for family in families.values()} == in_tree
    for name, family in families.items():
        assert isinstance(family, Family) and family.name == name and get_family(name) is family
        assert family.task in ("sample", "translate") and family.summary
        assert bool(family.directions) == (family.task == "translate")
    help_text = subprocess.run([sys.executable, "-m", "translate.train", "--help"], capture_output=True, text=True,
                               cwd=PACKAGE.parent).stdout
    assert all(name in help_text for name in families)


def test_resuming_from_edited_training_settings_is_a_one_line_error_naming_the_file(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=2)
    config_file = run / "checkpoints" / "step-00000002" / "config.json"
    original = json.loads(config_file.read_text())
    edits = {
        "an unknown key": (lambda c: c["train"].update(speed="fast"), "unknown key 'speed'"),
        "a wrong type": (lambda c: c["train"]["hyper"].update(lr="fast"), "hyper.lr must be float, got 'fast'"),
        "a missing key": (lambda c: c["train"].pop("seed"), "lacks the key 'seed'"),
        "a value no run can use": (lambda c: c["train"]["hyper"].update(beta1=2.0), "--beta1 must lie in"),
    }
    for edit, message in edits.values():
        config = json.loads(json.dumps(original))
        edit(config)
        config_file.write_text(json.dumps(config))
        error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume", "--max-steps", "3")
        assert message in error and str(config_file) in error


def test_a_bad_model_config_names_its_file(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=1)
    config_file = run / "checkpoints" / "step-00000001" / "config.json"
    config = json.loads(config_file.read_text())
    config["model"]["z_dim"] = "100"
    config_file.write_text(json.dumps(config))
    error = one_line_error(capsys, sample_main, str(run), "--out", str(tmp_path / "x.png"))
    assert str(config_file) in error and "z_dim must be int" in error


def test_the_sample_grid_leaves_both_generators_as_it_found_them():
    config = DCGANConfig(z_dim=8, ngf=4, ndf=4)
    recipe = GANRecipe(config, GANHyper(ema=0.5), torch.device("cpu"))
    recipe.generator.eval()  # e.g. while something else samples from the live generator
    recipe.sample_grid()
    assert not recipe.generator.training and not recipe.generator_ema.training
    recipe.generator.train()
    recipe.sample_grid()
    assert recipe.generator.training and not recipe.generator_ema.training


@pytest.mark.slow
def test_one_seed_draws_the_same_digits_in_the_cli_the_runtime_and_the_demo(tmp_path, onnx_files):
    from demo.digits import digit_grid
    from demo.models import DemoModels

    run = trained_run(tmp_path, "cdcgan")
    grid_file = tmp_path / "grid.png"
    run_cli(sample_main, [str(run), "--n", "10", "--seed", "3", "--nrow", "10", "--out", str(grid_file)])
    grid = read_image(grid_file)
    cli = np.stack([grid[2:30, 2 + i * 30 : 30 + i * 30, :1] for i in range(10)])  # 2-px gaps between cells
    exports = tmp_path / "exports"
    exports.mkdir()
    from translate.families import export_model

    export_model(run, exports / "cdcgan-mnist.onnx")
    runtime = Sampler(exports / "cdcgan-mnist.onnx").sample(10, seed=3)
    assert np.abs(cli.astype(int) - runtime.astype(int)).max() <= 1  # ONNX Runtime and PyTorch round alike
    demo = digit_grid(DemoModels.load(exports), "cdcgan", "all", 10, 3, 3, 0.0)
    cells = np.stack([demo[6:90:3, 6 + i * 90 : 90 + i * 90 : 3, :1] for i in range(10)])  # 3x scale
    assert np.array_equal(cells, runtime)
    other_seed = Sampler(exports / "cdcgan-mnist.onnx").sample(10, seed=4)
    assert not np.array_equal(other_seed, runtime)


def test_a_grey_cyclegan_trains_exports_and_translates_end_to_end(tmp_path, horse_photo):
    from translate.families import export_model
    from translate.runtime import Translator

    from .cyclegan_data import horse2zebra, horse_zebra_argv

    data, run = horse2zebra(tmp_path / "data"), tmp_path / "run"
    run_cli(train_main, [*horse_zebra_argv(data, "--out", str(run), "--max-steps", "2"), "--channels", "1"])
    generator, config = load_generator(run)
    assert config.channels == 1 and generator(torch.zeros(1, 1, 32, 32)).shape == (1, 1, 32, 32)
    export_model(run, tmp_path / "grey.onnx")
    translated = Translator(tmp_path / "grey.onnx").translate_file(horse_photo)
    assert translated.shape == (256, 256, 1)
    assert Translator(tmp_path / "grey.onnx").translate(read_image(horse_photo)).shape == (256, 256, 1)


@pytest.mark.parametrize("family", ["cdcgan", "cyclegan"])
def test_pack_writes_a_model_folder_of_generators_that_every_command_takes(tmp_path, family, capsys):
    from safetensors import safe_open

    from translate.families import export_model
    from translate.pack import main as pack_main

    run = trained_run(tmp_path, family, steps=2)
    run_cli(pack_main, [str(run), "--out", str(tmp_path / "model")])
    with safe_open(tmp_path / "model" / "model.safetensors", "pt") as weights:
        prefixes = {name.split(".")[0] for name in weights.keys()}  # noqa: SIM118
    assert prefixes == ({"generator"} if family == "cdcgan" else {"generator_AtoB", "generator_BtoA"})
    assert not (tmp_path / "model" / "state.pt").exists()
    assert (tmp_path / "model" / "metrics.jsonl").read_bytes() == (run / "metrics.jsonl").read_bytes()
    live, _ = load_generator(run)
    packed, _ = load_generator(tmp_path / "model")
    for (name, a), (_, b) in zip(live.state_dict().items(), packed.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    export_model(tmp_path / "model", tmp_path / "packed.onnx")
    run_cli(pack_main, [str(tmp_path / "model"), "--out", str(tmp_path / "again")])
    assert (tmp_path / "again" / "metrics.jsonl").read_bytes() == (run / "metrics.jsonl").read_bytes()
    error = one_line_error(capsys, pack_main, str(run), "--out", str(run / "model"))
    assert "which it packs: choose a new folder outside it" in error
