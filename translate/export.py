"""Command line: ``python -m translate.export RUN_OR_CHECKPOINT --out exports/NAME.onnx
[--direction AtoB|BtoA] [--opset N] [--fp16]``.

Every export is checked before it is reported as done: ``onnx.checker``, then ONNX
Runtime against PyTorch on fresh random inputs of several shapes. A failed check
deletes the file. The file's metadata carries everything an application needs to
pre- and post-process (see ``translate.runtime``), so nothing has to be guessed.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from translate import __version__
from translate.cli import run_cli
from translate.errors import ConfigError, TranslateError
from translate.io.fileio import atomic_path, file_sha256
from translate.training.checkpoint import WEIGHTS, Checkpoint, load_cyclegan_generator, load_generator, read_checkpoint

DEFAULT_OPSET = 17
FP32_TOLERANCE = 1e-4
# Measured on the shipped MNIST generators in fp16: at most 7.4e-3 (dcgan) and 4.8e-3
# (cdcgan) from PyTorch fp32, on outputs in [-1, 1]; the bound leaves room for other models.
FP16_TOLERANCE = 2e-2


class ExportError(TranslateError):
    """An export that failed its checks (the file has been removed)."""


@dataclass
class ExportPlan:
    """What to export and how to check it, for one family."""

    module: nn.Module
    input_names: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    check_inputs: list[tuple[torch.Tensor, ...]]  # the first one is also the trace example
    metadata: dict[str, str] = field(default_factory=dict)
    output_names: list[str] = field(default_factory=lambda: ["image"])


class _ConditionalGenerator(nn.Module):
    """(z, label) -> image: the cDCGAN generator with both inputs explicit for ONNX."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.generator(z, label)


def _dcgan_plan(checkpoint: Checkpoint, direction: str | None) -> ExportPlan:
    if direction is not None:
        raise ConfigError(
            f"--direction applies to CycleGAN generators; {checkpoint.path} is a {checkpoint.family} checkpoint"
        )
    generator, config = load_generator(checkpoint.path)
    gen = torch.Generator().manual_seed(1234)
    conditional = config.n_classes > 0
    check_inputs = []
    for batch in (1, 3, 8):
        z = torch.randn(batch, config.z_dim, generator=gen)
        label = torch.randint(0, max(config.n_classes, 1), (batch,), generator=gen)
        check_inputs.append((z, label) if conditional else (z,))
    names = ["z", "label"] if conditional else ["z"]
    classes = checkpoint.train.get("classes") or [str(i) for i in range(config.n_classes)]
    return ExportPlan(
        module=_ConditionalGenerator(generator) if conditional else generator,
        input_names=names,
        dynamic_axes={**{n: {0: "batch"} for n in names}, "image": {0: "batch"}},
        check_inputs=check_inputs,
        metadata={
            "z_dim": str(config.z_dim),
            "class_names": json.dumps(classes if conditional else []),
            "image_size": str(config.image_size),
            "channels": str(config.channels),
            "channel_order": "grey" if config.channels == 1 else "RGB",
            "pad_multiple": "1",
            "min_size": "1",
            "inputs": json.dumps(
                {"z": "float32, batch x z_dim, standard normal"}
                | ({"label": "int64, batch, class index into class_names"} if conditional else {})
            ),
        },
    )


def _cyclegan_plan(checkpoint: Checkpoint, direction: str | None) -> ExportPlan:
    from translate.families.cyclegan.nets import MIN_SIZE, PAD_MULTIPLE

    direction = direction or "AtoB"
    generator, config = load_cyclegan_generator(checkpoint.path, direction)
    source, target = (config.domain_a, config.domain_b) if direction == "AtoB" else (config.domain_b, config.domain_a)
    gen = torch.Generator().manual_seed(1234)
    # 256 square, a non-square batch of 2, and 75 x 101 after padding to 76 x 104.
    shapes = [(1, 256, 256), (2, 128, 192), (1, 76, 104)]
    check_inputs = [(torch.rand(n, config.channels, h, w, generator=gen) * 2 - 1,) for n, h, w in shapes]
    return ExportPlan(
        module=generator,
        input_names=["image"],
        output_names=["translated"],
        dynamic_axes={name: {0: "batch", 2: "height", 3: "width"} for name in ("image", "translated")},
        check_inputs=check_inputs,
        metadata={
            "direction": direction,
            "source_domain": source,
            "target_domain": target,
            "channels": str(config.channels),
            "channel_order": "RGB",
            "pad_multiple": str(PAD_MULTIPLE),
            "min_size": str(MIN_SIZE),
            "padding": "reflect, split evenly between the sides; crop the output back to the input size",
            "image_size": str(config.image_size),
            "inputs": json.dumps({"image": "float32, batch x 3 x height x width, RGB in [-1, 1], "
                                  "height and width multiples of pad_multiple"}),
        },
    )


