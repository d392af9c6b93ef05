"""Command line: ``python -m translate.pack RUN_OR_CHECKPOINT --out models/NAME``: a model
folder to ship, holding only what sampling, applying, exporting and scoring need.

The family says which networks that is (the generators; a DCGAN trained with ``--ema``
gives its weight average); discriminators, optimiser state and RNG stay behind. The
folder's ``config.json`` keeps the architecture and the training settings, and the
safetensors header records the source checkpoint, its sha256, and the epoch and step of the
run the weights come from (what the card states their training at). ``--fp16`` stores the weights in
fp16 (half the folder: :mod:`translate.modeling.half_storage`); every command widens them to
fp32 when it loads them. The run's ``metrics.jsonl`` (losses
and, for a CycleGAN, the FID/KID scored during training) comes along as the model's
training record, copied only if it is a regular file (never through a link). A card
(``README.md``) is written from those files (:mod:`translate.model_card`); a card the folder
has keeps its prose, and one written by hand, without a block of figures, is left alone.

``--out`` must be a new or empty folder, or with ``--overwrite`` a model folder of the same
family packed before (its other files, such as a model card, stay). It is never a run or a
checkpoint, nor anything that holds or lies inside the source. Weights, config and training
record are all written and synced under temporary names before any is renamed into place, so
a kill or a full disk leaves the earlier model's files (only a kill within the renames
themselves could mix them), and a killed pack's temporaries are cleared by the next.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from translate.cli import run_cli
from translate.errors import CheckpointError, ConfigError
from translate.evaluation.best import BEST_RECORD
from translate.evaluation.record import direction_chosen_in
from translate.families import get_family
from translate.families.translation import weight_average
from translate.io.fileio import file_sha256, is_temporary, open_regular, read_json_if_exists, remove_temporaries
from translate.io.run_layout import METRICS_FILE, enclosing_run, parse_metrics
from translate.model_card import refresh_card
from translate.modeling.checkpoint import STATE, WEIGHTS, Checkpoint, read_checkpoint, write_model_folder
from translate.modeling.half_storage import FP16_STORAGE

# Where in its run the weights come from; source_chosen_by: the direction whose test-set FID
# chose them (a run's best/), if any.
ORIGIN_KEYS = ("source_epoch", "source_step", "source_choice", "source_chosen_by")
DESCRIPTION = ("Write a model folder to ship: a run's generators and config, and its metrics.jsonl, without "
               "training state.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.pack", description=DESCRIPTION)
    parser.add_argument("checkpoint", help="run folder, checkpoint folder or model folder (e.g. RUN/best)")
    parser.add_argument("--out", type=Path, required=True,
                        help="the model folder to write (e.g. models/NAME): a new or empty folder")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the model in --out, a model folder of the same family packed before")
    parser.add_argument("--fp16", action="store_true",
                        help="store the weights in fp16 (half the folder); they are computed with in fp32")
    args = parser.parse_args(argv)
    checkpoint = read_checkpoint(args.checkpoint)
    check_out(args.out, Path(args.checkpoint), checkpoint, args.overwrite)
    family = get_family(checkpoint.family)
    modules = family.shipped_modules(checkpoint)
    record, copied = training_record(checkpoint.path), None
    if record is not None:  # read (or refused) once, before anything is written: copied, and read for the card
        with open_regular(record, "pack copies only a run's own file: put the run's metrics.jsonl there",
                          follow_links=False) as source:
            copied = source.read()
    metadata = {"source": str(checkpoint.path), "source_sha256": file_sha256(checkpoint.path / WEIGHTS),
                "weights": FP16_STORAGE if args.fp16 else "fp32",
                **weights_origin(checkpoint, parse_metrics(copied) if copied is not None else [])}
    if args.out.is_dir():
        remove_temporaries(args.out)  # a pack killed before this one left them; nothing else writes here now
    # Weights, config and record are replaced together: a kill or a full disk leaves the old ones.
    write_model_folder(args.out, checkpoint.family, checkpoint.model, modules, training_settings(checkpoint),
                       metadata, args.fp16, extra_files={} if copied is None else {METRICS_FILE: copied})
    if copied is None:
        (args.out / METRICS_FILE).unlink(missing_ok=True)  # an overwritten model's record is not this one's
    card = refresh_card(args.out, strict=False)
    print(json.dumps({"out": str(args.out), "networks": sorted(modules), **metadata,
                      "training_record": str(record) if record else None, "card": card}))


def check_out(out: Path, given: Path, checkpoint: Checkpoint, overwrite: bool) -> None:
    """Refuse, before anything is written, an --out that is, holds or lies inside the source or
    any run, a checkpoint, a folder of other files, or (without --overwrite) a model folder."""
    target = out.resolve()
    run = enclosing_run(checkpoint.path)
    for source in dict.fromkeys([*([run] if run else []), checkpoint.path.resolve(), given.resolve()]):
        if target == source or target.is_relative_to(source) or source.is_relative_to(target):
            relation = "is" if target == source else "lies inside" if target.is_relative_to(source) else "holds"
            raise ConfigError(f"--out {out} {relation} {source}, which it packs: choose a new folder outside it")
    holder = enclosing_run(target)
    if holder is not None:
        raise ConfigError(f"--out {out} {'is' if holder == target else 'lies inside'} the training run {holder}: "
                          "choose a new folder outside any run")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: choose a new folder")
    if not out.exists() or not any(not is_temporary(item) for item in out.iterdir()):  # a killed pack's leftovers
        return
    if (out / STATE).exists():
        raise ConfigError(f"--out {out} is a training checkpoint: choose a new folder")
    damage = ""
    try:
        earlier = read_checkpoint(out).family if (out / WEIGHTS).exists() else None
    except CheckpointError as exc:
        earlier, damage = None, f" ({exc})"
    if earlier != checkpoint.family:
        what = f"a {earlier} model" if earlier else f"other files and no readable model{damage}"
        raise ConfigError(f"--out {out} holds {what}: choose a new or empty folder (--overwrite replaces only a "
                          f"{checkpoint.family} model folder packed before)")
    if not overwrite:
        raise ConfigError(f"--out {out} already holds a {earlier} model: add --overwrite to replace it, or choose a "
                          "new folder")


def training_settings(checkpoint: Checkpoint) -> dict[str, Any]:
    """The settings the weights were trained with: the checkpoint's own, or for a run's ``best/``
    kept by a toolkit before best/ recorded them, those of the run's newest checkpoint."""
    run = enclosing_run(checkpoint.path)
    if checkpoint.train or run is None:
        return checkpoint.train
    try:
        return read_checkpoint(run).train
    except CheckpointError:  # no checkpoint left in the run
        return checkpoint.train


