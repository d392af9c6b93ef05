"""Every benchmark under bench/ answers ``--help`` as a user runs it (a script, from another
folder, with what ``make setup`` installs): one once imported matplotlib, an extra that setup
leaves out, at its top and ended in a traceback. Their plots are optional: without matplotlib
a benchmark keeps its table and says which plot it left out."""

import importlib.metadata
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from .conftest import REPO

BENCH = REPO / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def test_the_scripts_are_found():
    assert {"train_step.py", "fid_curves.py", "truncation.py"} <= set(SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_answers_help_from_another_folder(script, tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script}") and "Traceback" not in done.stderr


def test_without_matplotlib_a_plot_is_left_out_with_a_note(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("plots", BENCH / "plots.py")
    plots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plots)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # importing it now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    path = tmp_path / "curve.png"
    assert plots.new_figure(path, figsize=(7, 4.2)) is None
    assert capsys.readouterr().err == (f"note: {path} not drawn: the plots need matplotlib "
                                       "(pip install -e '.[bench]')\n")
    assert not path.exists()


def test_a_saved_result_carries_its_command_cpu_and_versions(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    from provenance import save_result

    from translate.modeling.device import describe_cpu

    save_result(tmp_path / "t.md", "| a |\n| --- |\n| 1 |\n", {"rows": [1]}, str(BENCH / "train_step.py"),
                ["--sizes", "128", "--note", "machine busy"])
    command = "python bench/train_step.py --sizes 128 --note 'machine busy'"
    footer = f"Command: `{command}`; {describe_cpu()}; torch {torch.__version__.split('+')[0]}"
    assert (tmp_path / "t.md").read_text().startswith("| a |\n| --- |\n| 1 |\n\n" + footer)
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["command"] == command and record["rows"] == [1] and record["cpu"] == describe_cpu()
    assert record["torch"] == importlib.metadata.version("torch") and "onnxruntime" in record
    assert footer in capsys.readouterr().out
