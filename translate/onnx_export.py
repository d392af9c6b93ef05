"""Write a family's generator to ONNX and prove the file: ``onnx.checker``, then ONNX
Runtime against PyTorch on fresh random inputs of several shapes. A failed check deletes
the file. The family says what to export (:class:`ExportPlan`); the file's metadata
(:mod:`translate.onnx_contract`) carries everything an application needs to pre- and
post-process, so nothing has to be guessed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import torch
from torch import nn

from translate.errors import TranslateError, first_line
from translate.io.fileio import atomic_path
from translate.modeling.half_storage import round_to_fp16
from translate.onnx_contract import ModelInfo

if TYPE_CHECKING:  # imported where used: the onnx package is needed only to export
    import onnx

DEFAULT_OPSET = 17
OPSETS = range(7, 21)  # what torch's TorchScript exporter writes (torch.onnx._constants: 7 to 20)
FP16_WEIGHTS_MIN_OPSET = 9  # from opset 9 on, initialisers need not be listed as graph inputs too
FP32_TOLERANCE = 1e-4
# Measured on the shipped MNIST generators in fp16: at most 7.4e-3 (dcgan) and 4.8e-3
# (cdcgan) from PyTorch fp32, on outputs in [-1, 1]; the bound leaves room for other models.
FP16_TOLERANCE = 2e-2
# How a file holds its numbers: fp32; fp16 weights computed with in fp32 (half the file, the
# same arithmetic); or fp16 weights and arithmetic, with fp32 inputs and outputs.
EXPORT_PRECISIONS = ("fp32", "fp16-weights", "fp16")


class ExportError(TranslateError):
    """An export that failed its checks (the file has been removed)."""


@dataclass
class ExportPlan:
    """What to export and how to check it, for one family."""

    module: nn.Module
    input_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    check_inputs: list[tuple[torch.Tensor, ...]]  # the first one is also the trace example
    info: ModelInfo  # what the file's metadata says about its inputs and outputs
    output_names: list[str] = field(default_factory=lambda: ["image"])


def _torch_outputs(plan: ExportPlan) -> list[np.ndarray]:
    with torch.no_grad():
        return [plan.module(*inputs).float().numpy() for inputs in plan.check_inputs]


def trace_to_onnx(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    target: str | BinaryIO,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int = DEFAULT_OPSET,
    fold_constants: bool = True,
) -> None:
    """Trace ``module`` on ``example`` into an ONNX graph at ``target`` (a path or a file
    object): the one exporter call of the toolkit, TorchScript-based because it writes the
    plain, dynamic-batch graphs our checks and ONNX Runtime expect. ``fold_constants`` False
    keeps each weight as the module holds it (folding merges a convolution with the batch norm
    after it into new weights)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, example, target, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False,
                          do_constant_folding=fold_constants)


def bake_parametrizations(module: nn.Module) -> None:
    """Replace each parametrised weight (spectral norm's) by the value it has in eval mode, a
    constant: the exporter cannot trace spectral norm's power iteration. ``module`` must be in
    eval mode; it computes the same after."""
    from torch.nn.utils import parametrize

    for sub in module.modules():
        if parametrize.is_parametrized(sub):
            for name in list(sub.parametrizations):
                parametrize.remove_parametrizations(sub, name, leave_parametrized=True)


def write_onnx(plan: ExportPlan, path: Path, opset: int, precision: str = "fp32",
               provenance: dict[str, str] | None = None) -> None:
    """Write ``plan`` to ``path`` in one of :data:`EXPORT_PRECISIONS`, with its metadata and
    ``provenance`` (source file, its sha256, toolkit version)."""
    import onnx

    # With fp16 weights every stored value must stay the fp16 number it was rounded to, so
    # nothing is folded here; ONNX Runtime folds the graph when it opens the file.
    trace_to_onnx(plan.module, plan.check_inputs[0], str(path), plan.input_names, plan.output_names,
                  plan.dynamic_axes, opset, fold_constants=precision != "fp16-weights")
    model = onnx.load(str(path))
    if precision == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(model, keep_io_types=True)
        _sort_topologically(model.graph)
    if precision == "fp16-weights":
        store_initialisers_fp16(model.graph)
    storage = {"weights": "fp32" if precision == "fp32" else "fp16"}
    info = replace(plan.info, precision="fp16" if precision == "fp16" else "fp32",
                   extra={**plan.info.extra, **(provenance or {}), **storage})
    onnx.helper.set_model_props(model, info.to_metadata())
    onnx.save(model, str(path))


