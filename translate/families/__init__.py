"""The model families, found by name, and what every command does with any of them:
load a generator, export it.

Each sub-package of ``translate.families`` is one family (or a pair that shares its
networks, as DCGAN and cDCGAN do) and lists its :class:`~translate.families.base.Family`
objects in ``FAMILIES`` (:mod:`.registry` finds them, and those other distributions
register). ``train``, ``sample``, ``apply``, ``export`` and ``evaluate`` look a family up by
the name a checkpoint records; nothing outside a family's package branches on its name.
docs/architecture.md says what a new family provides.
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from translate import __version__
from translate.config import ConfigBase
from translate.errors import ConfigError
from translate.families.base import Family, RunOptions
from translate.families.registry import all_families, get_family
from translate.io.fileio import file_sha256
from translate.io.run_layout import refuse_run_files
from translate.modeling.checkpoint import WEIGHTS, read_checkpoint
from translate.onnx_export import DEFAULT_OPSET, write_checked

__all__ = ["Family", "RunOptions", "all_families", "export_model", "get_family", "load_generator"]


def load_generator(path: str | os.PathLike, direction: str | None = None) -> tuple[nn.Module, ConfigBase]:
    """The generator (in eval mode) and model config of any run, checkpoint or model folder,
    loaded by its family; ``direction`` picks one of a translation model's generators."""
    checkpoint = read_checkpoint(path)
    return get_family(checkpoint.family).load_generator(checkpoint, direction)


def export_model(
    source: str | os.PathLike,
    out: str | os.PathLike,
    direction: str | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    fp16_weights: bool = False,
) -> dict[str, object]:
    """Export the generator of a run, checkpoint or model folder to ONNX (the family says what
    and how to check it), verified against PyTorch; returns a short report. ``fp16``: fp16
    weights and arithmetic; ``fp16_weights``: fp16 weights, fp32 arithmetic."""
    out = Path(out)
    checkpoint = read_checkpoint(source)
    if out.suffix.lower() != ".onnx":
        raise ConfigError(f"--out {out} must be a .onnx file: export writes nothing else")
    for folder in {Path(source).resolve(), checkpoint.path.resolve()}:
        if folder.is_dir() and out.resolve().is_relative_to(folder):
            raise ConfigError(f"--out {out} lies inside the model it exports ({folder}): write it somewhere else, "
                              "e.g. exports/")
    refuse_run_files(out, "--out")
    plan = get_family(checkpoint.family).export_plan(checkpoint, direction)
    provenance = {
        "source_sha256": file_sha256(checkpoint.path / WEIGHTS),
        "source": str(checkpoint.path),
        "toolkit_version": __version__,
    }
    return write_checked(plan, out, opset, fp16, provenance, fp16_weights)
