"""The README's embedding example runs verbatim, on the shipped ONNX file, without torch."""

import re
import subprocess
import sys

from .conftest import REPO


def test_embedding_example_runs_verbatim_without_torch(tmp_path):
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- embedding-example -->\n```python\n(.*?)```", readme, re.S)
    assert match, "the README lost its embedding example"
    (tmp_path / "exports").symlink_to(REPO / "exports")
    blocker = "import sys\nsys.modules['torch'] = None  # the example must not need PyTorch\n"
    result = subprocess.run(
        [sys.executable, "-c", blocker + match.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("['0', '1'")
    import cv2

    strip = cv2.imread(str(tmp_path / "digits.png"), cv2.IMREAD_UNCHANGED)
    assert strip.shape == (56, 224) and strip.std() > 10  # two rows of 8 digits, not blank


def test_every_test_and_benchmark_the_readme_names_exists():
    """The Reliability table and the text cite tests as evidence: a renamed or removed test
    must not leave the README pointing at nothing."""
    readme = (REPO / "README.md").read_text()
    cited = set(re.findall(r"`((?:tests|bench)/[\w/]+\.py)(?:::(\w+))?", readme))
    assert len(cited) > 20, "the README's citations of tests were not found"
    missing = []
    for path, name in sorted(cited):
        source = REPO / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^\s*def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, f"the README cites what does not exist: {missing}"