def _sort_topologically(graph) -> None:
    """Reorder nodes so each comes after its inputs' producers.

    The fp16 converter appends the Cast nodes of the kept fp32 inputs at the end of the
    graph, which onnx.checker rejects.
    """
    available = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise ExportError("the exported graph has a cycle or an input that nothing produces")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        pending = [n for n in pending if n not in ready]
    del graph.node[:]
    graph.node.extend(ordered)


def store_initialisers_fp16(graph: onnx.GraphProto) -> None:
    """Store each fp32 initialiser of ``graph`` in fp16, behind a Cast node that gives the graph
    its fp32 tensor under the old name: half the file, the same fp32 arithmetic (ONNX Runtime
    folds the casts when it opens the file). The values must be fp16 numbers already
    (:func:`translate.modeling.half_storage.round_to_fp16`), so that nothing is lost here."""
    import onnx
    from onnx import numpy_helper

    casts = []
    for initialiser in graph.initializer:
        if initialiser.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(initialiser)
        stored = values.astype(np.float16)
        if not np.array_equal(stored.astype(np.float32), values):
            raise ExportError(f"{initialiser.name} holds values that fp16 cannot store exactly (the graph computed "
                              "it from the weights): export in fp32 or with --fp16")
        name = initialiser.name
        initialiser.CopyFrom(numpy_helper.from_array(stored, f"{name}.fp16"))
        casts.append(onnx.helper.make_node("Cast", [f"{name}.fp16"], [name], name=f"{name}.to_fp32",
                                           to=onnx.TensorProto.FLOAT))
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)


def check_onnx_file(plan: ExportPlan, path: Path, tolerance: float) -> float:
    """onnx.checker, then the largest |ORT - PyTorch| over every check input; an ExportError
    beyond ``tolerance``. Also what proves a shipped file against its shipped weights."""
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(str(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for inputs, expected in zip(plan.check_inputs, _torch_outputs(plan), strict=True):
        feeds = {name: t.numpy() for name, t in zip(plan.input_names, inputs, strict=True)}
        (got,) = session.run(None, feeds)
        if got.shape != expected.shape:
            raise ExportError(f"ONNX Runtime returned shape {got.shape}, PyTorch {expected.shape}")
        worst = max(worst, float(np.abs(got - expected).max()))
    if not worst <= tolerance:
        fix = ("export in fp32, or with --fp16-weights (fp32 arithmetic), or try another --opset"
               if tolerance >= FP16_TOLERANCE else "try another --opset")  # fp16 arithmetic: the looser bound
        raise ExportError(f"ONNX Runtime differs from PyTorch by {worst:.2e} (> {tolerance:.0e}), so nothing was "
                          f"written: {fix}")
    return worst


def write_checked(plan: ExportPlan, out: Path, opset: int = DEFAULT_OPSET, precision: str = "fp32",
                  provenance: dict[str, str] | None = None) -> dict[str, object]:
    """Write ``plan`` to ``out`` and verify it; the file appears only once every check passed.
    Returns a short report. With ``fp16-weights`` the module's weights are rounded to fp16 values
    first, so the check holds the file to fp32 agreement with what it computes."""
    if precision not in EXPORT_PRECISIONS:
        raise ExportError(f"precision {precision!r} is not one of {', '.join(EXPORT_PRECISIONS)}")
    if opset not in OPSETS:
        raise ExportError(f"opset {opset} is outside the {OPSETS.start} to {OPSETS.stop - 1} that the exporter "
                          f"writes: leave --opset out for {DEFAULT_OPSET}")
    if precision == "fp16-weights" and opset < FP16_WEIGHTS_MIN_OPSET:
        raise ExportError(f"--fp16-weights needs opset {FP16_WEIGHTS_MIN_OPSET} or later (older graphs list their "
                          f"weights as inputs too): leave --opset out for {DEFAULT_OPSET}")
    plan.module.eval()  # the exporter restores the module's mode after tracing: it must be eval
    bake_parametrizations(plan.module)
    if precision == "fp16-weights":
        round_to_fp16(plan.module)
    tolerance = FP16_TOLERANCE if precision == "fp16" else FP32_TOLERANCE
    with atomic_path(out) as tmp:
        try:
            write_onnx(plan, tmp, opset, precision, provenance)
            worst = check_onnx_file(plan, tmp, tolerance)
        except (ExportError, OSError):  # ours, and a disk's (the command line words those)
            raise
        except Exception as exc:  # torch.onnx, onnx.checker and onnxruntime raise their own types
            reason = first_line(exc)
            hint = "" if opset == DEFAULT_OPSET else f": try the default, --opset {DEFAULT_OPSET}"
            raise ExportError(f"the export in opset {opset} failed ({reason}){hint}") from exc
    shapes = [tuple(inputs[0].shape) for inputs in plan.check_inputs]
    return {"path": str(out), "max_abs_diff": worst, "tolerance": tolerance, "checked_shapes": shapes}
