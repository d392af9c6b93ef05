"""bench/family_steps.py, run as documented at a tiny size: every translation family's real
recipe takes steps, and the table and its JSON give each one's wall and CPU time."""

import json
import subprocess
import sys

import pytest

from .conftest import REPO


@pytest.mark.slow
def test_every_translation_recipe_is_timed_against_cyclegan(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "family_steps.py"), "--size", "32", "--precision",
                           "fp32", "--warmup", "0", "--iters", "2", "--out", str(tmp_path), "--tag", "tiny",
                           "--pix2pix-depth", "4", "--pix2pix-upsample", "resize"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    measured = json.loads((tmp_path / "family-steps-cpu-tiny.json").read_text())
    steps = measured["steps"]
    assert sorted(steps) == ["CUT", "CycleGAN", "FastCUT", "pix2pix", "pix2pix L1 only"]
    assert all(row["wall"] > 0 and row["cpu"] > 0 for row in steps.values())
    table = (tmp_path / "family-steps-cpu-tiny.md").read_text()
    assert "| CycleGAN |" in table and "1.00x" in table
    assert "pix2pix U-Net ngf 64, depth 4, resize up-sampling, instance_affine norm;" in table
    assert measured["pix2pix"] == {"depth": 4, "upsample": "resize", "norm": "instance_affine"}
    cut = steps["CUT"]
    ranges = measured["ranges"]["CUT"]
    assert all(low <= cut[clock] <= high for clock, (low, high) in ranges.items())
    (wall_low, wall_high), (cpu_low, cpu_high) = ranges["wall"], ranges["cpu"]
    assert (f"| CUT | {cut['wall']:.3f} | {wall_low:.3f}–{wall_high:.3f} | {cut['cpu']:.3f} | {cpu_low:.3f}–"
            f"{cpu_high:.3f} | {cut['wall'] / steps['CycleGAN']['wall']:.2f}x |") in table


def test_a_depth_the_size_does_not_allow_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "family_steps.py"), "--size", "32",
                           "--pix2pix-depth", "6", "--out", str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "depth 6" in done.stderr and not list(tmp_path.iterdir())
