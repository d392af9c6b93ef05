"""Every command the README and the Makefile document, run as written, as a subprocess, in a
fresh copy of the repository (``make demo`` once crashed while every other test passed: the
browser tests started the demo another way).

Each documented command is registered with :func:`documents`; ``test_every_documented_command_is_run``
fails when the README or the Makefile gains a command no test here runs. A command is run
verbatim through the shell; commands that are long by nature get a bounded form: arguments
appended after the documented ones (``--max-steps 1``, a smaller ``--n``), or a Makefile
target with its documented variables (``TRAIN_ARGS``, ``PYTEST_ARGS``, ``DEMO_ARGS``) and
this virtual environment (``VENV``, ``-o`` its stamp, so the target does not reinstall it).
Optional ``[...]`` groups are left out and placeholders (``DIR``, ``DIR1``) are filled in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

from demo.process import free_port, wait_until_serving
from translate.modeling.checkpoint import CONFIG, find_checkpoint

from .conftest import DOCS, REPO, copy_of_repository

VENV = Path(sys.prefix)
STAMP = VENV / "bin" / ".installed"  # the Makefile's record that VENV is set up
MAKE = f"make VENV={VENV} -o {STAMP}"
TINY_CYCLEGAN = "--ngf 8 --ndf 8 --n-blocks 1 --load-size 72 --crop-size 64 --no-compile --eval-every 0"

_RUNNERS: dict[str, str] = {}  # documented command -> the test that runs it


def documents(*commands: str) -> Callable:
    """Register the test function as the one that runs ``commands`` as the docs write them."""

    def register(test: Callable) -> Callable:
        for command in commands:
            _RUNNERS[_normal(command)] = test.__name__
        return test

    return register


def _normal(command: str) -> str:
    return " ".join(command.split())


def documented_commands() -> set[str]:
    """The shell blocks of the README and docs/, one command a line (``# or: CMD`` comments
    count as commands), and ``make TARGET`` for each phony target of the Makefile."""
    text = "".join(page.read_text() for page in DOCS)
    commands = set()
    for block in re.findall(r"^```(?:bash|sh|shell)\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            command, _, comment = line.partition(" #")
            if command.strip():
                commands.add(_normal(command))
            if match := re.match(r"\s*or:\s*(.+)", comment):
                commands.add(_normal(match.group(1)))
    makefile = (REPO / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M)
    assert phony, "the Makefile lost its .PHONY line"
    return commands | {f"make {target}" for target in phony.group(1).split()}


def concrete(command: str, fill: dict[str, str] | None = None, extra: str = "") -> str:
    """``command`` as documented, without its ``[optional]`` groups, placeholders filled, ``extra`` appended."""
    line = re.sub(r"\s*\[[^\]]*\]", "", command.partition(" #")[0])
    for placeholder, value in (fill or {}).items():
        line = re.sub(rf"\b{placeholder}\b", value, line)
    return _normal(f"{line} {extra}")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return copy_of_repository(tmp_path_factory.mktemp("fresh") / "translate")


def environment(data_root: Path) -> dict[str, str]:
    """A user's shell with this virtual environment first on PATH and the data folder set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST", "GRADIO"))}
    env.update(PATH=f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}", TRANSLATE_DATA=str(data_root))
    return env


