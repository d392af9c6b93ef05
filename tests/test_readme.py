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
