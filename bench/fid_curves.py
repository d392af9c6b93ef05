"""Scores over training time, from runs' own ``metrics.jsonl``: the curves that compare
recipes "for the same CPU time" (the CUT candidates against the CycleGAN preset, pix2pix
against its L1-only baseline), as a table and a plot.

    python bench/fid_curves.py NAME=RUN [NAME=RUN ...] [--score horse_to_zebra/fid]
        [--hours H] [--tag NAME]

Each score a run took during training (``--eval-every``) is placed at the run's training
hours when it was taken: the run's own count (``train_hours``) where it recorded one; for runs
recorded before runs were timed, rebuilt from each epoch record's steps and images per second
(marked ≈ in the table; this counts the steps' wall time but not the checkpoint writes, and not
the steps of a process killed before its record). With ``--clock cpu_hours``, the steps of a run
timed only from a later step (``clock_from_step``) count at the CPU time per step it measured
from there on, also marked ≈; a run never timed has no CPU hours. With ``--hours H``, each run's last and best
score within H hours, and its first after, are tabulated too. Saves ``bench/results/fid-curves-TAG.{md,json,png}``
(the plot needs matplotlib: ``pip install -e ".[bench]"``). Hours hold only for the machine a
run trained on, which its records name (``machine``; not recorded before 2026-12-03).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plots import new_figure
from provenance import save_result

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.io.fileio import atomic_write
from translate.io.run_layout import METRICS_FILE, read_metrics
from translate.modeling.checkpoint import CONFIG, find_checkpoint

RESULTS = Path(__file__).resolve().parent / "results"


def batch_size(run: Path) -> int:
    """Images per step of a run, from its newest checkpoint's config."""
    train = json.loads((find_checkpoint(run) / CONFIG).read_text())["train"]
    return int(train.get("batch_size") or train["hyper"]["batch_size"])


def scores_over_time(run: Path, score: str, clock: str = "train_hours") -> list[dict[str, Any]]:
    """(epoch, step, hours, measured, value) of every ``score`` in the run's records, in order,
    at the run's ``clock``: ``train_hours`` (wall) or ``cpu_hours`` (the training process's CPU
    time, which contention from other work on the machine inflates least). Steps taken before
    the run was timed are counted at a rebuilt rate (``hours_per_step``) and marked unmeasured."""
    metrics = run / METRICS_FILE
    if not metrics.is_file():
        raise ConfigError(f"{metrics} does not exist: give NAME=RUN with RUN a training run's folder "
                          "(the --out of translate.train)")
    records = read_metrics(metrics)
    rate = hours_per_step(run, records, clock)
    hours, measured, last_step, rows = 0.0, True, 0, []
    offset = None  # for a run timed from a later step on: the hours rebuilt up to that step
    for record in records:
        if clock in record and offset is None:
            start = record.get("clock_from_step", 0)
            offset = hours + max(start - last_step, 0) * rate(record) if start else 0.0
        if "eval" in record:
            if score in record["eval"]:
                at = offset + record[clock] if clock in record else hours
                rows.append({"epoch": record["epoch"], "step": record["step"], "hours": at,
                             "measured": measured and clock in record, "value": record["eval"][score],
                             "averaged": int(record["eval"].get("generators_averaged", 0))})
        elif "images_per_s" in record:
            if clock in record:
                hours, measured = offset + record[clock], measured and record.get("clock_from_step", 0) == 0
            else:
                hours, measured = hours + (record["step"] - last_step) * rate(record), False
            last_step = record["step"]
    if not rows:
        held = sorted({key for record in records if isinstance(record.get("eval"), dict) for key in record["eval"]})
        raise ConfigError(f"{run}/metrics.jsonl holds no {score!r} scores: " + (
            f"choose one of its own with --score: {', '.join(held)}" if held
            else "it was never scored during training (train with --eval-every N)"))
    return rows


def hours_per_step(run: Path, records: list[dict[str, Any]], clock: str) -> Callable[[dict[str, Any]], float]:
    """The rate at which steps not timed by the run are counted, given an epoch record: wall hours
    from that epoch's own images per second; CPU hours at the run's CPU time per step over the
    span it timed (scoring is never on that clock), as the CPU time of untimed steps was never
    recorded."""
    if clock == "train_hours":
        images_per_step = batch_size(run) if any(clock not in r for r in records if "images_per_s" in r) else 1
        return lambda record: images_per_step / record["images_per_s"] / 3600 if record["images_per_s"] else 0.0
    timed = [r for r in records if clock in r and "images_per_s" in r]
    if not timed:
        if any("images_per_s" in r for r in records):
            raise ConfigError(f"{run}/metrics.jsonl has only epochs recorded before runs were timed: their CPU "
                              "time is unknown; use --clock train_hours, rebuilt from their images per second")
        return lambda record: 0.0
    steps = timed[-1]["step"] - timed[-1].get("clock_from_step", 0)
    per_step = timed[-1][clock] / steps if steps else 0.0
    return lambda record: per_step


