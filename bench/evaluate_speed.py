"""How long a first ``translate.evaluate`` takes (nothing cached: the real set's Inception
features are computed too), and what its figures are, with the Inception network run four
ways in one run:

- ``file-fp32``: the TorchScript file called as it is, in fp32: the path before the port
  (until 2026-12-03), the baseline;
- ``port-fp32``: the file's network rebuilt with its batch norms folded
  (translate/evaluation/inception_port.py), in fp32, by PyTorch;
- ``onnx-fp32``: the same exported to ONNX and run by ONNX Runtime
  (translate/evaluation/inception_onnx.py): ``--precision fp32`` on a CPU, the default;
- ``port-bf16``: the port in bf16 by PyTorch: ``--precision bf16``.

Each variant scores the model exactly as ``translate.evaluate MODEL --n N`` does, with an
empty feature cache of its own, one after the other. Then, because a busy machine slows
sequential runs unequally, the Inception passes alone are timed again in alternation (batch
by batch, medians), which gives the ratios that hold under load best, in wall seconds and in CPU seconds (all of
this process's threads: what the work costs, which another process's load moves least, though not
nothing: shared caches and memory bandwidth make the same batch cost more CPU time beside a
training run). Say what else ran with ``--note``.
``--batches-only`` times only those batches: minutes instead of an hour.

    python bench/evaluate_speed.py [--model models/cdcgan-mnist] [--n 10000] [--real-n N]
        [--variants file-fp32 onnx-fp32] [--batches-only] [--tag amd-epyc]

prints a Markdown table and saves it (and a JSON copy) as
bench/results/evaluate-speed[-<tag>].md.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from provenance import save_result
from timing import alternating_medians_by_clock

from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.evaluation.inception import InceptionFeatures, _to_inception_input, load_fid_file
from translate.evaluation.protocols import EvaluationRequest
from translate.families import get_family
from translate.modeling.checkpoint import read_checkpoint
from translate.modeling.device import describe_cpu
from translate.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = {"file-fp32": "the TorchScript file as it is, fp32 (before the port)",
            "port-fp32": "the port, batch norms folded, fp32, PyTorch",
            "onnx-fp32": "the port, batch norms folded, fp32, ONNX Runtime (the default)",
            "port-bf16": "the port, batch norms folded, bf16, PyTorch"}
RUNTIMES = {"port": "torch", "onnx": "onnxruntime"}
BASELINE = "file-fp32"


class FileInception(InceptionFeatures):
    """The baseline: the TorchScript file called as it is, as the toolkit did before the port."""

    def _load_torchscript(self, path: Path) -> torch.nn.Module:
        return load_fid_file(path, self.device).to(memory_format=torch.channels_last)


@dataclasses.dataclass(frozen=True)
class VariantRequest(EvaluationRequest):
    """An evaluation request whose Inception network is one of :data:`VARIANTS`."""

    variant: str = "port-fp32"

    def extractor(self) -> InceptionFeatures:
        return extractor(self.variant, self.fid_weights, self.data_root)


def extractor(variant: str, weights: str | None, data_root: Path) -> InceptionFeatures:
    """The Inception network of one of :data:`VARIANTS`, on the CPU."""
    network, precision = variant.split("-")
    if variant == BASELINE:
        return FileInception(weights, "cpu", data_root, precision, "torch")
    return InceptionFeatures(weights, "cpu", data_root, precision, RUNTIMES[network])


def first_evaluation(model: Path, variant: str, base: dict[str, Any]) -> dict[str, Any]:
    """Seconds and figures of one evaluation from an empty cache."""
    checkpoint = read_checkpoint(model)
    with tempfile.TemporaryDirectory(prefix="evaluate-speed-") as cache:
        request = VariantRequest(**base, cache_dir=cache, variant=variant)
        began = time.perf_counter()
        scores = get_family(checkpoint.family).evaluate(checkpoint, request)
        seconds = time.perf_counter() - began
    figures = {key: value for key, value in scores.items() if key != "protocol"}
    print(f"{variant}: {seconds:.1f} s {figures}", flush=True)
    return {"variant": variant, "seconds": seconds, "scores": figures}


def fids(scores: dict[str, Any]) -> dict[str, float]:
    """The FID of each direction of a translator, or the one FID of a digit model."""
    if "fid" in scores:
        return {"fid": scores["fid"]}
    return {name: value["fid"] for name, value in scores.items() if isinstance(value, dict) and "fid" in value}


def inception_medians(variants: list[str], data_root: Path, batch: int, iters: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds per batch of 28 px digits through each variant's network,
    in turns, both clocks timing the same batches: ``{"wall": {variant: s}, "cpu": {variant: s}}``."""
    pixels = _to_inception_input(torch.rand(batch, 1, 28, 28) * 2 - 1)  # pool3's input: 0..255 at 299 px
    nets = {v: extractor(v, None, data_root) for v in variants}
    loops = {v: (lambda i, net=net: net.pool3(pixels)) for v, net in nets.items()}
    return alternating_medians_by_clock(loops, 1, iters, torch.device("cpu"),
                                        {"wall": time.perf_counter, "cpu": time.process_time})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "cdcgan-mnist",
                        help="a model, run or checkpoint folder, as translate.evaluate takes")
    parser.add_argument("--n", type=int, default=10_000, help="generated images (digit models)")
    parser.add_argument("--real-n", type=int, help="as translate.evaluate --real-n (default: all test images)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--batch-iters", type=int, default=5, help="timed batches per variant in the alternation")
    parser.add_argument("--batches-only", action="store_true",
                        help="time only the Inception batches, not whole first evaluations")
    parser.add_argument("--data", help="folder holding the datasets and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="added to the result files' name, e.g. the machine")
    parser.add_argument("--note", default="", help="a line under the header, e.g. what else ran on the machine")
    args = parser.parse_args(argv)
    if BASELINE not in args.variants:
        parser.error(f"--variants must include the baseline {BASELINE}")
    torch.manual_seed(0)
    data_root = resolve_data_root(args.data)
    base = {"data_root": data_root, "n": args.n, "real_n": args.real_n, "progress": Progress.for_stderr()}
    runs = [] if args.batches_only else [first_evaluation(args.model, variant, base) for variant in args.variants]
    medians = inception_medians(args.variants, data_root, 50, args.batch_iters)
    wall, cpu = medians["wall"], medians["cpu"]
    lines = [
        ("Inception batches only (`--batches-only`)" if args.batches_only else
         f"First `translate.evaluate {args.model.name} --n {args.n}`"
         + (f" `--real-n {args.real_n}`" if args.real_n else "")
         + " (empty feature cache), one variant after the other")
        + f"; {describe_cpu()}, {torch.get_num_threads()} threads, torch {torch.__version__}. Inception batch: "
        f"median wall and CPU seconds per batch of 50 digits, the variants taking turns ({args.batch_iters} timed "
        "batches each, both clocks timing the same batches).",
        *([args.note] if args.note else []),
        "",
        "| Inception network | first evaluation (s) | speed-up | Inception batch, wall s | speed-up "
        "| Inception batch, CPU s | speed-up | FID | ΔFID | KID |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    finished = {run["variant"]: run for run in runs}
    for name in args.variants:
        batch = (f"{wall[name]:.2f} | {wall[BASELINE] / wall[name]:.2f}× | "
                 f"{cpu[name]:.2f} | {cpu[BASELINE] / cpu[name]:.2f}×")
        if name not in finished:
            lines.append(f"| {VARIANTS[name]} | not run | | {batch} | | | |")
            continue
        run, baseline = finished[name], finished[BASELINE]
        ours, theirs = fids(run["scores"]), fids(baseline["scores"])
        fid_text = ", ".join(f"{value:.3f}" for value in ours.values())
        delta = ", ".join(f"{ours[key] - theirs[key]:+.3f}" for key in ours)
        kid = run["scores"].get("kid_mean")
        lines.append(f"| {VARIANTS[name]} | {run['seconds']:.0f} | {baseline['seconds'] / run['seconds']:.2f}× | "
                     f"{batch} | {fid_text} | {delta} | {'' if kid is None else f'{kid:.5f}'} |")
    table = "\n".join(lines) + "\n"
    print(table)
    stem = "evaluate-speed" + (f"-{args.tag}" if args.tag else "")
    save_result(args.out / f"{stem}.md", table,
                {"model": str(args.model), "n": args.n, "real_n": args.real_n, "note": args.note, "runs": runs,
                 "inception_batch_medians": medians}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
