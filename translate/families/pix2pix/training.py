"""A pix2pix training run: its data, distribution, recipe, trainer and scoring during training.
Imported only to train, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from translate.datasets.paired import find_paired, resized_pairs
from translate.datasets.root import resolve_data_root
from translate.evaluation.protocols import EvaluationRequest
from translate.families.base import RunOptions
from translate.families.pix2pix.nets import Pix2PixConfig
from translate.families.pix2pix.recipe import Pix2PixRecipe
from translate.families.pix2pix.settings import Pix2PixTrainConfig
from translate.families.run_parts import loader_source, run_spec
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.device import select_device
from translate.training import distributed
from translate.training.paired import PairedImages
from translate.training.run_setup import settle
from translate.training.trainer import Trainer

if TYPE_CHECKING:
    from translate.families.pix2pix.family import Pix2PixFamily

GRID_PAIRS = 4  # fixed test pairs in a sample grid


def train_run(family: Pix2PixFamily, model: Pix2PixConfig, settings: Pix2PixTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    """Build the run (data, distribution, recipe, trainer), continue ``checkpoint`` if given, and train it."""
    data = find_paired(resolve_data_root(run.data), model.dataset, run.download)
    dataset = PairedImages(data.train, settings.load_size, model.image_size, settings.seed, model.channels,
                           model.reverse)
    fixed = resized_pairs(data.test or data.train, GRID_PAIRS, model.image_size, model.channels, model.reverse)
    context = distributed.setup(select_device(run.gpu))
    try:
        settle(settings, context, run.precision, checkpoint is not None)
        source = loader_source(dataset, settings, run, context)
        torch.manual_seed(settings.seed)
        recipe = Pix2PixRecipe(model, settings.hyper, context, fixed, settings.seed, compile=settings.compile,
                               skip_nonfinite=run.skip_nonfinite, precision=settings.precision)
        spec = run_spec(family.name, model, settings, run)
        evaluator = None
        if settings.eval_every and context.rank == 0:
            request = EvaluationRequest(resolve_data_root(run.data), context.device, fid_weights=run.fid_weights)
            evaluator = family.best_keeping_evaluator(model, recipe.shipped_generators, request, run.out / "best")
        trainer = Trainer(spec, recipe, source, context, evaluator)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        trainer.fit()
        return trainer
    finally:
        distributed.shutdown(context)
