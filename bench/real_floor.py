"""The floor under every MNIST FID we publish: real digits against real digits, at the counts
our evaluations use, under the same protocol (translate.evaluation).

FID has a finite-sample bias: two sets drawn from the same distribution do not score 0.
Here the first N digits of the MNIST training split are scored against the first N of the
test split (the set ``translate.evaluate`` compares generators with), so a generator's
FID at N samples can be read against what real data scores at N.

    python bench/real_floor.py [--counts 500 2000 10000] [--data DIR]

prints a Markdown table and saves it (and a JSON copy) as bench/results/real-floor.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.mnist import load_mnist
from translate.datasets.root import resolve_data_root
from translate.evaluation.inception import InceptionFeatures, cached_features
from translate.evaluation.protocols import KID_SUBSET_SIZE, KID_SUBSETS, network_protocol
from translate.evaluation.scores import fid, kid
from translate.modeling.pixels import to_unit
from translate.progress import Progress

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--data", help="folder holding mnist/ and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    root = resolve_data_root(args.data)
    extractor = InceptionFeatures(data_root=root)
    most = max(args.counts)
    sets = {}
    for split in ("train", "test"):
        images = to_unit(load_mnist(root, split)[0][:most, :, :, None])
        # The test split's first 10,000 are the set translate.evaluate caches: the same key here.
        name = "mnist-test-28px" if split == "test" else "mnist-train-28px"
        sets[split] = cached_features(extractor, images, name, batch_size=50, progress=Progress.for_stderr())
    rows = []
    for n in args.counts:
        train, test = sets["train"][:n], sets["test"][:n]
        kid_mean, kid_std = kid(train, test, KID_SUBSETS, KID_SUBSET_SIZE, 0)
        rows.append({"n": n, "fid": fid(train, test), "kid_mean": kid_mean, "kid_std": kid_std})
        print(f"{n} vs {n}: FID {rows[-1]['fid']:.2f}, KID {kid_mean:.5f} ± {kid_std:.5f}", flush=True)
    header = (f"Real against real MNIST: the first N training digits against the first N test digits, "
              f"28 px, {network_protocol(extractor)['inception_input']}; KID: {KID_SUBSETS} subsets of "
              f"min({KID_SUBSET_SIZE}, N); torch {torch.__version__}.")
    lines = [header, "", "| N vs N | FID | KID (×10³) |", "|---|---|---|"]
    lines += [f"| {r['n']:,} | {r['fid']:.2f} | {1000 * r['kid_mean']:.3f} ± {1000 * r['kid_std']:.3f} |"
              for r in rows]
    table = "\n".join(lines) + "\n"
    print(table)
    save_result(args.out / "real-floor.md", table, {"rows": rows, "protocol": network_protocol(extractor)},
                __file__, argv)


if __name__ == "__main__":
    run_cli(main)
