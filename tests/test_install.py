"""Installs as the README describes them, each in a fresh virtual environment: the base install
is the torch-free runtime, which runs the documented embedding example with no PyTorch anywhere;
the demo extra adds only Gradio on top; the train extra runs every console command, trains
and scores from the installed package alone; a command line that needs PyTorch names the extra.

The environments are filled without a network: the project's wheel, plus each declared
requirement's installed files linked from this environment (the closure of the requirements
as their own metadata declares them), so a module the runtime imports but the base install
does not declare is missing there, as it would be for a user. ``pip check`` confirms that
every declared requirement is met.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from demo.process import free_port, wait_until_serving
from translate.io.fileio import write_image
from translate.io.images import read_image

from .conftest import REPO, embedding_example


def requirement_closure(names: list[str]) -> set[str]:
    """The distributions the requirements ``names`` need, transitively, as their metadata
    declares, with the extras each requirement asks for (e.g. torch's ``cuda-toolkit[cufile]``)."""
    needed: set[tuple[str, str]] = set()  # (distribution, extra or "")
    pending = list(names)
    while pending:
        requirement = Requirement(pending.pop())
        name = requirement.name.lower().replace("_", "-")
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in needed:
                continue
            needed.add((name, extra))
            for declared in importlib.metadata.requires(name) or []:
                marker = Requirement(declared).marker
                if marker is None or marker.evaluate({"extra": extra}):
                    pending.append(declared)
    return {name for name, _ in needed}


def project_requirements(extras: tuple[str, ...] = ()) -> list[str]:
    """The project's own requirements from pyproject.toml: the base list and the ``extras``."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += [r for r in project["optional-dependencies"][extra] if not r.startswith("translate[")]
    return listed


def fresh_environment(root: Path, wheel: Path, extras: tuple[str, ...] = ()) -> Path:
    """A new virtual environment holding the wheel and what ``extras`` declare, nothing more; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in requirement_closure(["pip", *project_requirements(extras)]):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            source = Path(distribution.locate_file(file)).resolve()
            if file.parts[0] == ".." or "__pycache__" in file.parts or not source.is_file():
                continue  # scripts in bin/ and compiled caches stay behind
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(source)
    subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True)
    return python


def run(python: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory, wheel) -> Path:
    return fresh_environment(tmp_path_factory.mktemp("runtime") / "venv", wheel)


