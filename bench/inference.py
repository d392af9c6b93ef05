"""Inference benchmark: PyTorch eager (fp32, and bf16 autocast on a CPU that computes bf16
natively) vs ONNX Runtime (fp32, fp16 weights, fp16) on this machine.

Times the CycleGAN ResNet generator at 256x256 and the cDCGAN digit generator, at batch
1 and 8, with the same thread count for both runtimes, and relates each to the model's
FLOP count and this machine's fp32 matrix-multiply rate measured in the same run. The bf16
row answers which way `translate.apply` is faster here: a model folder (PyTorch, bf16 under
`--precision auto`) or its exported ONNX file (ONNX Runtime, the precision it was exported in).

    python bench/inference.py [--threads 2] [--repeats 5] [--note TEXT] [--out bench/results/inference-cpu.md]

Weights are random (speed does not depend on them); the digit generator uses the shipped
models/cdcgan-mnist when present.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import onnxruntime as ort
import torch
from provenance import save_result
from timing import alternating_medians
from torch.utils.flop_counter import FlopCounterMode

from translate.cli import run_cli
from translate.families.cyclegan.nets import CycleGANConfig, build_generator
from translate.families.dcgan.nets import DCGANConfig, Generator
from translate.modeling.device import autocast, cpu_bf16_features, describe_cpu
from translate.modeling.half_storage import round_to_fp16
from translate.onnx_contract import ModelInfo
from translate.onnx_export import EXPORT_PRECISIONS, ExportPlan, write_onnx

# Only timed with ONNX Runtime directly, never opened by translate.runtime: minimal metadata.
BENCH_INFO = ModelInfo(family="bench", task="translate", channels=3)

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 2  # untimed calls of each runtime first: allocations, thread pools, caches
DIGIT_CALLS = 100  # a digit batch takes about a millisecond: each of its timings spans this many calls


def matmul_peak(threads: int, size: int = 2048, repeats: int = 10) -> tuple[float, str]:
    """The best fp32 GEMM rate (FLOP/s) among PyTorch and ONNX Runtime on this machine, and
    whose it is: the practical ceiling for convolution-heavy work. Their GEMM libraries differ
    (here ONNX Runtime's MLAS has been about twice as fast as this torch build's), so taking
    one of them alone can understate the ceiling."""
    import onnx
    from onnx import TensorProto, helper

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    tensor = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [size, size])  # noqa: E731
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["C"])], "gemm", [tensor("A"), tensor("B")], [tensor("C")]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {"A": a.numpy(), "B": b.numpy()}
    seconds = alternating_medians({"PyTorch": lambda _: a @ b, "ONNX Runtime": lambda _: session.run(None, feeds)},
                                  WARMUP, repeats, torch.device("cpu"))
    rates = {name: 2 * size**3 / took for name, took in seconds.items()}
    best = max(rates, key=rates.get)
    return rates[
        best
    ], f"{best}'s MatMul (PyTorch {rates['PyTorch'] / 1e9:.0f}, ONNX Runtime {rates['ONNX Runtime'] / 1e9:.0f} GFLOP/s)"


def flops(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        module(*inputs)
    return counter.get_total_flops()


def models() -> list[tuple[str, torch.nn.Module, callable, list[str], int]]:
    """(name, module, inputs(batch), input names, calls per timing) for each benchmarked
    generator: many calls per timing for the fast digits, lest one scheduler hiccup be the median."""
    torch.manual_seed(0)
    cyclegan = build_generator(CycleGANConfig(n_blocks=9, ngf=64)).eval()
    shipped = ROOT / "models" / "cdcgan-mnist"
    if shipped.is_dir():
        from translate.families import load_generator

        digits, config = load_generator(shipped)
    else:
        config = DCGANConfig(n_classes=10)
        digits = Generator(config).eval()

    class Digits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.generator = digits

        def forward(self, z, label):
            return self.generator(z, label)

    return [
        ("CycleGAN generator 256x256", cyclegan, lambda n: (torch.rand(n, 3, 256, 256) * 2 - 1,), ["image"], 1),
        (
            "cDCGAN digits 28x28",
            Digits().eval(),
            lambda n: (torch.randn(n, config.z_dim), torch.arange(n) % 10),
            ["z", "label"],
            DIGIT_CALLS,
        ),
    ]


def run(threads: int, repeats: int) -> tuple[list[dict], float, str]:
    torch.set_num_threads(threads)
    peak, source = matmul_peak(threads)
    rows = []
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    with tempfile.TemporaryDirectory() as tmp:
        for name, module, make_inputs, names, calls in models():
            per_image_flops = flops(module, make_inputs(1))
            sessions = {}
            for precision in EXPORT_PRECISIONS:  # as translate.export writes them
                path = Path(tmp) / f"{len(rows)}-{precision}.onnx"
                axes = {n: {0: "batch"} for n in [*names, "output"]}
                exported = module
                if precision == "fp16-weights":  # its weights must be fp16 values first, as export rounds them
                    exported = copy.deepcopy(module)
                    round_to_fp16(exported)
                plan = ExportPlan(exported, names, axes, [make_inputs(1)], BENCH_INFO, output_names=["output"])
                write_onnx(plan, path, 17, precision)
                sessions[precision] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            for batch in (1, 8):
                inputs = make_inputs(batch)
                feeds = {n: t.numpy() for n, t in zip(names, inputs, strict=True)}
                candidates = {"PyTorch eager fp32": lambda _, m=module, x=inputs: m(*x)}
                if cpu_bf16_features():
                    candidates["PyTorch eager bf16 autocast"] = lambda _, m=module, x=inputs: _in_bf16(m, x)
                for precision, session in sessions.items():
                    candidates[f"ONNX Runtime {precision}"] = lambda _, s=session, f=feeds: s.run(None, f)
                timings = {runtime: _repeated(fn, calls) for runtime, fn in candidates.items()}
                with torch.inference_mode():  # the candidates take turns, so a busy machine slows them alike
                    medians = alternating_medians(timings, WARMUP, repeats, torch.device("cpu"))
                seconds = {runtime: median / calls for runtime, median in medians.items()}
                baseline = seconds["PyTorch eager fp32"]
                for runtime, took in seconds.items():
                    rows.append(
                        {
                            "model": name,
                            "runtime": runtime,
                            "batch": batch,
                            "ms_per_image": 1000 * took / batch,
                            "images_per_s": batch / took,
                            "speedup_vs_eager": baseline / took,
                            "gflop_per_image": per_image_flops / 1e9,
                            "fraction_of_peak": per_image_flops * batch / took / peak,
                        }
                    )
    return rows, peak, source


def _repeated(fn, calls: int):
    """``fn`` called ``calls`` times in a row, as one timing."""
    return lambda i: [fn(i) for _ in range(calls)]


def _in_bf16(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """``module`` under the bf16 autocast that ``--precision auto`` uses on this CPU."""
    with autocast("bf16", torch.device("cpu")):
        return module(*inputs)


def _share(row: dict) -> str:
    """The row's share of the fp32 GEMM ceiling; none for bf16, which that ceiling does not bound."""
    return "—" if "bf16" in row["runtime"] else f"{100 * row['fraction_of_peak']:.0f}%"


