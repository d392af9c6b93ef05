"""docs/reliability.md names, for each fault, the test that shows what happens: every test it
names exists (a renamed or removed test would leave the table pointing at nothing)."""

import ast
import re

from .conftest import REPO

DOC = REPO / "docs" / "reliability.md"
CELL_REFS = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+)(?:\[[^\]]*\])?)?`")


def named_tests() -> list[tuple[str, str | None]]:
    """(file, test or None) for each reference in the table's last column; ``::name`` alone
    means a test of the file named before it in the same cell."""
    found = []
    for line in DOC.read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| ---"):
            continue
        cell, current = line.rstrip(" |").rsplit(" | ", 1)[-1], None
        for file, test in CELL_REFS.findall(cell):
            current = file or current
            if current:
                found.append((current, test or None))
    return found


def defined_tests(path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_the_reliability_table_names_exists():
    references = named_tests()
    assert len(references) > 50  # the table was read, not skipped
    defined = {file: defined_tests(REPO / file) for file, _ in references if (REPO / file).is_file()}
    missing = [file if file not in defined else f"{file}::{test}" for file, test in references
               if file not in defined or (test and test not in defined[file])]
    assert missing == []
