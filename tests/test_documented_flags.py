"""Every ``--flag`` the README and docs/ name, and every one our code's messages and
docstrings name (an error's fix, a help text), is one that a command of ours takes, or one of
the few other tools' flags listed below. The documented-commands test runs the fenced
commands; this catches a flag renamed in the code and left behind in the prose."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from .conftest import DOCS, REPO

FLAG = r"(?<![\w-])--[a-z][a-z0-9_-]*[a-z0-9](?![\w-])"

# Flags of other tools that the docs or the code name, each with the tool it belongs to.
OTHER_TOOLS = {
    "--nproc_per_node": "torchrun",
    "--logdir": "tensorboard (the trainer's first line says how to watch a run)",
    "--nnodes": "torchrun (a run of several machines resumes with as many)",
    "--nce_layers": "the reference CUT code (which our CUT's docs compare with)",
    "--num_patches": "the reference CUT code",
    "--init_type": "the reference CUT code (its initialisation, which ours copies)",
    "--init_gain": "the reference CUT code",
    "--no_antialias": "the reference CUT code (its discriminator's sampling, which ours does not copy)",
}
SOURCES = [*sorted((REPO / "translate").rglob("*.py")), *sorted((REPO / "demo").glob("*.py")),
           *sorted((REPO / "bench").glob("*.py"))]

# Run in a fresh interpreter (the benchmarks import their sibling modules from bench/): each
# command's --help, as the user runs it, and the flags it lists.
_HELP_FLAGS = r"""
import contextlib, io, json, re, runpy, sys
from pathlib import Path
from translate.families.registry import all_families
repo, flag = Path(sys.argv[1]), sys.argv[2]
found = {}
def collect(name, argv, run):
    sys.argv = [name, *argv, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        run()
    found[" ".join([name, *argv])] = sorted(set(re.findall(flag, out.getvalue())))
for path in sorted((repo / "translate").glob("*.py")):
    if "\ndef main(" in path.read_text():
        module = f"translate.{path.stem}"
        collect(module, [], lambda: runpy.run_module(module, run_name="__main__"))
for family in all_families():
    collect("translate.train", [family], lambda: runpy.run_module("translate.train", run_name="__main__"))
for command in ("fetch", "list"):
    collect("translate.data", [command], lambda: runpy.run_module("translate.data", run_name="__main__"))
sys.path.insert(0, str(repo / "bench"))
for script in [repo / "demo" / "app.py", *sorted((repo / "bench").glob("*.py"))]:
    if 'if __name__ == "__main__":' in script.read_text():
        collect(str(script.relative_to(repo)), [], lambda: runpy.run_path(str(script), run_name="__main__"))
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def command_flags() -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", _HELP_FLAGS, str(REPO), FLAG], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_every_command_answers_help_with_its_flags(command_flags):
    assert {"translate.train cyclegan", "translate.train cut", "translate.export", "demo/app.py",
            "bench/fid_curves.py"} <= set(command_flags)
    assert all(flags for flags in command_flags.values()), [c for c, f in command_flags.items() if not f]
    assert "--domains" in command_flags["translate.train cyclegan"]


def test_every_flag_the_docs_and_the_code_name_is_one_a_command_takes(command_flags):
    taken = set().union(*command_flags.values()) | set(OTHER_TOOLS)
    unknown: dict[str, list[str]] = {}
    named = set()
    for path in [*DOCS, *SOURCES]:
        flags = set(re.findall(FLAG, path.read_text()))
        named |= flags
        for flag in sorted(flags - taken):
            unknown.setdefault(flag, []).append(str(path.relative_to(REPO)))
    assert not unknown, f"flags named that no command takes: {unknown}"
    assert set(OTHER_TOOLS) <= named  # none listed here that nothing names any more
