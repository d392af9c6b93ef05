"""Command line: ``python -m translate.train FAMILY [options]``, FAMILY one of the registered
families (dcgan, cdcgan, cyclegan, cut, pix2pix, and any a plugin adds).

On ``--resume`` the architecture and optimisation settings come from the run's
checkpoint; run-length flags (``--epochs``, ``--max-steps``), ``--data``, ``--gpu``,
``--workers``, ``--precision`` and ``--skip-nonfinite`` come from the command line, and a
flag that would change a recorded setting is an error (:mod:`translate.resume_flags`).
Ctrl-C stops after the current step with a checkpoint (press it twice to stop at once,
without one). The translation families (cyclegan, cut, pix2pix) also train on several
processes: ``torchrun --nproc_per_node N -m translate.train cyclegan ...``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from translate.arguments import PRECISIONS, non_negative_int, positive_hours, positive_int
from translate.cli import run_cli
from translate.config import LOG_EVERY
from translate.errors import CheckpointError, ConfigError
from translate.families import Family, RunOptions, all_families, get_family
from translate.families.optimisation import add_optimisation_options
from translate.io.fileio import check_writable
from translate.io.run_layout import is_run_folder
from translate.modeling.checkpoint import Checkpoint, checkpoint_root, read_checkpoint
from translate.resume_flags import check_resume_flags, flag_names, given_flags
from translate.training.run_folder import RunLock, claim_for_new_run
from translate.training.trainer import Trainer

DESCRIPTION = "Train a model of one family; python -m translate.train FAMILY --help lists its options."


def default_workers(most: int = 4) -> int:
    """Data-loader processes: ``most``, or as many as this process may run on if that is fewer."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(most, cores))


