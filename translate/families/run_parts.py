"""The parts of a translation family's training run that are the same for every family: its
batches through the loader, and what the trainer records and how long it runs. Imported only
by the families' training modules, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from translate.config import ConfigBase
from translate.families.base import RunOptions
from translate.training.distributed import Context
from translate.training.domains import UnpairedSource
from translate.training.trainer import RunSpec


def loader_source(dataset: Dataset, settings: Any, run: RunOptions, context: Context) -> UnpairedSource:
    """Batches of ``settings.batch_size`` per process, in the order ``settings.seed`` fixes."""
    return UnpairedSource(dataset, settings.batch_size, settings.seed, run.workers, context.device.type == "cuda",
                          context.rank, context.world_size)


def run_spec(family: str, model: ConfigBase, settings: Any, run: RunOptions) -> RunSpec:
    """The trainer's record and length of a run whose ``settings.hyper`` has ``epochs`` at the
    full learning rate and ``epochs_decay`` of decay, scored every ``settings.eval_every``."""
    hyper = settings.hyper
    return RunSpec(run_dir=run.out, family=family, model_config=model.to_dict(), train_config=settings.to_dict(),
                   epochs=hyper.epochs + hyper.epochs_decay, max_steps=run.max_steps,
                   save_every_steps=run.save_every_steps, log_every=run.log_every, eval_every=settings.eval_every)
