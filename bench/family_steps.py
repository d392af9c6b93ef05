"""Seconds per training step of each translation family's recipe, side by side, on the same
inputs and in the same precision: what a step of CUT, FastCUT and pix2pix costs against a
CycleGAN step. Issue 31 estimated CUT at about 0.69x and FastCUT at 0.36x of a CycleGAN step
by counting network passes; this measures it, and gives the steps a CPU-time budget buys.

    python bench/family_steps.py [--size 128] [--precision bf16] [--compile] [--warmup 3] [--iters 8]
                                 [--pix2pix-depth D] [--pix2pix-upsample transpose|resize]

Each recipe is the one ``translate.train`` builds (CycleGANRecipe, CUTRecipe in both modes,
Pix2PixRecipe with and without its discriminator), at batch 1 with the networks the CPU
recipes use: ResNet generators of ngf 64 and 9 blocks with 70x70 PatchGANs, and pix2pix's
U-Net of ngf 64 as deep as the size allows (depth 7 at 128 px; ``--pix2pix-depth`` and
``--pix2pix-upsample`` time the U-Net a run uses instead). Inputs are in memory (data
loading is not timed); the recipes take turns, step by step, so a busy machine slows them
alike, and each gets its median. Wall time and the process's CPU time are both measured.
Saves ``bench/results/family-steps-<device>[-TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch
from provenance import save_result
from timing import Timed, alternating_timings_by_clock

from translate.cli import run_cli
from translate.families.cut.nets import CUTConfig, nce_layers
from translate.families.cut.recipe import CUTRecipe
from translate.families.cut.settings import MODES, CUTHyper
from translate.families.cyclegan.nets import CycleGANConfig
from translate.families.cyclegan.recipe import CycleGANRecipe
from translate.families.cyclegan.settings import CycleGANHyper
from translate.families.pix2pix.nets import Pix2PixConfig
from translate.families.pix2pix.recipe import Pix2PixRecipe
from translate.families.pix2pix.settings import Pix2PixHyper
from translate.families.translation_recipe import RecipeOptions
from translate.modeling.device import describe_device, select_device
from translate.training.distributed import Context

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = "CycleGAN"


def cut_recipe(mode: str, size: int, context: Context, batch: tuple[torch.Tensor, torch.Tensor],
               options: RecipeOptions) -> CUTRecipe:
    """A CUT recipe in ``mode`` with the mode's defaults, as ``translate.train cut --mode`` sets them."""
    config = CUTConfig(image_size=size)
    defaults = MODES[mode]
    hyper = CUTHyper(mode=mode, lambda_nce=defaults.lambda_nce, nce_identity=defaults.nce_identity,
                     flip_equivariance=defaults.flip_equivariance, nce_layers=nce_layers(config.n_blocks))
    recipe = CUTRecipe(config, hyper, context, batch, options)
    recipe.prepare(lambda: batch)
    return recipe


def deepest(size: int) -> int:
    """The deepest U-Net ``size`` allows (a multiple of 2**depth, 8 at most), as the reference's
    ``unet_256`` is at 256 px: 7 at 128 px, 5 at 96."""
    return min(8, (size & -size).bit_length() - 1)


def pix2pix_recipe(l1_only: bool, unet: Pix2PixConfig, context: Context, batch: tuple[torch.Tensor, torch.Tensor],
                   options: RecipeOptions) -> Pix2PixRecipe:
    """pix2pix with the U-Net ``unet`` describes, with its discriminator or, ``l1_only``, without."""
    recipe = Pix2PixRecipe(unet, Pix2PixHyper(l1_only=l1_only), context, batch, options)
    recipe.prepare(lambda: batch)
    return recipe


def recipes(size: int, context: Context, batch: tuple[torch.Tensor, torch.Tensor], precision: str,
            compile: bool, unet: Pix2PixConfig) -> dict[str, object]:
    options = RecipeOptions(precision=precision, compile=compile)
    return {
        BASELINE: CycleGANRecipe(CycleGANConfig(image_size=size), CycleGANHyper(), context, batch, options),
        "CUT": cut_recipe("cut", size, context, batch, options),
        "FastCUT": cut_recipe("fastcut", size, context, batch, options),
        "pix2pix": pix2pix_recipe(False, unet, context, batch, options),
        "pix2pix L1 only": pix2pix_recipe(True, unet, context, batch, options),
    }