def table(rows: list[dict], peak: float, source: str, threads: int, repeats: int, note: str = "") -> str:
    lines = [
        f"Inference on the {describe_cpu()}, {threads} threads, torch {torch.__version__}, "
        f"onnxruntime {ort.__version__}; fp32 GEMM ceiling {peak / 1e9:.0f} GFLOP/s, measured in the same run "
        f"with {source}. Median of {repeats} timings after {WARMUP} warm-up, the runtimes taking turns (a "
        f"digit timing spans {DIGIT_CALLS} calls). ONNX "
        "fp16-weights: stored in fp16, computed in fp32 (what the shipped models use); fp16: computed in fp16.",
        *([note] if note else []),
        "",
        "| model | runtime | batch | ms / image | images / s | vs eager fp32 | GFLOP / image | share of fp32 peak |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['runtime']} | {r['batch']} | {r['ms_per_image']:.3f} | {r['images_per_s']:.1f} "
            f"| {r['speedup_vs_eager']:.2f}x | {r['gflop_per_image']:.3f} | {_share(r)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls of each runtime (the median is kept)")
    parser.add_argument("--note", default="", help="a line under the header, e.g. what else ran on the machine")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "inference-cpu.md",
                        help="where the table goes (name the CPU in it, e.g. inference-cpu-amd-epyc.md)")
    args = parser.parse_args(argv)
    rows, peak, source = run(args.threads, args.repeats)
    text = table(rows, peak, source, args.threads, args.repeats, args.note)
    print(text)
    save_result(args.out, text, {"repeats": args.repeats, "warmup": WARMUP, "note": args.note, "peak_flops": peak,
                                 "peak_source": source, "rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