def shell(line: str, cwd: Path, data_root: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``line`` through bash in ``cwd``, as a user types it."""
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=environment(data_root), capture_output=True,
                          text=True, timeout=timeout)


def succeeds(line: str, cwd: Path, data_root: Path, timeout: float = 600) -> str:
    result = shell(line, cwd, data_root, timeout)
    assert result.returncode == 0, f"{line!r} failed with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_every_documented_command_is_run():
    documented = documented_commands()
    assert len(documented) > 15, "the README's commands were not found"
    unrun = sorted(documented - set(_RUNNERS))
    assert not unrun, f"documented commands no test runs (register them with @documents): {unrun}"
    stale = sorted(set(_RUNNERS) - documented)
    assert not stale, f"commands tests run that the README and Makefile no longer document: {stale}"


# -- the quickstart --------------------------------------------------------------------------
@documents("make setup", "make lint", "make browser")
def test_setup_lint_and_browser_targets(clone, data_root):
    output = succeeds(f"{MAKE} setup", clone, data_root)
    assert "Nothing to be done" in output  # VENV is set up: the target must not rebuild it
    succeeds(f"{MAKE} lint", clone, data_root)  # ruff, clean on a fresh copy
    output = succeeds(f"{MAKE} browser", clone, data_root)
    # Chromium is there afterwards, or the target said why the browser tests will skip.
    assert shutil.which("chromium") or "note: no Chromium (apt-get install chromium)" in output


@documents("make train")
@pytest.mark.slow
def test_make_train_trains_exports_and_scores(clone, data_root):
    run = "runs/make-train"
    bounded = "EVAL_ARGS='--real-n 6'"
    output = succeeds(f"{MAKE} train RUN={run} TRAIN_ARGS='--max-steps 1 {TINY_CYCLEGAN}' {bounded}", clone, data_root)
    assert "--preset cpu" in output or "--gpu" in output  # the recipe for this machine
    for name in ("horse2zebra.onnx", "zebra2horse.onnx"):
        assert (clone / f"{run}-onnx" / name).stat().st_size > 10_000
    assert '"horse_to_zebra"' in output and '"zebra_to_horse"' in output  # translate.evaluate's JSON
    # Running it again continues the run rather than starting over.
    output = succeeds(f"{MAKE} train RUN={run} TRAIN_ARGS='--max-steps 2 {TINY_CYCLEGAN}' {bounded}", clone, data_root)
    assert "--resume" in output


@pytest.mark.slow
@documents("make test", "make test-fast")
def test_make_test_runs_pytest(clone, data_root):
    output = succeeds(f"{MAKE} test PYTEST_ARGS='tests/test_readme.py -k exists'", clone, data_root)
    assert "1 passed" in output and "bringing up nodes" in output  # pytest-xdist's workers
    output = succeeds(f"{MAKE} test XDIST= PYTEST_ARGS='tests/test_readme.py -k exists'", clone, data_root)
    assert "1 passed" in output and "bringing up nodes" not in output  # one process, as the README says
    output = succeeds(f"{MAKE} test-fast PYTEST_ARGS='tests/test_data_fetch.py'", clone, data_root)
    # Its slow tests left out (pytest-xdist's summary does not count what the workers deselect).
    collected = succeeds("python -m pytest --collect-only -q tests/test_data_fetch.py", clone, data_root)
    counts = re.search(r"(\d+)/(\d+) tests collected \((\d+) deselected\)", succeeds(
        "python -m pytest --collect-only -q -m 'not slow and not browser' tests/test_data_fetch.py", clone, data_root))
    fast, everything, slow = (int(n) for n in counts.groups())
    assert slow and fast + slow == everything and f"{everything} tests collected" in collected
    assert re.search(rf"\b{fast} passed\b", output) and "failed" not in output, output


# -- the demo --------------------------------------------------------------------------------
def serves(line: str, cwd: Path, data_root: Path, tmp_path: Path) -> str:
    """Start ``line`` (which must serve on ``{port}``), wait for the page, stop it; its log."""
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(["bash", "-c", line.format(port=port)], cwd=cwd, env=environment(data_root),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return log.read_text()


@documents("make demo", "python demo/app.py [--port 7860] [--share]")
@pytest.mark.slow
def test_demo_starts_as_documented(clone, data_root, tmp_path):
    log = serves(f"{MAKE} demo DEMO_ARGS='--port {{port}}'", clone, data_root, tmp_path)
    assert "Traceback" not in log, log
    serves(concrete("python demo/app.py [--port 7860]", extra="--port {port}"), clone, data_root, tmp_path)
    serves("python -m demo.app --port {port}", clone, data_root, tmp_path)


@pytest.mark.slow
def test_demo_starts_from_any_working_directory(clone, data_root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = serves(f"python {clone / 'demo' / 'app.py'} --port {{port}}", elsewhere, data_root, tmp_path)
    assert "Traceback" not in log, log


# -- training --------------------------------------------------------------------------------
@documents("python -m translate.train dcgan --out runs/dcgan [--loss bce|lsgan|wgan-gp|hinge] [--epochs 25]")
@pytest.mark.slow
def test_train_dcgan(clone, data_root):
    succeeds(concrete("python -m translate.train dcgan --out runs/dcgan", extra="--max-steps 1"), clone, data_root)
    find_checkpoint(clone / "runs" / "dcgan")


@documents("python -m translate.train cdcgan --out runs/cdcgan --dataset folder --data DIR")
@pytest.mark.slow
def test_train_cdcgan_on_a_folder(clone, data_root, digit_folder):
    line = concrete("python -m translate.train cdcgan --out runs/cdcgan --dataset folder --data DIR",
                    {"DIR": str(digit_folder)}, extra="--max-steps 1 --batch-size 8")
    succeeds(line, clone, data_root)
    find_checkpoint(clone / "runs" / "cdcgan")


@pytest.fixture(scope="module")
def cyclegan_run(clone, data_root) -> Path:
    """``runs/cyclegan-horse2zebra`` (the default ``--out``), trained by the README's CPU command,
    bounded to one step of tiny networks."""
    line = concrete("python -m translate.train cyclegan --domains horse zebra --preset cpu",
                    extra=f"--max-steps 1 {TINY_CYCLEGAN}")
    succeeds(line, clone, data_root)
    return clone / "runs" / "cyclegan-horse2zebra"


@documents("python -m translate.train cyclegan --domains horse zebra --preset cpu")
@pytest.mark.slow
def test_train_cyclegan_cpu_preset(cyclegan_run):
    config = json.loads((find_checkpoint(cyclegan_run) / CONFIG).read_text())
    assert config["train"]["preset"] == "cpu"


@documents("python -m translate.train cyclegan --domains horse zebra --gpu",
           "torchrun --nproc_per_node 4 -m translate.train cyclegan --domains horse zebra --gpu")
@pytest.mark.slow
def test_gpu_commands(clone, data_root):
    import torch

    single, four = ("python -m translate.train cyclegan --domains horse zebra --gpu",
                    "torchrun --nproc_per_node 4 -m translate.train cyclegan --domains horse zebra --gpu")
    for i, documented in enumerate((single, four)):
        if torch.cuda.is_available():
            # Each its own run folder (they are alternatives, not steps); the 4-GPU command on the
            # GPUs this machine has.
            gpus = min(4, torch.cuda.device_count())
            command = documented.replace("--nproc_per_node 4", f"--nproc_per_node {gpus}")
            succeeds(concrete(command, extra=f"--max-steps 1 --out runs/gpu-{i} {TINY_CYCLEGAN}"), clone, data_root)
            continue
        result = shell(concrete(documented, extra="--out runs/gpu"), clone, data_root)
        assert result.returncode != 0
        assert "error: --gpu was given but PyTorch sees no CUDA device" in result.stderr
        if documented.startswith("python"):  # torchrun adds its own report of a failed worker
            assert "Traceback" not in result.stderr, result.stderr


PAIRS = "python -m translate.pairs edges SRC OUT --test TEST --domains edges zebra"
PIX2PIX = "python -m translate.train pix2pix --dataset NAME --data DIR --out runs/pix2pix"
PIX2PIX_L1 = "python -m translate.train pix2pix --dataset NAME --data DIR --l1-only --out runs/pix2pix-l1"
PIX2PIX_EVALUATE = "python -m translate.evaluate runs/pix2pix --data DIR"
PIX2PIX_PRESET = ("python -m translate.train pix2pix --dataset edges2zebra --data DIR --preset cpu "
                  "--out runs/edges2zebra")
TINY_PIX2PIX = "--max-steps 1 --ngf 4 --ndf 4 --depth 5 --load-size 36 --crop-size 32 --workers 0"


@documents(PAIRS, PIX2PIX, PIX2PIX_L1, PIX2PIX_EVALUATE, PIX2PIX_PRESET)
@pytest.mark.slow
def test_pairs_from_zebras_train_pix2pix_and_its_baseline_and_score(clone, data_root):
    """docs/pix2pix.md: edges -> zebra pairs from a few zebras, both models and the CPU preset
    trained one step of tiny networks, and the GAN model scored on the test pairs."""
    for folder, split, count in (("zebras", "trainB", 4), ("zebras-test", "testB", 3)):
        (clone / folder).mkdir()
        for photo in sorted((data_root / "horse2zebra" / split).iterdir())[:count]:
            shutil.copy(photo, clone / folder / photo.name)
    fill = {"SRC": "zebras", "OUT": "data/edges2zebra", "TEST": "zebras-test", "NAME": "edges2zebra", "DIR": "data"}
    assert "wrote 4 training and 3 test pairs" in succeeds(concrete(PAIRS, fill), clone, data_root)
    for documented in (PIX2PIX, PIX2PIX_L1):
        succeeds(concrete(documented, fill, TINY_PIX2PIX), clone, data_root)
    succeeds(concrete(PIX2PIX_PRESET, fill, f"{TINY_PIX2PIX} --eval-every 0"), clone, data_root)
    preset_run = find_checkpoint(clone / "runs" / "edges2zebra")
    assert json.loads((preset_run / CONFIG).read_text())["train"]["preset"] == "cpu"
    weights = data_root / "fid" / "inception-2015-12-05-fid.pt"
    result = shell(concrete(PIX2PIX_EVALUATE, fill, f"--fid-weights {weights}"), clone, data_root)
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert {"fid", "l1", "psnr", "ssim"} <= scores["edges_to_zebra"].keys()


@pytest.fixture(scope="module")
def horse_model(clone, data_root, cyclegan_run) -> Path:
    """``models/cyclegan-horse2zebra`` of the copy: the shipped model, or until one ships, the
    bounded run packed there by the documented ``translate.pack``."""
    model = clone / "models" / "cyclegan-horse2zebra"
    if not model.is_dir():
        succeeds(f"python -m translate.pack {cyclegan_run} --out models/cyclegan-horse2zebra", clone, data_root)
    return model


@pytest.fixture(scope="module")
def photos(clone, data_root) -> list[Path]:
    """Two test horses in the copy's ``photos/``, as a user's folder of photos; the originals."""
    (clone / "photos").mkdir()
    horses = sorted((data_root / "horse2zebra" / "testA").glob("*.jpg"))[:2]
    for horse in horses:
        shutil.copy(horse, clone / "photos" / horse.name)
    return horses


def assert_translated(folder: Path, horses: list[Path]) -> None:
    for horse in horses:
        written = sorted(folder.glob(f"{horse.stem}.*"))
        assert written, f"no translation of {horse.name} in {folder}"
        assert cv2.imread(str(written[0])).shape == cv2.imread(str(horse)).shape


@documents("python -m translate.apply models/cyclegan-horse2zebra --input photos/ --output zebras/ --direction AtoB")
@pytest.mark.slow
def test_apply_to_a_folder(clone, data_root, horse_model, photos):
    shutil.rmtree(clone / "zebras", ignore_errors=True)
    succeeds("python -m translate.apply models/cyclegan-horse2zebra --input photos/ --output zebras/ --direction AtoB",
             clone, data_root)
    assert_translated(clone / "zebras", photos)


@documents("python -m translate.apply exports/horse2zebra.onnx --input photos/ --output zebras/")
@pytest.mark.slow
def test_apply_an_onnx_file(clone, data_root, horse_model, photos):
    """The shipped export, or until it ships, one of the packed model made where it would be (and removed after)."""
    exported = clone / "exports" / "horse2zebra.onnx"
    made = not exported.is_file()
    if made:
        succeeds("python -m translate.export models/cyclegan-horse2zebra --direction AtoB "
                 "--out exports/horse2zebra.onnx", clone, data_root)
    try:
        shutil.rmtree(clone / "zebras", ignore_errors=True)
        succeeds("python -m translate.apply exports/horse2zebra.onnx --input photos/ --output zebras/", clone,
                 data_root)
        assert_translated(clone / "zebras", photos)
    finally:
        if made:
            exported.unlink()


@documents("python -m translate.sample models/cyclegan-horse2zebra --n 4 --seed 0 --out grid.png")
@pytest.mark.slow
def test_sample_a_cyclegan(clone, data_root, horse_model):
    succeeds("python -m translate.sample models/cyclegan-horse2zebra --n 4 --seed 0 --out grid.png", clone, data_root)
    grid = cv2.imread(str(clone / "grid.png"))
    assert grid.shape[0] > 4 * 256 and grid.shape[1] > 6 * 256  # 4 rows of six 256-px images


# -- data ------------------------------------------------------------------------------------
@pytest.mark.slow
@documents("python -m translate.data fetch --data data", "python -m translate.data list --data data")
def test_fetch_and_list_the_data(clone, data_root):
    """With the data already in ./data (linked from the real copies), fetch downloads nothing
    and checks every file against its published sha256, as list does."""
    (clone / "data").mkdir(exist_ok=True)
    for name in ("mnist", "horse2zebra", "fid"):
        if not (clone / "data" / name).exists():
            (clone / "data" / name).symlink_to(data_root / name)
    for command in ("python -m translate.data fetch --data data", "python -m translate.data list --data data"):
        output = succeeds(command, clone, data_root)
        assert output.count(": ok (") == 3, output


# -- sampling, evaluation and export ---------------------------------------------------------
@documents("python -m translate.sample models/cdcgan-mnist --n 64 --label 7 --seed 0 --out sevens.png")
@pytest.mark.slow
def test_sample_sevens(clone, data_root):
    succeeds("python -m translate.sample models/cdcgan-mnist --n 64 --label 7 --seed 0 --out sevens.png", clone,
             data_root)
    grid = cv2.imread(str(clone / "sevens.png"), cv2.IMREAD_GRAYSCALE)
    assert grid.shape[0] >= 8 * 28 and grid.shape[1] >= 8 * 28 and grid.std() > 10


@documents("python -m translate.sample exports/cdcgan-mnist.onnx --n 64 --label 7 --seed 0 --out sevens-onnx.png")
@pytest.mark.slow
def test_sample_sevens_from_the_onnx_file(clone, data_root):
    succeeds("python -m translate.sample exports/cdcgan-mnist.onnx --n 64 --label 7 --seed 0 --out sevens-onnx.png",
             clone, data_root)
    grid = cv2.imread(str(clone / "sevens-onnx.png"), cv2.IMREAD_GRAYSCALE)
    assert grid.shape == (2 + 8 * 30, 2 + 8 * 30) and grid.std() > 10


@pytest.mark.slow
@documents("python -m translate.sample models/cdcgan-mnist --interpolate-labels 3 8 --steps 8 --n 4 --out walk.gif")
def test_a_walk_between_digits_as_an_animation(clone, data_root):
    succeeds("python -m translate.sample models/cdcgan-mnist --interpolate-labels 3 8 --steps 8 --n 4 --out walk.gif",
             clone, data_root)
    ok, animation = cv2.imreadanimation(str(clone / "walk.gif"))
    assert ok and len(animation.frames) == 8


@documents("python -m translate.evaluate models/cdcgan-mnist --n 10000")
@pytest.mark.slow
def test_evaluate_a_digit_model(clone, data_root):
    output = succeeds(concrete("python -m translate.evaluate models/cdcgan-mnist --n 10000",
                               extra="--n 20 --real-n 20"), clone, data_root)
    assert '"fid"' in output and '"conditional_accuracy"' in output


@documents("python -m translate.evaluate --folders DIR1 DIR2")
@pytest.mark.slow
def test_evaluate_two_folders(clone, data_root, tmp_path):
    folders = {}
    for name, domain in (("DIR1", "testA"), ("DIR2", "testB")):
        folders[name] = str(tmp_path / domain)
        os.mkdir(folders[name])
        for photo in sorted((data_root / "horse2zebra" / domain).glob("*.jpg"))[:4]:
            shutil.copy(photo, folders[name])
    output = succeeds(concrete("python -m translate.evaluate --folders DIR1 DIR2", folders), clone, data_root)
    assert '"fid"' in output and '"kid"' in output


@documents("python -m translate.export models/cdcgan-mnist --out exports/cdcgan-mnist.onnx [--fp16 | --fp16-weights]")
@pytest.mark.slow
def test_export_a_digit_model(clone, data_root):
    target = clone / "exports" / "cdcgan-mnist.onnx"  # the shipped file, which a fresh clone holds
    command = "python -m translate.export models/cdcgan-mnist --out exports/cdcgan-mnist.onnx"
    succeeds(concrete(command), clone, data_root)
    full = target.stat().st_size
    assert full > 100_000
    succeeds(concrete(command, extra="--fp16-weights"), clone, data_root)
    assert target.stat().st_size < 0.55 * full


@documents("python -m translate.export runs/cyclegan-horse2zebra --out exports/horse2zebra.onnx --direction AtoB")
@pytest.mark.slow
def test_export_a_cyclegan_run(clone, data_root, cyclegan_run):
    target = clone / "exports" / "horse2zebra.onnx"
    target.unlink(missing_ok=True)
    succeeds("python -m translate.export runs/cyclegan-horse2zebra --out exports/horse2zebra.onnx --direction AtoB",
             clone, data_root)
    assert target.stat().st_size > 10_000
