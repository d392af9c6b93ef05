"""How much faster is bf16 than fp32 for the convolutions a CycleGAN step spends its time in?

A training step on the CPU is about 85% convolution forward and backward (torch.profiler on
``CycleGANRecipe.step``), so the speed-up bf16 gives those convolutions bounds the speed-up
of the whole step. Times one 3x3 convolution, forward and backward at batch 1, at the shapes
of the ResNet generator (ngf 64) at a 128-px input, in fp32 and in bf16, and a 2048 x 2048
matmul for comparison with the figure matmuls alone give.

    python bench/conv_precision.py [--iters 20] [--note TEXT] [--tag NAME]

prints a Markdown table and saves it (and a JSON copy) as bench/results/conv-precision-cpu.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch
from provenance import save_result
from timing import alternating_medians

from translate.cli import run_cli
from translate.modeling.device import describe_cpu

RESULTS = Path(__file__).resolve().parent / "results"
# (channels, side): the generator's full-resolution, half-resolution and residual-block maps at 128 px.
SHAPES = [(64, 128), (128, 64), (256, 32)]
WARMUP = 3


def conv_step(channels: int, side: int, dtype: torch.dtype) -> Callable[[int], object]:
    """One forward and backward of a 3x3 convolution (input and weight gradients, computed
    afresh each call: accumulating into .grad would add an elementwise sum to the timing)."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(dtype)
    x = torch.randn(1, channels, side, side, dtype=dtype, requires_grad=True)
    inputs = (x, *conv.parameters())
    return lambda _: torch.autograd.grad(conv(x).sum(), inputs)


def matmul(n: int, dtype: torch.dtype) -> Callable[[int], object]:
    a = torch.randn(n, n).to(dtype)
    return lambda _: a @ a


def in_turn(make: Callable[[torch.dtype], Callable[[int], object]], iters: int) -> tuple[float, float]:
    """(fp32, bf16) median seconds, the two taking turns so that a busy machine slows both alike."""
    medians = alternating_medians({"fp32": make(torch.float32), "bf16": make(torch.bfloat16)}, WARMUP, iters,
                                  torch.device("cpu"))
    return medians["fp32"], medians["bf16"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--note", default="", help="a line under the header, e.g. what else ran on the machine")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="cpu",
                        help="the results' name, conv-precision-TAG.md: one per machine, so that a run on one "
                        "does not replace another's (default cpu)")
    args = parser.parse_args(argv)
    rows = []
    for channels, side in SHAPES:
        flops = 3 * 2 * channels * channels * 9 * side * side  # forward, input and weight gradients
        fp32, bf16 = in_turn(lambda dtype, c=channels, s=side: conv_step(c, s, dtype), args.iters)
        rows.append({"what": f"3x3 conv, {channels} channels, {side}x{side}, forward + backward",
                     "fp32_s": fp32, "bf16_s": bf16, "gflop": flops / 1e9})
    n = 2048
    fp32, bf16 = in_turn(lambda dtype: matmul(n, dtype), args.iters)
    rows.append({"what": f"{n} x {n} matmul", "fp32_s": fp32, "bf16_s": bf16, "gflop": 2 * n**3 / 1e9})
    lines = [
        f"{describe_cpu()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, batch 1, median of {args.iters} runs after {WARMUP} warm-up, fp32 and "
        "bf16 taking turns.",
        *([args.note] if args.note else []),
        "",
        "| operation | fp32 ms | fp32 GFLOP/s | bf16 ms | bf16 GFLOP/s | bf16 speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['what']} | {row['fp32_s'] * 1e3:.1f} | {row['gflop'] / row['fp32_s']:.0f} | "
                     f"{row['bf16_s'] * 1e3:.1f} | {row['gflop'] / row['bf16_s']:.0f} | "
                     f"{row['fp32_s'] / row['bf16_s']:.2f}x |")
    table = "\n".join(lines) + "\n"
    print(table)
    save_result(args.out / f"conv-precision-{args.tag}.md", table,
                {"iters": args.iters, "warmup": WARMUP, "note": args.note, "rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
