"""Command line: ``python -m translate.pack RUN_OR_CHECKPOINT --out models/NAME``: a model
folder to ship, holding only what sampling, applying, exporting and scoring need.

The family says which networks that is (the generators; a DCGAN trained with ``--ema``
gives its weight average); discriminators, optimiser state and RNG stay behind. The
folder's ``config.json`` keeps the architecture and the training settings, and the
safetensors header records the source checkpoint's sha256. The run's ``metrics.jsonl`` (losses
and, for a CycleGAN, the FID/KID scored during training) comes along as the model's
training record.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.families import get_family
from translate.io.fileio import atomic_write, file_sha256
from translate.training.checkpoint import WEIGHTS, read_checkpoint, write_model_folder
from translate.training.run_folder import METRICS_FILE

DESCRIPTION = ("Write a model folder to ship: a run's generators and config, and its metrics.jsonl, without "
               "training state.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.pack", description=DESCRIPTION)
    parser.add_argument("checkpoint", help="run folder or checkpoint folder")
    parser.add_argument("--out", type=Path, required=True, help="the model folder to write (e.g. models/NAME)")
    args = parser.parse_args(argv)
    checkpoint = read_checkpoint(args.checkpoint)
    if args.out.resolve().is_relative_to(Path(args.checkpoint).resolve()):
        raise ConfigError(f"--out {args.out} lies inside the run it packs: choose a folder outside it")
    family = get_family(checkpoint.family)
    modules = family.shipped_modules(checkpoint)
    metadata = {"source": str(checkpoint.path), "source_sha256": file_sha256(checkpoint.path / WEIGHTS)}
    write_model_folder(args.out, checkpoint.family, checkpoint.model, modules, checkpoint.train, metadata)
    record = training_record(checkpoint.path)
    if record is not None:
        atomic_write(args.out / METRICS_FILE, lambda tmp: shutil.copyfile(record, tmp))
    print(json.dumps({"out": str(args.out), "networks": sorted(modules), **metadata,
                      "training_record": str(record) if record else None}))


def training_record(checkpoint: Path) -> Path | None:
    """The ``metrics.jsonl`` of the run a checkpoint belongs to: ``RUN/checkpoints/step-N``
    and ``RUN/best`` both belong to ``RUN``, and a model folder packed before holds its own."""
    for folder in (checkpoint, checkpoint.parent, checkpoint.parent.parent):
        if (folder / METRICS_FILE).is_file():
            return folder / METRICS_FILE
    return None


if __name__ == "__main__":
    run_cli(main)