PLANS = {"dcgan": _dcgan_plan, "cdcgan": _dcgan_plan, "cyclegan": _cyclegan_plan}


def build_plan(checkpoint: Checkpoint, direction: str | None) -> ExportPlan:
    """The export plan for a checkpoint, with the metadata every family shares."""
    if checkpoint.family not in PLANS:
        raise ConfigError(f"{checkpoint.path} is a {checkpoint.family} checkpoint: no exporter for that family")
    plan = PLANS[checkpoint.family](checkpoint, direction)
    plan.module.eval()  # the exporter restores the module's mode after tracing: it must be eval
    plan.metadata = {
        "translate.family": checkpoint.family,
        "translate.value_range": "[-1, 1]",
        "translate.normalisation": "model = pixel / 127.5 - 1; pixel = (model + 1) * 127.5, rounded, clipped to 0..255",
        "translate.layout": "NCHW",
        "translate.source_sha256": file_sha256(checkpoint.path / WEIGHTS),
        "translate.source": str(checkpoint.path),
        "translate.toolkit_version": __version__,
        **{f"translate.{k}": v for k, v in plan.metadata.items()},
    }
    return plan


def _torch_outputs(plan: ExportPlan) -> list[np.ndarray]:
    with torch.no_grad():
        return [plan.module(*inputs).float().numpy() for inputs in plan.check_inputs]


def write_onnx(plan: ExportPlan, path: Path, opset: int, fp16: bool) -> None:
    import onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            plan.module,
            plan.check_inputs[0],
            str(path),
            input_names=plan.input_names,
            output_names=plan.output_names,
            dynamic_axes=plan.dynamic_axes,
            opset_version=opset,
            dynamo=False,
        )
    model = onnx.load(str(path))
    if fp16:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(model, keep_io_types=True)
        _sort_topologically(model.graph)
    metadata = {**plan.metadata, "translate.precision": "fp16" if fp16 else "fp32"}
    onnx.helper.set_model_props(model, metadata)
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


def _check(plan: ExportPlan, path: Path, tolerance: float) -> float:
    """onnx.checker, then the largest |ORT - PyTorch| over every check input."""
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
        raise ExportError(f"ONNX Runtime differs from PyTorch by {worst:.2e} (> {tolerance:.0e})")
    return worst


def export(
    source: str | os.PathLike,
    out: str | os.PathLike,
    direction: str | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
) -> dict[str, object]:
    """Export a checkpoint's generator to ``out`` and verify it; returns a short report."""
    checkpoint = read_checkpoint(source)
    plan = build_plan(checkpoint, direction)
    out = Path(out)
    tolerance = FP16_TOLERANCE if fp16 else FP32_TOLERANCE
    with atomic_path(out) as tmp:  # the final name appears only once every check passed
        write_onnx(plan, tmp, opset, fp16)
        try:
            worst = _check(plan, tmp, tolerance)
        except ExportError:
            raise
        except Exception as exc:  # onnx.checker and onnxruntime raise their own types
            raise ExportError(f"the exported model failed its check: {exc}") from exc
    shapes = [tuple(inputs[0].shape) for inputs in plan.check_inputs]
    return {"path": str(out), "max_abs_diff": worst, "tolerance": tolerance, "checked_shapes": shapes}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.export", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="run folder, checkpoint folder or model folder")
    parser.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    parser.add_argument("--direction", choices=("AtoB", "BtoA"), help="which CycleGAN generator")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument("--fp16", action="store_true", help="fp16 weights and arithmetic, fp32 inputs and outputs")
    args = parser.parse_args(argv)
    report = export(args.checkpoint, args.out, args.direction, args.opset, args.fp16)
    print(json.dumps(report))


if __name__ == "__main__":
    run_cli(main)