def weights_origin(checkpoint: Checkpoint, records: list[dict[str, Any]]) -> dict[str, str]:
    """Where in its run the weights come from, which the card states its training figures at:
    the epochs completed and the step (``source_epoch``, ``source_step``) and how the weights
    were chosen (``source_choice``). A checkpoint's training state says; a run's ``best/``
    names the epoch whose scoring kept it, and the run's record the step of that scoring and
    how many snapshots a weight average held then; a model folder packed before passes on
    what its header says. Nothing where none is known."""
    if (checkpoint.path / STATE).is_file():
        state = checkpoint.training_state()
        step = int(state["step"])
        weights = get_family(checkpoint.family).shipped_weights(checkpoint, state)  # an average, where one ships
        return {"source_epoch": str(int(state["epoch"])), "source_step": str(step),
                "source_choice": f"{weights} in the checkpoint of step {step:,}" if weights
                else f"the checkpoint of step {step:,}"}
    best = read_json_if_exists(checkpoint.path / BEST_RECORD)
    if not isinstance(best, dict) or enclosing_run(checkpoint.path) is None:
        return {k: v for k, v in checkpoint.provenance().items() if k in ORIGIN_KEYS}
    scorings = [r for r in records if isinstance(r.get("eval"), dict) and r.get("epoch") == best.get("epoch")
                and isinstance(r.get("step"), int)]
    scores = best.get("scores") if isinstance(best.get("scores"), dict) else {}
    directions = {name: v["direction"] for name, v in scores.items() if isinstance(v, dict) and "direction" in v}
    if not scorings or not directions:
        return {}
    chosen_by = direction_chosen_in(best) or next(iter(directions.values()))
    chosen = next((name for name, direction in directions.items() if direction == chosen_by), next(iter(directions)))
    weights = weight_average(scorings[-1]["eval"].get("generators_averaged")) or "the weights"
    return {"source_epoch": str(best["epoch"]), "source_step": str(scorings[-1]["step"]),
            "source_choice": f"{weights} kept for the best {chosen.replace('_to_', ' → ')} FID scored during "
                             f"training (epoch {best['epoch']}), on the test sets of the scores below: chosen as "
                             "the lowest of several noisy readings, that FID reads a little low",
            "source_chosen_by": chosen_by}


def training_record(checkpoint: Path) -> Path | None:
    """The ``metrics.jsonl`` of the run a checkpoint belongs to: ``RUN/checkpoints/step-N``
    and ``RUN/best`` both belong to ``RUN``, and a model folder packed before holds its own.
    Whatever is there by that name counts (a link or a FIFO is refused when it is copied)."""
    for folder in (checkpoint, checkpoint.parent, checkpoint.parent.parent):
        if (folder / METRICS_FILE).is_symlink() or (folder / METRICS_FILE).exists():
            return folder / METRICS_FILE
    return None


def run() -> None:
    """The ``translate-pack`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
