"""Does bf16 autocast train like fp32? Two recipes of the same family, one per precision,
start from the same weights and take the same real batches in turn; their losses are
compared window by window over a few hundred steps.

GAN losses are noisy step to step and the two runs drift apart as rounding differs, so the
comparison is of window means, not of single steps.

    python bench/precision_losses.py [--steps 300] [--window 50] [--data DIR]

prints a Markdown table and saves it (and a JSON copy) as bench/results/precision-losses[-TAG].md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.domains import domain_files, find_domains
from translate.datasets.root import resolve_data_root
from translate.families.cyclegan.nets import CycleGANConfig
from translate.families.cyclegan.recipe import CycleGANRecipe
from translate.families.cyclegan.settings import CycleGANHyper
from translate.families.translation_recipe import RecipeOptions
from translate.modeling.device import describe_cpu
from translate.training.distributed import Context
from translate.training.domains import UnpairedImages, UnpairedSource

RESULTS = Path(__file__).resolve().parent / "results"
TERMS = ("g_A", "g_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "d_A", "d_B")


def run(precision: str, batches: list, config: CycleGANConfig, seed: int) -> tuple[dict[str, list[float]], float]:
    torch.manual_seed(seed)  # the same initial weights for both precisions
    fixed = (batches[0][0], batches[0][1])
    recipe = CycleGANRecipe(config, CycleGANHyper(), Context(), fixed, RecipeOptions(seed, precision=precision))
    logs: dict[str, list[float]] = {term: [] for term in TERMS}
    began = time.perf_counter()
    for step, batch in enumerate(batches):
        for key, value in recipe.step(batch, step).items():
            if key in logs:
                logs[key].append(value)
    return logs, time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--data", help="folder holding horse2zebra/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="",
                        help="the results' name, precision-losses-TAG.md: one per machine, so that a run on one "
                        "does not replace another's (default none)")
    args = parser.parse_args(argv)
    folders = find_domains(resolve_data_root(args.data), "horse", "zebra")
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), 256, args.crop, 0)
    source = UnpairedSource(dataset, 1, 0, 0)
    batches = [batch for _, batch in zip(range(args.steps), source.batches(0), strict=False)]
    config = CycleGANConfig(ngf=args.ngf, image_size=args.crop)
    results = {precision: run(precision, batches, config, 0) for precision in ("fp32", "bf16")}
    rows = []
    for start in range(0, args.steps, args.window):
        row = {"steps": f"{start + 1}-{min(start + args.window, args.steps)}"}
        for term in TERMS:
            fp32, bf16 = (float(np.mean(results[p][0][term][start : start + args.window])) for p in ("fp32", "bf16"))
            row[term] = (fp32, bf16)
        rows.append(row)
    speed = results["fp32"][1] / results["bf16"][1]
    header = (f"CycleGAN, ngf {args.ngf}, 9 blocks, {args.crop}-px crops of the real horse2zebra photos, batch 1, "
              f"the same initial weights and batches; window means of each loss term, fp32 / bf16 autocast. "
              f"{args.steps} steps took {results['fp32'][1]:.0f} s in fp32 and {results['bf16'][1]:.0f} s in bf16 "
              f"({speed:.2f}x), one run after the other (bench/train_step.py times precisions in turn); "
              f"{describe_cpu()}, torch {torch.__version__}, {torch.get_num_threads()} threads.")
    lines = [header, "", "| steps | " + " | ".join(TERMS) + " |", "|---|" + "---|" * len(TERMS)]
    for row in rows:
        lines.append(f"| {row['steps']} | " + " | ".join(f"{row[t][0]:.3f} / {row[t][1]:.3f}" for t in TERMS) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    name = f"precision-losses-{args.tag}" if args.tag else "precision-losses"
    save_result(args.out / f"{name}.md", table, {"steps": args.steps, "window": args.window, "rows": rows,
                                                 "seconds": {p: r[1] for p, r in results.items()}}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
