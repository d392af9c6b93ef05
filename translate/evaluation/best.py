"""Scoring a translation run as it trains (``--eval-every``), and keeping the generators that
scored best as a model folder, ``RUN/best``, with the scores that made them the best. Any
translation family's run uses it: the family names itself and its generators' prefixes."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from translate.errors import ConfigError
from translate.evaluation.fidelity import FIDELITY_METRICS
from translate.evaluation.protocols import Scorer
from translate.io.fileio import file_sha256, read_json_if_exists, replace_folder, write_json
from translate.modeling.checkpoint import WEIGHTS, write_model_folder

BEST_RECORD = "evaluation.json"  # in RUN/best: the scores that made those generators the best
# What each direction's scoring reports to metrics.jsonl and TensorBoard, where the scorer gives
# it (paired scoring adds L1, PSNR and SSIM against the targets).
SCALARS = ("fid", "kid_mean", *FIDELITY_METRICS)


def best_keeping_evaluator(
    scorer: Scorer,
    shipped: Callable[[], dict[str, nn.Module]],
    best_dir: Path,
    family: str,
    model_config: dict[str, Any],
    prefixes: dict[str, str],
    notes: Callable[[], dict[str, int]] = dict,
    train_config: dict[str, Any] | None = None,
) -> Callable[[int], dict[str, float]]:
    """A trainer's evaluator: FID and KID of the generators the run ships (``shipped()``, by
    direction) on the test sets; those with the best FID of the first direction so far are
    kept in ``best_dir`` as a model folder of ``family``, each generator under its prefix, with
    the run's ``train_config`` (what a card of them states). ``notes()`` adds counts to the
    scores and the record (e.g. how many weights an average holds)."""
    best = best_so_far(best_dir / BEST_RECORD)
    primary_direction = next(iter(prefixes))

    def evaluate(epoch: int) -> dict[str, float]:
        generators = shipped()
        scores = scorer.score(generators)
        flat = {f"{name}/{metric}": value[metric] for name, value in scores.items() if name != "protocol"
                for metric in SCALARS if metric in value}
        noted = notes()
        flat.update(noted)
        primary = next(v["fid"] for v in scores.values() if v.get("direction") == primary_direction)
        if primary < best.get("fid", float("inf")):
            best.clear()
            best.update(fid=primary, epoch=epoch, scores=scores, **noted)
            keep_best(best_dir, family, model_config, {prefixes[d]: net for d, net in generators.items()}, best,
                      train_config)
        return flat

    return evaluate


def keep_best(best_dir: Path, family: str, model_config: dict[str, Any], generators: dict[str, nn.Module],
              record: dict[str, Any], train_config: dict[str, Any] | None = None) -> None:
    """Write ``best_dir`` as a model folder of ``generators`` with their scores, ``record``, in
    place of the one before as a whole: never the weights of one epoch with the scores of another.
    The record names the weights it scored (``weights_sha256``, as ``translate.evaluate --out``
    does), so that ``translate.export RUN/best`` carries the scores into the ONNX file."""

    def write(folder: Path) -> None:
        write_model_folder(folder, family, model_config, generators, train_config)
        write_json(folder / BEST_RECORD, {**record, "weights_sha256": file_sha256(folder / WEIGHTS)})

    replace_folder(best_dir, write)


def best_so_far(record: Path) -> dict[str, Any]:
    """The record of ``best/`` (empty when there is none yet), checked when the run starts: a
    damaged one would otherwise fail the first scoring, an epoch later, or (a NaN FID) keep
    ``best/`` from ever being replaced."""
    if not record.exists():
        return {}
    best = read_json_if_exists(record)  # a FIFO there is refused, not waited on
    if isinstance(best, dict):
        fid = best.get("fid")
        if isinstance(fid, (int, float)) and not isinstance(fid, bool) and 0 <= fid < math.inf:
            return best
        found = f"its fid is {reprlib.repr(fid)}, not a FID"
    else:
        found = "not JSON" if best is None else f"a JSON {type(best).__name__} where an object belongs"
    raise ConfigError(f"{record} is damaged ({found}): remove {record.parent} to keep the best generators afresh, "
                      "or put back the record the run wrote")