def _run_options(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--data", help="data folder (default: $TRANSLATE_DATA, else ./data)")
    run.add_argument("--out", type=Path, help="run folder for checkpoints, samples and logs")
    run.add_argument("--epochs", type=positive_int, help="run length in epochs (default: the family's)")
    run.add_argument("--max-steps", type=positive_int, help="stop after this many optimisation steps in total")
    run.add_argument("--max-hours", type=positive_hours,
                     help="stop once the run has trained this many hours in all, its resumes included (wall clock, "
                     "scoring not counted; pauses and waits for a busy CPU count too: compare recipes by "
                     "--max-cpu-hours)")
    run.add_argument("--max-cpu-hours", type=positive_hours,
                     help="stop once the training process has used this many CPU hours in all (its threads, resumes "
                     "included, scoring not counted): the budget that other work on a shared machine shrinks least")
    run.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    run.add_argument("--reuse-out", action="store_true",
                     help="start a new run in an --out that already holds other files (they are left alone)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--gpu", action="store_true", help="train on CUDA")
    run.add_argument("--precision", choices=PRECISIONS,
                     help="auto: bf16 autocast on Ampere or later GPUs and on CPUs that compute bf16 natively (AMX, "
                     "AVX512-BF16), else fp32 (default auto; on --resume the run's own)")
    run.add_argument("--workers", type=non_negative_int, default=default_workers(),
                     help="data-loader processes for image folders (default: up to 4, at most the cores)")
    run.add_argument("--save-every-steps", type=positive_int, help="also checkpoint every N steps")
    run.add_argument("--log-every", type=positive_int, default=LOG_EVERY, help="TensorBoard scalars every N steps")
    run.add_argument("--skip-nonfinite", action="store_true",
                     help="skip a step whose loss or gradients are NaN or infinite instead of stopping")
    run.add_argument("--fid-weights", help="FID Inception TorchScript for scores during training "
                     "(default $TRANSLATE_FID_WEIGHTS, else <data>/fid/)")


def build_parser(preset: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    """The parser; ``preset`` (a family's named defaults) replaces the defaults of its flags."""
    parser = argparse.ArgumentParser(prog="python -m translate.train", description=DESCRIPTION)
    names = sorted(all_families())
    subparsers = parser.add_subparsers(dest="family", required=True, metavar="{" + ",".join(names) + "}")
    for name in names:
        family = all_families()[name]
        sub = subparsers.add_parser(name, help=family.summary,
                                    description=f"Train a {family.name} model: {family.summary}.")
        _run_options(sub)
        if family.presets:
            sub.add_argument("--preset", choices=sorted(family.presets),
                             help="a named recipe: it sets the defaults of its flags, under those given")
        else:  # taken, to be refused by _parse with the families that have one (not "unrecognized arguments")
            sub.add_argument("--preset", help=argparse.SUPPRESS)
        family.add_train_options(sub, add_optimisation_options(sub, family.optimisation))
        if preset and preset["family"] == name:
            sub.set_defaults(**preset["values"])
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Flags, with a preset's values under the flags given (a resumed run keeps its own settings)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    preset_name = args.preset
    if preset_name is not None and not get_family(args.family).presets:
        having = ", ".join(sorted(name for name, family in all_families().items() if family.presets))
        parser.error(f"{args.family} has no --preset: set its flags instead (python -m translate.train "
                     f"{args.family} --help); the families with presets are {having}")
    if preset_name and not args.resume:
        values = get_family(args.family).presets[preset_name]
        args = build_parser({"family": args.family, "values": values}).parse_args(argv)
    return args


def _run_flags() -> frozenset[str]:
    """What --resume takes from the command line besides a family's resumable flags: the
    subcommand and :func:`_run_options` (where the data is, how long and on what to train, what
    to save and log), all but --seed, which the run fixed."""
    parser = argparse.ArgumentParser()
    _run_options(parser)
    return frozenset(a.dest for a in parser._actions if a.dest not in ("help", "seed")) | {"family"}


def _resume_checkpoint(out: Path, family: Family) -> Checkpoint:
    try:
        checkpoint = read_checkpoint(out)
    except CheckpointError as exc:
        raise CheckpointError(f"--resume found nothing to continue: {exc}") from exc
    try:
        checkpoint.expect_family(family.name)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc}: name {checkpoint.family} as the family (or, for a new run, choose another "
                              "--out)") from None
    return checkpoint


def _launcher() -> str:
    """How this start was launched: under torchrun a run resumes only on as many processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return "python -m translate.train"
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    # Several machines: each runs it with its rendezvous flags (docs/training.md).
    nodes = f"--nnodes {-(-world // per_node)} " if world > per_node else ""
    return f"torchrun {nodes}--nproc_per_node {per_node} -m translate.train"


def _environment_path(name: str) -> str | None:
    """A path an environment variable gives, absolute (it was relative to where the run started)."""
    value = os.environ.get(name)
    return os.path.abspath(value) if value else None


def _continue_command(args: argparse.Namespace) -> str:
    """The command that continues this run as this start ran it. A resume takes these flags from
    its own command line, so a bare --resume would drop them, some silently (--gpu, checkpoints,
    logging, --skip-nonfinite) and the limits, which count from the run's first step."""
    words = [args.family, "--out", str(args.out), "--resume"]
    # The data and the FID network as this start found them: from the flags, else from the
    # environment (make train sets TRANSLATE_DATA), which the shell the command is pasted in may lack.
    data = args.data or _environment_path("TRANSLATE_DATA")
    fid_weights = args.fid_weights or _environment_path("TRANSLATE_FID_WEIGHTS")
    given = {"--data": data, "--max-steps": args.max_steps, "--max-hours": args.max_hours,
             "--max-cpu-hours": args.max_cpu_hours, "--save-every-steps": args.save_every_steps,
             "--fid-weights": fid_weights,
             "--log-every": args.log_every if args.log_every != LOG_EVERY else None,
             "--workers": args.workers if args.workers != default_workers() else None}
    for flag, value in given.items():
        if value is not None:
            words += [flag, str(value)]
    words += [flag for flag, on in (("--gpu", args.gpu), ("--skip-nonfinite", args.skip_nonfinite)) if on]
    return f"{_launcher()} {shlex.join(words)}"


def main(argv: list[str] | None = None) -> Trainer:
    """Train as the command line says; returns the trainer (its recipe holds the networks)."""
    args = _parse(argv)
    family = get_family(args.family)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not family.data_parallel:  # each process would be rank 0
        raise ConfigError(f"{family.name} trains in one process: start it with python -m translate.train, not "
                          "torchrun (data-parallel training is for the translation families)")
    if args.out is None:
        domains = getattr(args, "domains", None)
        args.out = Path("runs") / (f"{family.name}-{domains[0]}2{domains[1]}" if domains else family.name)
    check_writable(args.out, "--out")  # before the data loads and the networks are built
    run = RunOptions(out=args.out, data=args.data, epochs=args.epochs, max_steps=args.max_steps,
                     max_hours=args.max_hours, max_cpu_hours=args.max_cpu_hours, resume=args.resume, gpu=args.gpu,
                     workers=args.workers, save_every_steps=args.save_every_steps, log_every=args.log_every,
                     skip_nonfinite=args.skip_nonfinite, precision=args.precision,
                     download=getattr(args, "download", False), fid_weights=args.fid_weights,
                     command=f"{_launcher()} " + shlex.join(sys.argv[1:] if argv is None else argv),
                     continue_command=_continue_command(args))
    # Before the lock goes into a folder that is no run (a user's photos, say); a run folder goes on
    # to the lock, which names a process that holds it.
    if args.resume and not checkpoint_root(args.out).is_dir() and not is_run_folder(args.out):
        what = "holds no checkpoints/" if args.out.is_dir() else "does not exist"
        raise CheckpointError(f"--resume found nothing to continue: {args.out} {what}: check --out, or leave out "
                              "--resume to start a new run")
    # Under torchrun every process runs this; rank 0 alone holds the folder and writes into it.
    with RunLock(args.out) if os.environ.get("RANK", "0") == "0" else nullcontext():
        checkpoint = None
        if args.resume:
            checkpoint = _resume_checkpoint(args.out, family)
            parser = build_parser()  # given_flags removes its defaults
            check_resume_flags(given_flags(parser, argv), flag_names(parser, family.name),
                               family.resumable_flags | _run_flags(), family.recorded_names, checkpoint, args.out)
            model, settings = family.resumed_settings(checkpoint, args)
        else:
            model, settings = family.new_settings(args)
            if os.environ.get("RANK", "0") == "0":
                claim_for_new_run(args.out, family.name, args.reuse_out)
        trainer = family.train(model, settings, run, checkpoint)
    if trainer.is_main:
        print(f"trained {family.name} to {trainer.position()}, {trainer.clock.hours():.2f} h of training; "
              f"checkpoints in {args.out}")
    return trainer



def run() -> None:
    """The ``translate-train`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
