"""The model families, found by name.

Each sub-package of ``translate.families`` is one family (or a pair that shares its
networks, as DCGAN and cDCGAN do) and lists its :class:`~translate.families.base.Family`
objects in ``FAMILIES``. ``train``, ``sample``, ``apply``, ``export`` and ``evaluate`` look
a family up here by the name a checkpoint records; nothing outside a family's package
branches on its name.

Adding a family (say pix2pix): a package ``translate/families/pix2pix/`` with its networks
(assembled from :mod:`translate.modeling.blocks`), its recipe (one optimisation step, see
``translate.training.trainer.Recipe``), and a ``Family`` subclass that declares its task
(``sample`` or ``translate``), flags, configs, generator loading, export plan and
evaluation; then its tests. It is found by being there.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from functools import cache
from pathlib import Path

from torch import nn

from translate import __version__
from translate.config import ConfigBase
from translate.errors import CheckpointError, ConfigError
from translate.families.base import Family, RunOptions
from translate.io.fileio import file_sha256
from translate.onnx_export import DEFAULT_OPSET, write_checked
from translate.training.checkpoint import WEIGHTS, read_checkpoint
from translate.training.run_folder import refuse_run_files

__all__ = ["Family", "RunOptions", "all_families", "export_model", "get_family", "load_generator"]


@cache
def all_families() -> dict[str, Family]:
    """Every family, by name, from the sub-packages of this package."""
    found: dict[str, Family] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            for family in importlib.import_module(f"{__name__}.{module.name}").FAMILIES:
                found[family.name] = family
    return found


def get_family(name: str) -> Family:
    families = all_families()
    if name not in families:
        raise CheckpointError(f"unknown model family {name!r}: this version of translate knows "
                              f"{', '.join(sorted(families))}")
    return families[name]


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
) -> dict[str, object]:
    """Export the generator of a run, checkpoint or model folder to ONNX (the family says what
    and how to check it), verified against PyTorch; returns a short report."""
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
    return write_checked(plan, out, opset, fp16, provenance)
