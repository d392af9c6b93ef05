"""Helpers for tests that need exported models: small real-trained checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path

from translate.cli import run_cli
from translate.train import main as train_main

from .cyclegan_data import TINY as CYCLEGAN_TINY
from .cyclegan_data import horse2zebra

REPO = Path(__file__).resolve().parents[1]
TINY = ["--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "16"]


def trained_run(root: Path, family: str, steps: int = 4) -> Path:
    """A tiny DCGAN / cDCGAN, or a tiny CycleGAN, trained for a few steps on real data."""
    run = root / f"{family}-run"
    if family == "cyclegan":
        data = horse2zebra(root / "data")
        argv = ["cyclegan", "--domains", "horse", "zebra", "--data", str(data), *CYCLEGAN_TINY]
    else:
        argv = [family, *TINY]
    run_cli(train_main, [*argv, "--out", str(run), "--max-steps", str(steps)])
    return run


def demo_exports(root: Path, cyclegan_run: Path) -> Path:
    """An exports folder laid out as the demo expects: the shipped digit models, and a
    CycleGAN run (e.g. :func:`trained_run`'s tiny one) exported both ways."""
    from translate.export import export

    exports = root / "exports"
    exports.mkdir(parents=True)
    for name in ("cdcgan-mnist.onnx", "dcgan-mnist.onnx"):
        shutil.copy(REPO / "exports" / name, exports / name)
    export(cyclegan_run, exports / "horse2zebra.onnx", direction="AtoB")
    export(cyclegan_run, exports / "zebra2horse.onnx", direction="BtoA")
    return exports
