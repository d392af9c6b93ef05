"""Shared fixtures. Tests read real data from ../shared/data unless TRANSLATE_DATA says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

# Under pytest-xdist (`make test` runs a worker per core) each worker, and each command a test
# starts, gets its share of the cores for torch's threads; every worker spinning OpenMP threads
# on every core would slow all of them. Set before numpy or torch is imported.
if workers := os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // int(workers))))

import numpy as np  # noqa: E402
import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TRANSLATE_DATA", str(REPO.parent / "shared" / "data"))
# No test may reach the network, even through a bug that downloads again: every server a test
# does not set itself (a local one) is the discard port, which refuses at once. The commands
# tests start inherit this.
OFFLINE_URLS = {"TRANSLATE_MNIST_URL": "http://127.0.0.1:9/{file}", "TRANSLATE_FID_URL": "http://127.0.0.1:9/fid.pt",
                "TRANSLATE_CYCLEGAN_URL": "http://127.0.0.1:9/{name}.zip",
                "TRANSLATE_PIX2PIX_URL": "http://127.0.0.1:9/{name}.tar.gz"}
for _name, _url in OFFLINE_URLS.items():
    os.environ.setdefault(_name, _url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tiers by where a test lives and what it reads: tests/browser are ``browser``, tests
    that use the real data (the ``data_root`` fixture, directly or through another) ``real_data``."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if "data_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_data)


DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]  # the documentation, front page first


def embedding_example() -> str:
    """The runtime's embedding example, as docs/onnx.md shows it (after its marker comment)."""
    import re

    match = re.search(r"<!-- embedding-example -->\n```python\n(.*?)```", (REPO / "docs" / "onnx.md").read_text(), re.S)
    assert match, "docs/onnx.md lost its embedding example"
    return match.group(1)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder. Where it is missing the tests that need it skip, with the command
    that fetches it, unless TRANSLATE_REQUIRE_DATA=1 (CI) makes that a failure."""
    root = Path(os.environ["TRANSLATE_DATA"])
    missing = [name for name in ("mnist/MNIST/raw", "horse2zebra/testA", "fid/inception-2015-12-05-fid.pt")
               if not (root / name).exists()]
    if missing:
        message = (f"real test data not found under {root} (no {', '.join(missing)}): set TRANSLATE_DATA to the "
                   f"folder that holds it, or fetch it with: python -m translate.data fetch --data {root}")
        if os.environ.get("TRANSLATE_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def mnist_test(data_root):
    from translate.datasets.mnist import load_mnist

    return load_mnist(data_root, "test")


@pytest.fixture
def digit_folder(tmp_path, mnist_test) -> Path:
    """Real MNIST test digits written as PNGs in one sub-folder per class (4 per class)."""
    import cv2

    images, labels = mnist_test
    root = tmp_path / "digits"
    counts: dict[int, int] = {}
    for image, label in zip(images.numpy(), labels.tolist(), strict=True):
        if counts.get(label, 0) == 4:
            continue
        counts[label] = counts.get(label, 0) + 1
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / str(label) / f"{label}_{counts[label]}.png"), np.asarray(image))
        if len(counts) == 10 and all(c == 4 for c in counts.values()):
            break
    return root


@pytest.fixture(scope="session")
def onnx_files(tmp_path_factory):
    """Exports of tiny DCGAN and cDCGAN generators, trained for a few steps on MNIST."""
    from translate.families import export_model as export

    from .exporting import trained_run

    root = tmp_path_factory.mktemp("onnx")
    files = {}
    for family in ("dcgan", "cdcgan"):
        files[family] = root / f"{family}.onnx"
        export(trained_run(root, family), files[family])
    return files


@pytest.fixture(scope="session")
def translator_file(tmp_path_factory):
    """(run folder, ONNX export) of a tiny CycleGAN trained for a few steps on horse2zebra."""
    from translate.families import export_model as export

    from .exporting import trained_run

    root = tmp_path_factory.mktemp("cyclegan")
    run = trained_run(root, "cyclegan")
    export(run, root / "horse2zebra.onnx")
    return run, root / "horse2zebra.onnx"


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory, translator_file) -> Path:
    """The demo's exports folder: shipped digit models, the tiny real-trained CycleGAN both
    ways and a tiny pix2pix trained on edges of real zebras as the sketch model."""
    from demo.process import assemble_exports

    from .exporting import trained_sketch_run

    sketch_run = trained_sketch_run(tmp_path_factory.mktemp("sketch"))
    return assemble_exports(tmp_path_factory.mktemp("demo") / "exports", translator_file[0], sketch_run)


def with_scores(source: Path, dest: Path, **values: str) -> Path:
    """A copy of an exported file whose metadata says it scored ``values`` (fid, kid, scored):
    what translate.export writes from an evaluation.json (tests/test_scores_in_exports.py)."""
    import onnx

    model = onnx.load(str(source))
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props},
                                        **{f"translate.{key}": value for key, value in values.items()}})
    onnx.save(model, str(dest))
    return dest


@pytest.fixture(scope="session")
def demo_exports_with_choices(tmp_path_factory, demo_exports) -> Path:
    """The demo's exports and a tiny real CUT each way. Horse → zebra: CUT scored below the
    CycleGAN; zebra → horse: the CycleGAN scored, CUT not."""
    from translate.families import export_model

    from .exporting import trained_run

    exports = tmp_path_factory.mktemp("choices") / "exports"
    exports.mkdir()
    for file in demo_exports.iterdir():
        (exports / file.name).write_bytes(file.read_bytes())
    scored = "120 horse test images against 140 zebra test images"
    with_scores(demo_exports / "horse2zebra.onnx", exports / "horse2zebra.onnx", fid="97.61", kid="0.05",
                scored=scored)
    with_scores(demo_exports / "zebra2horse.onnx", exports / "zebra2horse.onnx", fid="120.04", kid="0.07",
                scored="140 zebra test images against 120 horse test images")
    cut = trained_run(tmp_path_factory.mktemp("cut"), "cut", steps=2)
    export_model(cut, exports / "cut-horse2zebra.onnx")
    with_scores(exports / "cut-horse2zebra.onnx", exports / "cut-horse2zebra.onnx", fid="60.24", kid="0.02",
                scored=scored)
    back = trained_run(tmp_path_factory.mktemp("cut-back"), "cut", steps=2, extra=("--domains", "zebra", "horse"))
    export_model(back, exports / "cut-zebra2horse.onnx")
    return exports


@pytest.fixture(scope="session")
def horse_photo(data_root) -> Path:
    """A real horse from the horse2zebra test set (256 x 256 JPEG)."""
    return data_root / "horse2zebra" / "testA" / "n02381460_1010.jpg"


def copy_of_repository(root: Path) -> Path:
    """A fresh working copy at ``root``: the repository's files as git sees them (tracked, and
    untracked but not ignored), nothing built or ignored."""
    import shutil
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    return root


@pytest.fixture(scope="session")
def distributions(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel, sdist) of the project, built with ``python -m build`` from a fresh copy (so the
    build leaves nothing in the checkout)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("dist")
    source = copy_of_repository(root / "source")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "-o", str(root), str(source)], check=True,
                   capture_output=True)
    [wheel], [sdist] = root.glob("*.whl"), root.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="session")
def wheel(distributions) -> Path:
    return distributions[0]
