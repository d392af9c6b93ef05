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
from dataclasses import replace
from pathlib import Path

from torch import nn

from translate import __version__
from translate.config import ConfigBase
from translate.errors import ConfigError
from translate.evaluation.record import EVALUATION_FILE, chosen_direction, recorded_scores
from translate.families.base import Family, RunOptions
from translate.families.registry import all_families, get_family
from translate.io.fileio import check_regular, file_sha256
from translate.io.run_layout import refuse_run_files
from translate.modeling.checkpoint import WEIGHTS, read_checkpoint
from translate.modeling.half_storage import holds_fp16_values
from translate.onnx_contract import ModelInfo, read_model_info
from translate.onnx_export import DEFAULT_OPSET, bake_parametrizations, write_checked

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
    precision: str = "fp32",
) -> dict[str, object]:
    """Export the generator of a run, checkpoint or model folder to ONNX (the family says what
    and how to check it), verified against PyTorch; returns a short report. ``precision`` is one
    of :data:`~translate.onnx_export.EXPORT_PRECISIONS`. The scores the folder's
    ``evaluation.json`` records for these weights go into the file's metadata when the file
    computes what was scored."""
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
    _check_replaceable(out, plan.info)
    bake_parametrizations(plan.module.eval())  # before the fp16 test below: the weights the file holds
    source_sha256 = file_sha256(checkpoint.path / WEIGHTS)
    chosen_by = chosen_direction(checkpoint.path) or checkpoint.provenance().get("source_chosen_by")
    scores = recorded_scores(checkpoint.path, source_sha256, plan.info.direction, chosen_by)
    if precision == "fp16" or (precision == "fp16-weights" and not holds_fp16_values(plan.module)):
        scores = {}  # the file computes other numbers than those scored
    plan.info = replace(plan.info, **scores)
    provenance = {"source_sha256": source_sha256, "source": str(checkpoint.path), "toolkit_version": __version__}
    report = write_checked(plan, out, opset, precision, provenance)
    return {**report, "fid": scores.get("fid"), "scored": scores.get("scored") or _unscored(checkpoint.path)}


def _check_replaceable(out: Path, info: ModelInfo) -> None:
    """ConfigError when ``out`` exists and is not an earlier export of a model of the same kind
    (family, and for a translator its direction between the same domains): re-exporting a
    better model over its file is how a shipped file is replaced, but a file of another model,
    or not of this toolkit, is somebody's work."""
    if not out.exists():
        return
    check_regular(out, "choose another --out")  # onnx.load would wait forever on a FIFO
    import onnx

    def kind(model: ModelInfo) -> str:
        way = f" {model.source_domain} → {model.target_domain}" if model.task == "translate" else ""
        return f"a {model.family}{way} model"

    try:
        props = {p.key: p.value for p in onnx.load(str(out), load_external_data=False).metadata_props}
        earlier = read_model_info(props, out)
    except Exception as exc:  # onnx's own errors for files that are not ONNX; ours for other ONNX files
        raise ConfigError(f"--out {out} exists and is not an ONNX file of this toolkit: choose another file, or "
                          "remove it first to replace it") from exc
    if kind(earlier) != kind(info):
        raise ConfigError(f"--out {out} holds {kind(earlier)}, not {kind(info)} like this one: choose another file, "
                          "or remove it first to replace it")


def _unscored(folder: Path) -> str:
    return (f"no scores in the file's metadata: none recorded for these weights in {folder / EVALUATION_FILE} "
            f"(python -m translate.evaluate {folder} --out {folder / EVALUATION_FILE}; not carried into --fp16 "
            "files, nor into --fp16-weights files of fp32 weights, which compute other numbers)")
