"""What ``--resume`` may change in a translation run's recorded settings, the same way for
every family: lengthen or shorten the schedule (``--epochs``, ``--epochs-decay``) and turn
``--compile`` and ``--eval-every`` on or off; everything else stays the run's own."""

from __future__ import annotations

import argparse
from typing import Any


def resume_flags(settings: Any, args: argparse.Namespace) -> None:
    """Apply those flags to ``settings`` (a train config with ``hyper.epochs``,
    ``hyper.epochs_decay``, ``compile`` and ``eval_every``), then check it."""
    hyper = settings.hyper
    hyper.epochs = args.epochs or hyper.epochs
    hyper.epochs_decay = hyper.epochs_decay if args.epochs_decay is None else args.epochs_decay
    hyper.validate()
    if args.compile is not None:
        settings.compile = args.compile
    if args.eval_every is not None:
        settings.eval_every = args.eval_every
    settings.validate()
