"""The documentation's embedding example runs verbatim, on the shipped ONNX file, without
torch; every test and benchmark the README and docs/ cite exists; every link between them resolves."""

import re
import subprocess
import sys

from .conftest import DOCS, REPO, embedding_example


def test_embedding_example_runs_verbatim_without_torch(tmp_path):
    example = embedding_example()
    (tmp_path / "exports").symlink_to(REPO / "exports")
    blocker = "import sys\nsys.modules['torch'] = None  # the example must not need PyTorch\n"
    result = subprocess.run(
        [sys.executable, "-c", blocker + example],
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
    text = "".join(page.read_text() for page in DOCS)
    cited = set(re.findall(r"`((?:tests|bench)/[\w/]+\.py)(?:::(\w+))?", text))
    assert len(cited) > 20, "the README's citations of tests were not found"
    missing = []
    for path, name in sorted(cited):
        source = REPO / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^\s*def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, f"the README cites what does not exist: {missing}"


def test_every_link_between_the_pages_resolves():
    """Relative links of the README and docs/ name files that exist, and headings that do."""
    broken = []
    for page in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md":
                headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                            for h in re.findall(r"^#+ (.+)$", file.read_text(), re.M)}
                if anchor not in headings:
                    broken.append(f"{page.name}: {target}")
    assert not broken, f"links to nothing: {broken}"
