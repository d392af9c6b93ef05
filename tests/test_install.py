"""Installs as the README describes them, each in a fresh virtual environment: the base install
is the torch-free runtime, which runs the README's embedding example with no PyTorch anywhere;
the demo extra adds only Gradio on top; a command line that needs PyTorch names the extra.

The environments are filled without a network: the project's wheel, plus each declared
requirement's installed files linked from this environment (the closure of the requirements
as their own metadata declares them), so a module the runtime imports but the base install
does not declare is missing there, as it would be for a user. ``pip check`` confirms that
every declared requirement is met.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from demo.process import free_port, wait_until_serving

from .conftest import REPO


def requirement_closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need, transitively, as their metadata declares (their optional
    extras left out)."""
    needed: set[str] = set()
    pending = list(names)
    while pending:
        requirement = Requirement(pending.pop())
        name = requirement.name.lower().replace("_", "-")
        if name in needed:
            continue
        needed.add(name)
        for declared in importlib.metadata.requires(name) or []:
            parsed = Requirement(declared)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                pending.append(declared)
    return needed


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


def test_the_runtime_install_runs_the_embedding_example_without_torch(runtime_python, tmp_path):
    checked = run(runtime_python, "-m", "pip", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    installed = run(runtime_python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout.lower()
    for heavy in ("torch", "torchvision", "gradio", "albumentations", "tensorboard"):
        assert not re.search(rf"^{heavy}==", installed, re.M), f"the runtime install pulled in {heavy}"
    assert run(runtime_python, "-c", "import torch", cwd=tmp_path).returncode != 0

    readme = (REPO / "README.md").read_text()
    example = re.search(r"<!-- embedding-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "exports").symlink_to(REPO / "exports")
    result = run(runtime_python, "-c", example, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("['0', '1'")
    assert (tmp_path / "digits.png").stat().st_size > 1000


def test_a_command_that_needs_torch_names_the_extra_to_install(runtime_python, tmp_path):
    for command in ("train", "sample", "apply", "export", "evaluate", "pack"):
        result = run(runtime_python, "-m", f"translate.{command}", "--help", cwd=tmp_path)
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            "error: this command needs PyTorch, which the runtime-only install leaves out: "
            "pip install 'translate[train]' (or pip install -e '.[train]' in a clone)"
        ], f"translate.{command}: {result.stderr}"


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