def machines(run: Path) -> list[str]:
    """The machines a run's epochs were trained on, as its records name them."""
    records = read_metrics(run / METRICS_FILE)
    return list(dict.fromkeys(record.get("machine", "not recorded") for record in records if "images_per_s" in record))


def within(rows: list[dict[str, Any]], hours: float) -> dict[str, Any]:
    """The last and the best score taken within ``hours`` of training, and the first after: a
    run scored every few epochs has no score at ``hours`` itself, and the curve is not
    interpolated, so a comparison at ``hours`` states the points on both sides."""
    early = [row for row in rows if row["hours"] <= hours]
    after = next((row for row in rows if row["hours"] > hours), None)
    if not early:
        return {"last": None, "next": after, "best": None}
    return {"last": early[-1], "next": after, "best": min(early, key=lambda row: row["value"])}


def _hours(row: dict[str, Any]) -> str:
    return f"{'' if row['measured'] else '≈'}{row['hours']:.2f}"


def table(curves: dict[str, list[dict[str, Any]]], score: str, budget: float | None, clock: str) -> str:
    averaging = any(r.get("averaged") for rows in curves.values() for r in rows)  # --average-from-epoch runs
    extra = (" weights averaged |", " --- |") if averaging else ("", "")
    lines = [f"| run | epoch | step | {clock} | {score} |{extra[0]}", f"| --- | --- | --- | --- | --- |{extra[1]}"]
    for name, rows in curves.items():
        lines += [f"| {name} | {r['epoch']} | {r['step']} | {_hours(r)} | {r['value']:.2f} |"
                  + (f" {r.get('averaged', 0)} |" if averaging else "") for r in rows]
    if budget is not None:
        lines += ["", f"Within {budget:g} {clock}:", "",
                  f"| run | last {score} (epoch, hours) | first after (epoch, hours) | best {score} (epoch, hours) |",
                  "| --- | --- | --- | --- |"]
        for name, rows in curves.items():
            points = within(rows, budget)
            cells = [f"{r['value']:.2f} ({r['epoch']}, {_hours(r)} h)" if r else "none"
                     for r in (points["last"], points["next"], points["best"])]
            lines.append(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} |")
    return "\n".join(lines)


def plot(curves: dict[str, list[dict[str, Any]]], score: str, clock: str, path: Path) -> None:
    figure = new_figure(path, figsize=(7, 4.2))
    if figure is None:
        return
    axes = figure.subplots()
    for name, rows in curves.items():
        axes.plot([r["hours"] for r in rows], [r["value"] for r in rows], marker="o", label=name)
    axes.set_xlabel(clock)
    axes.set_ylabel(score)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="NAME=RUN", help="a label and a run folder")
    parser.add_argument("--score", default="horse_to_zebra/fid", help="an eval key of the runs' metrics.jsonl")
    parser.add_argument("--clock", choices=["train_hours", "cpu_hours"], default="train_hours",
                        help="wall-clock training hours (default), or the training process's CPU hours, which "
                        "other work on the machine inflates least")
    parser.add_argument("--hours", type=float, help="also tabulate each run's last and best score within H hours, "
                        "and its first after")
    parser.add_argument("--tag", default="compare", help="results go to bench/results/fid-curves-TAG.*")
    args = parser.parse_args(argv)
    named = dict(item.split("=", 1) if "=" in item else (Path(item).name, item) for item in args.runs)
    curves = {name: scores_over_time(Path(run), args.score, args.clock) for name, run in named.items()}
    trained_on = {name: machines(Path(run)) for name, run in named.items()}
    text = table(curves, args.score, args.hours, args.clock) + "\n\n" + "".join(
        f"- {name}: `{run}`, trained on {'; '.join(trained_on[name])}\n" for name, run in named.items())
    print(text)
    out = RESULTS / f"fid-curves-{args.tag}"
    save_result(out.with_suffix(".md"), text, {"score": args.score, "clock": args.clock, "runs": named,
                                              "machines": trained_on, "curves": curves, "budget_hours": args.hours},
                __file__, argv)
    plot(curves, args.score, args.clock, out.with_suffix(".png"))


if __name__ == "__main__":
    run_cli(main)
