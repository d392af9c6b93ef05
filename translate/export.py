"""Command line: ``python -m translate.export RUN_OR_CHECKPOINT --out exports/NAME.onnx
[--direction AtoB|BtoA] [--opset N] [--fp16 | --fp16-weights]``.

Every export is checked before it is reported as done: ``onnx.checker``, then ONNX
Runtime against PyTorch on fresh random inputs of several shapes. A failed check
deletes the file. The file's metadata carries everything an application needs to
pre- and post-process (see ``translate.runtime``), so nothing has to be guessed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from translate.cli import run_cli
from translate.families import export_model
from translate.onnx_export import DEFAULT_OPSET, OPSETS

DESCRIPTION = "Export a trained generator to ONNX, checked against PyTorch before it is reported as done."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.export", description=DESCRIPTION)
    parser.add_argument("checkpoint", help="run folder, checkpoint folder or model folder")
    parser.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    parser.add_argument("--direction", help="which generator of a translation model: AtoB (default) or BtoA")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset version, {OPSETS.start} to {OPSETS.stop - 1} (default {DEFAULT_OPSET})")
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="fp16 weights and arithmetic, fp32 inputs and outputs")
    precision.add_argument("--fp16-weights", action="store_true",
                           help="weights stored in fp16 (half the file), arithmetic in fp32")
    args = parser.parse_args(argv)
    precision = "fp16" if args.fp16 else "fp16-weights" if args.fp16_weights else "fp32"
    report = export_model(args.checkpoint, args.out, args.direction, args.opset, precision)
    print(json.dumps(report))



def run() -> None:
    """The ``translate-export`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