def measure(size: int, device: torch.device, precision: str, compile: bool, warmup: int,
            iters: int, unet: Pix2PixConfig) -> dict[str, dict[str, Timed]]:
    """Wall and CPU seconds per step (median and range) of each family's recipe."""
    torch.manual_seed(0)
    batch = tuple(torch.rand(1, 3, size, size, device=device) * 2 - 1 for _ in range(2))
    built = recipes(size, Context(device=device), batch, precision, compile, unet)
    loops: dict[str, Callable[[int], object]] = {name: (lambda i, r=r: r.step(batch, i)) for name, r in built.items()}
    timed = alternating_timings_by_clock(loops, warmup, iters, device,
                                         {"wall": time.perf_counter, "cpu": time.process_time})
    return {name: {clock: timed[clock][name] for clock in timed} for name in loops}


def table(result: dict[str, dict[str, Timed]], header: str) -> str:
    base = result[BASELINE]["wall"].median
    columns = f"| recipe | s/step | range | CPU-s/step | range | vs {BASELINE} (wall) | steps per CPU-hour |"
    lines = [header, "", columns, "|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in result.items():
        wall, cpu = row["wall"], row["cpu"]
        lines.append(f"| {name} | {wall.median:.3f} | {wall.range()} | {cpu.median:.3f} | {cpu.range()} | "
                     f"{wall.median / base:.2f}x | {3600 / cpu.median:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128, help="the training crop, in pixels")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks, as the CPU recipes do")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per recipe (compiling happens here)")
    parser.add_argument("--iters", type=int, default=8, help="timed steps per recipe")
    parser.add_argument("--pix2pix-depth", type=int, help="the U-Net's depth (default: as deep as --size allows)")
    parser.add_argument("--pix2pix-upsample", choices=["transpose", "resize"], default="transpose",
                        help="the U-Net decoder's up-sampling (pix2pix's --upsample)")
    parser.add_argument("--gpu", action="store_true", help="CUDA instead of the CPU")
    parser.add_argument("--note", default="", help="a line to add under the table (e.g. 'machine busy')")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="added to the result files' name, e.g. the machine")
    args = parser.parse_args(argv)
    device = select_device(args.gpu)
    depth = deepest(args.size) if args.pix2pix_depth is None else args.pix2pix_depth
    unet = Pix2PixConfig(image_size=args.size, depth=depth,
                         upsample=args.pix2pix_upsample, dataset="in-memory")
    unet.validate()  # a depth the size does not allow is one line, before anything is built
    result = measure(args.size, device, args.precision, args.compile, args.warmup, args.iters, unet)
    header = (f"Training step of each translation family at {args.size} px, batch 1, {args.precision}"
              f"{' + torch.compile' if args.compile else ''}; ResNet generators ngf 64, 9 blocks, 70x70 PatchGANs; "
              f"pix2pix U-Net ngf 64, depth {unet.depth}, {unet.upsample} up-sampling, {unet.norm} norm; "
              f"{describe_device(device)}, torch "
              f"{torch.__version__}, {torch.get_num_threads()} threads; median of {args.iters} steps after "
              f"{args.warmup} warm-up, the recipes taking turns (CPU time: the process's, all its threads; "
              f"its range: the fastest to the slowest step).")
    text = table(result, header) + (f"\n{args.note}\n" if args.note else "")
    print(text)
    stem = f"family-steps-{device.type}" + (f"-{args.tag}" if args.tag else "")
    save_result(args.out / f"{stem}.md", text,
                {"device": describe_device(device), "size": args.size, "precision": args.precision,
                 "compile": args.compile, "warmup": args.warmup, "iters": args.iters, "note": args.note,
                 "pix2pix": {"depth": unet.depth, "upsample": unet.upsample, "norm": unet.norm},
                 "steps": {name: {clock: t.median for clock, t in row.items()} for name, row in result.items()},
                 "ranges": {name: {clock: [t.low, t.high] for clock, t in row.items()}
                            for name, row in result.items()}}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
