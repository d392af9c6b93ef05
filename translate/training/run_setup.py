"""What every translation run settles the same way once its processes are up: a resumed run continues
on as many processes as it was trained on, and records the world size and the precision it
trains in."""

from __future__ import annotations

from typing import Protocol

from translate.errors import ConfigError
from translate.modeling.device import run_precision
from translate.training.distributed import Context


class DistributedSettings(Protocol):
    """A train config's record of the processes and the precision."""

    world_size: int
    precision: str | None


def settle(settings: DistributedSettings, context: Context, requested_precision: str | None,
           resumed: bool) -> None:
    """Check a resumed run's process count against ``context``; record it and the precision
    (``requested_precision``, or on resume the run's own, see :func:`run_precision`)."""
    if resumed and settings.world_size != context.world_size:
        raise ConfigError(f"this run was trained on {settings.world_size} processes: resume it on as many "
                          f"(torchrun --nproc_per_node {settings.world_size})")
    settings.world_size = context.world_size
    settings.precision = run_precision(requested_precision, settings.precision, context.device, resumed,
                                       quiet=context.rank != 0)
