"""The truncation trick's trade-off for the shipped digit models: FID, KID, Inception Score
and conditional accuracy at each threshold T, exactly as ``translate.evaluate MODEL --n N
--truncation T`` reports them, as a table and a plot.

BigGAN's truncation (Brock et al. 2019, §3.1) draws every code component again until
|z| <= T: smaller T gives more typical images (IS and accuracy rise) and less variety, which
FID, comparing the whole distribution with the real one, should punish. Each (model, T) row
is one evaluation (about four minutes on two cores once the real digits' features are
cached); rows already in ``<out>/truncation.jsonl`` are kept, so an interrupted sweep
continues where it stopped.

    python bench/truncation.py [--models models/cdcgan-mnist models/dcgan-mnist]
        [--truncation none 2 1.5 1 0.5] [--n 10000] [--data DIR]

prints a Markdown table and saves it (bench/results/truncation.md, a JSON copy) and the plot
(bench/results/truncation.png; needs matplotlib: ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from plots import new_figure
from provenance import save_result

from translate.cli import run_cli
from translate.datasets.root import resolve_data_root
from translate.evaluation.protocols import EvaluationRequest
from translate.families import get_family
from translate.io.fileio import atomic_write
from translate.modeling.checkpoint import read_checkpoint
from translate.modeling.device import describe_cpu

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
NONE = "none"
TITLES = ("FID (lower is better)", "Inception Score by the MNIST judge (at most 10)")


def _truncation(text: str) -> float | None:
    return None if text == NONE else float(text)


def _label(truncation: float | None) -> str:
    return NONE if truncation is None else f"{truncation:g}"


def score(model: Path, truncation: float | None, n: int, data_root: Path) -> dict[str, Any]:
    """One row: what ``translate.evaluate model --n n --truncation T`` prints, and its seconds."""
    checkpoint = read_checkpoint(model)
    request = EvaluationRequest(data_root=data_root, n=n, truncation=truncation)
    began = time.perf_counter()
    scores = get_family(checkpoint.family).evaluate(checkpoint, request)
    return {"model": model.name, "truncation": truncation, "seconds": time.perf_counter() - began,
            "fid": scores["fid"], "kid_mean": scores["kid_mean"], "kid_std": scores["kid_std"],
            "is_mean": scores["inception_score"]["mean"], "is_std": scores["inception_score"]["std"],
            "conditional_accuracy": scores.get("conditional_accuracy"),
            "real_is_mean": scores["real_inception_score"]["mean"], "protocol": scores["protocol"]}


def sweep(models: list[Path], truncations: list[float | None], n: int, data_root: Path,
          log: Path) -> list[dict[str, Any]]:
    """Every (model, T) row, reading finished ones from ``log`` and appending new ones to it."""
    done = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            if row["n"] == n:
                done[(row["model"], row["truncation"])] = row
    rows = []
    for model in models:
        for truncation in truncations:
            row = done.get((model.name, truncation))
            if row is None:
                row = {**score(model, truncation, n, data_root), "n": n}
                with log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            print(f"{row['model']} T={_label(truncation)}: FID {row['fid']:.3f} IS {row['is_mean']:.3f}", flush=True)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], n: int) -> str:
    lines = [
        f"The truncation trick's trade-off: `translate.evaluate MODEL --n {n} --truncation T` for each row "
        f"({n:,} generated digits from the codes of seed 0 against the {rows[0]['protocol']['real_images']:,} MNIST "
        f"test digits; FID and KID by the "
        f"FID Inception network in fp32, IS by the MNIST judge over 10 splits); {describe_cpu()}, "
        f"torch {torch.__version__}.",
        "",
        "| model | truncation T | FID | KID × 1000 | IS | conditional accuracy |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        accuracy = "" if r["conditional_accuracy"] is None else f"{100 * r['conditional_accuracy']:.2f}%"
        kid = f"{1000 * r['kid_mean']:.2f} ± {1000 * r['kid_std']:.2f}"
        lines.append(f"| {r['model']} | {_label(r['truncation'])} | {r['fid']:.2f} | {kid} | "
                     f"{r['is_mean']:.3f} ± {r['is_std']:.3f} | {accuracy} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """FID and IS against T, one line per model; no truncation is drawn at the right as 'none'."""
    labels = list(dict.fromkeys(_label(r["truncation"]) for r in sorted(
        rows, key=lambda r: float("inf") if r["truncation"] is None else r["truncation"])))[::-1]
    figure = new_figure(path, figsize=(9, 3.6), layout="constrained")
    if figure is None:
        return
    axes = figure.subplots(1, 2)
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = {_label(r["truncation"]): r for r in rows if r["model"] == model}
        xs = [i for i, label in enumerate(labels) if label in mine]
        for axis, key in zip(axes, ("fid", "is_mean"), strict=True):
            axis.plot(xs, [mine[labels[i]][key] for i in xs], marker="o", label=model)
    real_is = rows[0]["real_is_mean"]
    axes[1].axhline(real_is, color="grey", linestyle="--", linewidth=1, label=f"MNIST test digits ({real_is:.2f})")
    for axis, title in zip(axes, TITLES, strict=True):
        axis.set_xticks(range(len(labels)), labels)
        axis.set_xlabel("truncation threshold T (smaller: more typical codes)")
        axis.set_title(title, fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, nargs="+",
                        default=[ROOT / "models" / "cdcgan-mnist", ROOT / "models" / "dcgan-mnist"])
    parser.add_argument("--truncation", type=_truncation, nargs="+", default=[None, 2.0, 1.5, 1.0, 0.5],
                        help="thresholds to score at ('none': plain codes)")
    parser.add_argument("--n", type=int, default=10_000, help="generated digits per row (and real test digits)")
    parser.add_argument("--data", help="folder holding mnist/ and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = sweep(args.models, args.truncation, args.n, resolve_data_root(args.data), args.out / "truncation.jsonl")
    text = table(rows, args.n)
    print(text)
    save_result(args.out / "truncation.md", text, {"rows": rows}, __file__, argv)
    plot(rows, args.out / "truncation.png")


if __name__ == "__main__":
    run_cli(main)
