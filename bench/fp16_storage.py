"""Whether storing a model's weights in fp16 moves its scores: the same source packed in fp32
and with ``--fp16``, each scored by ``translate.evaluate`` under the family's protocol, side by
side. A shipped model is stored in fp16 only where its FID moves by less than 0.5 (the
project's rule), and its card quotes this table.

    python bench/fp16_storage.py RUN_OR_CHECKPOINT [--tag NAME] [--work DIR] [evaluate options]

e.g. ``python bench/fp16_storage.py runs/horse2zebra-cpu/best --tag cyclegan-horse2zebra``.
The packed folders stay in ``--work`` (default ``runs/fp16-storage/TAG``) with their
``evaluation.json``; the table goes to ``bench/results/fp16-storage-TAG.{md,json}``. Options
after the source that this script does not know go to ``translate.evaluate`` (``--n``,
``--data``, ``--fid-weights``, ``--cache-dir``...).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from provenance import save_result

from translate.cli import run_cli
from translate.evaluate import main as evaluate_main
from translate.evaluation.fidelity import FIDELITY_METRICS
from translate.evaluation.record import EVALUATION_FILE
from translate.modeling.checkpoint import WEIGHTS
from translate.pack import main as pack_main

RESULTS = Path(__file__).resolve().parent / "results"
STORAGES = {"fp32": [], "fp16": ["--fp16"]}
LIMIT = 0.5  # the largest FID change that fp16 storage may cause in a shipped model


def score_sets(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The FID and KID (and a paired model's L1, PSNR and SSIM) of an evaluate result by what
    they score: ``model`` for a digit model, each direction (``horse_to_zebra``) for a
    translation model."""
    if "fid" in result:
        return {"model": {"fid": result["fid"], "kid": result["kid_mean"]}}
    return {name: {"fid": v["fid"], "kid": v["kid_mean"], **{m: v[m] for m in FIDELITY_METRICS if m in v}}
            for name, v in result.items()
            if isinstance(v, dict) and "kid_mean" in v}  # not the protocol, which says what "fid" means


def measure(source: str, work: Path, evaluate_args: list[str]) -> dict[str, Any]:
    """Pack ``source`` each way into ``work``, score both, and compare."""
    results, sizes = {}, {}
    for storage, flags in STORAGES.items():
        folder = work / storage
        run_cli(pack_main, [source, "--out", str(folder), "--overwrite", *flags])
        run_cli(evaluate_main, [str(folder), "--out", str(folder / EVALUATION_FILE), *evaluate_args])
        results[storage] = score_sets(json.loads((folder / EVALUATION_FILE).read_text()))
        sizes[storage] = (folder / WEIGHTS).stat().st_size
    rows = [{"scored": name, **{f"{metric}_{storage}": results[storage][name][metric]
                                for storage in STORAGES for metric in results["fp32"][name]},
             "fid_change": results["fp16"][name]["fid"] - results["fp32"][name]["fid"]}
            for name in results["fp32"]]
    return {"source": source, "rows": rows, "bytes": sizes,
            "within_limit": all(abs(row["fid_change"]) < LIMIT for row in rows)}


def table(measured: dict[str, Any]) -> str:
    paired = [m for m in FIDELITY_METRICS if all(f"{m}_fp32" in r for r in measured["rows"])]
    header = ["scored", "FID fp32", "FID fp16", "change", "KID fp32", "KID fp16",
              *[f"{m.upper()} {storage}" for m in paired for storage in STORAGES]]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += [f"| {r['scored']} | {r['fid_fp32']:.3f} | {r['fid_fp16']:.3f} | {r['fid_change']:+.3f} | "
              f"{r['kid_fp32']:.5f} | {r['kid_fp16']:.5f} |"
              + "".join(f" {r[f'{m}_{storage}']:.4f} |" for m in paired for storage in STORAGES)
              for r in measured["rows"]]
    size = {storage: measured["bytes"][storage] / 2**20 for storage in STORAGES}
    verdict = "within" if measured["within_limit"] else "BEYOND"
    return "\n".join(lines) + (f"\n\n`{measured['source']}`: weights {size['fp32']:.1f} MiB in fp32, "
                               f"{size['fp16']:.1f} MiB in fp16; every FID change is {verdict} ±{LIMIT}.\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Options this script does not know go to translate.evaluate "
                                            "(--n, --data, --fid-weights, --cache-dir...).")
    parser.add_argument("source", help="run folder, checkpoint folder or model folder")
    parser.add_argument("--tag", default="model", help="results go to bench/results/fp16-storage-TAG.*")
    parser.add_argument("--work", type=Path, help="where the packed folders go (default runs/fp16-storage/TAG)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the table goes (default bench/results)")
    args, evaluate_args = parser.parse_known_args(argv)
    if any(arg == "--out" or arg.startswith("--out=") for arg in evaluate_args):
        # Passed on, it would send evaluate's scores away from the folder this script reads them from.
        parser.error("--out is not an option here: the packed folders go to --work, the table to --results")
    measured = measure(args.source, args.work or Path("runs") / "fp16-storage" / args.tag, evaluate_args)
    text = table(measured)
    print(text)
    save_result((args.results / f"fp16-storage-{args.tag}").with_suffix(".md"), text, measured, __file__, argv)


if __name__ == "__main__":
    run_cli(main)
