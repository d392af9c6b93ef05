"""Does running a CycleGAN step's network passes as one batch pay on the CPU?

``CycleGenerators`` maps the two images each generator sees in a step (G: real A and
F(B); F: real B and G(A)) as one batch of two instead of two calls of one, and
``CycleDiscriminators`` scores each discriminator's real and fake images as one batch (the
same results with instance norm). That means fewer, larger kernels, which suits CUDA; this
measures what it does on the CPU: forward and backward of both generators (ngf 64, 9
blocks, identity loss on) and of both discriminators (70x70 PatchGAN, LSGAN loss), joint
against separate, the two taking turns, in fp32 and bf16 autocast, at 128 and 256 px.

    python bench/joint_batch.py [--sizes 128 256] [--warmup 2] [--iters 5]

prints a Markdown table and saves it (and a JSON copy) as bench/results/joint-batch-TAG.md
(--tag, default cpu).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from provenance import save_result
from timing import alternating_medians

from translate.cli import run_cli
from translate.families.cyclegan.nets import CycleGANConfig, build_discriminator, build_generator
from translate.families.cyclegan.recipe import CycleDiscriminators, CycleGenerators
from translate.families.cyclegan.settings import CycleGANHyper
from translate.modeling.device import autocast, describe_cpu
from translate.modeling.losses import adversarial

RESULTS = Path(__file__).resolve().parent / "results"
CPU = torch.device("cpu")
JOINT = {"joint": True, "separate": False}


def pass_seconds(networks: str, size: int, precision: str, warmup: int, iters: int) -> dict[str, float]:
    """Median seconds of one forward and backward of both generators or both discriminators,
    joint and separate."""
    torch.manual_seed(0)
    config = CycleGANConfig(image_size=size)
    images = [torch.rand(1, 3, size, size) * 2 - 1 for _ in range(4)]
    if networks == "generators":
        nets = build_generator(config), build_generator(config)
        modules = {name: CycleGenerators(*nets, identity=True, joint=joint) for name, joint in JOINT.items()}

        def loss(module: torch.nn.Module) -> torch.Tensor:
            with autocast(precision, CPU):
                out = module(*images[:2])
            return sum(image.float().mean() for image in out.values())
    else:
        nets = build_discriminator(config), build_discriminator(config)
        d_loss = adversarial("lsgan")[0]
        modules = {name: CycleDiscriminators(*nets, d_loss, CycleGANHyper(), autocast(precision, CPU), joint)
                   for name, joint in JOINT.items()}

        def loss(module: torch.nn.Module) -> torch.Tensor:
            return module(*images)[0]

    def pass_(module: torch.nn.Module) -> None:
        for net in nets:
            net.zero_grad(set_to_none=True)
        loss(module).backward()

    loops = {name: lambda i, module=module: pass_(module) for name, module in modules.items()}
    return alternating_medians(loops, warmup, iters, CPU)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="cpu",
                        help="the results' name, joint-batch-TAG.md: one per machine, so that a run on one does not "
                        "replace another's (default cpu)")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        for networks in ("generators", "discriminators"):
            for precision in ("fp32", "bf16"):
                result = pass_seconds(networks, size, precision, args.warmup, args.iters)
                rows.append({"size": size, "networks": networks, "precision": precision, **result})
                print(f"{size} px {networks} {precision}: joint {result['joint']:.3f} s, "
                      f"separate {result['separate']:.3f} s", flush=True)
    lines = [
        f"Both CycleGAN generators (ngf 64, 9 blocks, identity on) or both discriminators (70x70 PatchGAN, "
        f"LSGAN), forward and backward; {describe_cpu()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; joint: each "
        f"network's two inputs as one batch of 2, separate: two calls of 1; median of {args.iters} timed "
        f"passes after {args.warmup} warm-up, the two taking turns.",
        "",
        "| size | networks | precision | joint s | separate s | joint's speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['size']}x{row['size']} | {row['networks']} | {row['precision']} | {row['joint']:.3f} | "
                     f"{row['separate']:.3f} | {row['separate'] / row['joint']:.2f}x |")
    table = "\n".join(lines) + "\n"
    print(table)
    save_result(args.out / f"joint-batch-{args.tag}.md", table,
                {"warmup": args.warmup, "iters": args.iters, "rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
