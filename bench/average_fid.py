"""Does ``--ema`` pay? FID of one DCGAN / cDCGAN checkpoint's live generator against its
weight average, with the average's batch-norm statistics taken two ways: copied from the
live model (what ``--ema`` did before) and estimated for the averaged weights (what it does
now). All three draw the same noise and labels and are scored against the same real set.

    python bench/average_fid.py RUN_OR_CHECKPOINT [--n 2000] [--out bench/results/average-fid.md]

Only compare FIDs taken with the same ``--n``: the small-sample bias on MNIST is large.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.evaluation.inception import InceptionFeatures, cached_features
from translate.evaluation.protocols import real_digits
from translate.evaluation.scores import fid
from translate.families.dcgan.family import generate
from translate.families.dcgan.nets import EMA_NAME, DCGANConfig, Generator
from translate.families.dcgan.recipe import GANRecipe
from translate.families.dcgan.settings import GANHyper
from translate.modeling.checkpoint import load_weights, model_config, read_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def variants(path: str) -> tuple[dict[str, torch.nn.Module], DCGANConfig, str]:
    """The three generators of one checkpoint, in eval mode, and the checkpoint's folder."""
    checkpoint = read_checkpoint(path)
    checkpoint.expect_family("dcgan", "cdcgan")
    if not checkpoint.has_weights(EMA_NAME):
        raise SystemExit(f"{checkpoint.path} holds no weight average: train with --ema")
    config = model_config(checkpoint, DCGANConfig)
    live = Generator(config)
    load_weights(live, checkpoint, "generator")
    recipe = GANRecipe(config, GANHyper(ema=0.5), torch.device("cpu"))
    load_weights(recipe.generator_ema, checkpoint, EMA_NAME)
    recipe.before_checkpoint()  # statistics estimated for the averaged weights
    copied = Generator(config)
    load_weights(copied, checkpoint, EMA_NAME)
    state = copied.state_dict()
    state.update(live.named_buffers())
    copied.load_state_dict(state)
    generators = {"live generator": live, "average, live model's statistics": copied,
                  "average, estimated statistics": recipe.generator_ema}
    return {name: g.eval() for name, g in generators.items()}, config, str(checkpoint.path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="run or checkpoint folder of a run trained with --ema")
    parser.add_argument("--n", type=int, default=2000, help="generated images per variant")
    parser.add_argument("--data", help="folder holding mnist/ and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "average-fid.md")
    args = parser.parse_args(argv)
    generators, config, where = variants(args.checkpoint)
    extractor = InceptionFeatures(None, "cpu", args.data)
    real, _ = real_digits(resolve_data_root(args.data), config.image_size)
    real_feats = cached_features(extractor, real, f"mnist-test-{config.image_size}px")
    rows = []
    for name, generator in generators.items():
        start = time.perf_counter()
        fake = generate(generator, config, args.n, None, 0)
        rows.append({"variant": name, "fid": fid(real_feats, extractor(fake)),
                     "seconds": time.perf_counter() - start})
    write_table(rows, where, args, argv)


def write_table(rows: list[dict], where: str, args: argparse.Namespace, argv: list[str] | None) -> None:
    live = rows[0]["fid"]
    lines = [
        "# Weight average against the live generator",
        "",
        f"`python bench/average_fid.py {where} --n {args.n}` on {platform.machine()} (CPU). FID of {args.n} "
        "generated digits (noise seed 0, labels i % 10) against the 10,000 MNIST test digits; lower is better.",
        "",
        "| generator | FID | vs live |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {row['variant']} | {row['fid']:.2f} | {row['fid'] / live:.2f}x |" for row in rows]
    print("\n".join(lines))
    save_result(args.out, "\n".join(lines), {"checkpoint": where, "n": args.n, "rows": rows}, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