@pytest.mark.slow
def test_the_runtime_install_runs_the_embedding_example_without_torch(runtime_python, tmp_path):
    checked = run(runtime_python, "-m", "pip", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    installed = run(runtime_python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout.lower()
    for heavy in ("torch", "torchvision", "gradio", "albumentations", "tensorboard"):
        assert not re.search(rf"^{heavy}==", installed, re.M), f"the runtime install pulled in {heavy}"
    assert run(runtime_python, "-c", "import torch", cwd=tmp_path).returncode != 0

    example = embedding_example()
    (tmp_path / "exports").symlink_to(REPO / "exports")
    result = run(runtime_python, "-c", example, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("['0', '1'")
    assert (tmp_path / "digits.png").stat().st_size > 1000


COMMANDS = ("train", "sample", "apply", "export", "evaluate", "pack", "card")
CONSOLE_COMMANDS = (*COMMANDS, "data", "pairs")  # every translate-* script pyproject.toml installs


def test_a_command_that_needs_torch_names_the_extra_to_install(runtime_python, tmp_path):
    write_image(tmp_path / "photo.png", np.zeros((8, 8, 3), np.uint8))
    modules = [c for c in COMMANDS if c not in ("apply", "sample")] + ["classifier"]  # the judge's trainer: no command
    # apply and sample need PyTorch for a checkpoint ("run"), not for an ONNX file
    on_checkpoints = [("-m", "translate.apply", "run", "--input", "photo.png", "--output", "out"),
                      ("-m", "translate.sample", "run", "--out", "grid.png")]
    helps = [("-m", f"translate.{command}", "--help") for command in modules]
    for argv in [*helps, *on_checkpoints, ("translate-train",)]:
        if argv[0] == "translate-train":  # the console command, installed beside the interpreter
            result = subprocess.run([str(runtime_python.parent / argv[0])], cwd=tmp_path, capture_output=True,
                                    text=True, timeout=120)
        else:
            result = run(runtime_python, *argv, cwd=tmp_path)
        assert result.returncode == 2  # as every command-line error
        assert result.stderr.strip().splitlines() == [
            "error: this command needs PyTorch, which the runtime-only install leaves out: "
            "pip install 'translate-gan[train]' (or pip install -e '.[train]' in a clone)"
        ], f"{argv}: {result.stderr}"


def test_the_runtime_install_applies_and_samples_onnx_files(runtime_python, translator_file, data_root, tmp_path):
    (tmp_path / "horses").mkdir()
    for horse in sorted((data_root / "horse2zebra" / "testA").iterdir())[:2]:
        shutil.copy(horse, tmp_path / "horses" / horse.name)
    for argv in [("translate-apply", str(translator_file[1]), "--input", "horses", "--output", "zebras"),
                 ("translate-sample", str(REPO / "exports" / "cdcgan-mnist.onnx"), "--label", "7", "--out", "7.png")]:
        result = subprocess.run([str(runtime_python.parent / argv[0]), *argv[1:]], cwd=tmp_path, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    for horse in (tmp_path / "horses").iterdir():
        assert read_image(tmp_path / "zebras" / horse.name).shape == read_image(horse).shape
    assert read_image(tmp_path / "7.png").shape == (2 + 8 * 30, 2 + 8 * 30, 3)  # 64 sevens, 8 to a row


def test_the_distributions_hold_the_license_notices_and_the_judge(distributions):
    import tarfile
    import zipfile

    wheel, sdist = distributions
    assert wheel.name.startswith("translate_gan-") and sdist.name.startswith("translate_gan-")
    in_wheel = zipfile.ZipFile(wheel).namelist()
    with tarfile.open(sdist) as archive:
        in_sdist = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    for names in (in_wheel, in_sdist):  # the judge that conditional accuracy needs, in a plain install too
        assert "translate/evaluation/mnist-classifier/model.safetensors" in names
        assert "translate/evaluation/mnist-classifier/config.json" in names
        assert "translate/runtime.py" in names
    assert not any(name.startswith("tests/") for name in in_wheel + in_sdist)
    assert {"LICENSE", "NOTICE.md", "pyproject.toml", "README.md"} <= set(in_sdist)
    assert any(name.endswith("licenses/LICENSE") for name in in_wheel)
    assert any(name.endswith("licenses/NOTICE.md") for name in in_wheel)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in in_wheel if n.endswith("entry_points.txt")))
    assert all(f"translate-{command} = translate.{command}:run" in entry_points.decode()
               for command in CONSOLE_COMMANDS)


@pytest.mark.slow
def test_the_train_extra_runs_every_command_and_trains_and_scores_from_the_installed_package(
        tmp_path_factory, wheel, tmp_path, data_root):
    python = fresh_environment(tmp_path_factory.mktemp("train") / "venv", wheel, extras=("train",))
    bin_dir = python.parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "TRANSLATE_DATA": str(data_root),
           "TRANSLATE_CACHE": str(tmp_path / "cache")}

    def command(*argv: str) -> str:
        result = subprocess.run([str(bin_dir / argv[0]), *argv[1:]], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, f"{argv}: {result.stderr}"
        return result.stdout

    for name in CONSOLE_COMMANDS:
        assert "usage: " in command(f"translate-{name}", "--help")
    command("translate-train", "cdcgan", "--out", "run", "--max-steps", "2", "--ngf", "8", "--ndf", "8",
            "--z-dim", "16", "--batch-size", "16")
    scores = json.loads(command("translate-evaluate", "run", "--n", "20", "--real-n", "20"))
    assert "conditional_accuracy" in scores  # the judge, read from the installed package's data
    located = run(python, "-c", "import translate; print(translate.__file__)", cwd=tmp_path).stdout
    assert str(REPO) not in located and "site-packages" in located


@pytest.mark.slow
def test_the_demo_extra_serves_the_demo_without_torch(tmp_path_factory, wheel, tmp_path):
    python = fresh_environment(tmp_path_factory.mktemp("demo") / "venv", wheel, extras=("demo",))
    assert run(python, "-c", "import torch", cwd=tmp_path).returncode != 0
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(python), str(REPO / "demo" / "app.py"), "--port", str(port)], cwd=tmp_path,
                                  env={"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", server, log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log.read_text()
