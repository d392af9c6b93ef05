"""A translation family's training run, built the same way for every translation family: the
distribution, precision, loader, trainer, resume and scoring during training; the family
gives its data (:func:`unpaired_data` for two domains' folders) and its recipe. Imported only
to train, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import nn
from torch.utils.data import Dataset

from translate.datasets.domains import domain_files, fixed_images
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluation.protocols import EvaluationRequest
from translate.families.base import RunOptions
from translate.families.translation import TranslationConfig, TranslationFamily
from translate.families.translation_recipe import RecipeOptions
from translate.families.translation_settings import TranslationTrainConfig
from translate.io.run_layout import BEST
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.device import select_device
from translate.training import distributed
from translate.training.domains import UnpairedImages, UnpairedSource
from translate.training.run_setup import settle
from translate.training.trainer import Recipe, Trainer

GRID_IMAGES = 4  # fixed test images per domain (or test pairs) in a sample grid


class TranslationRecipe(Recipe, Protocol):
    """A recipe that also says which generators the run scores, samples and ships, by direction,
    and what to note beside their scores (e.g. how many weights their average holds)."""

    def shipped_generators(self) -> dict[str, nn.Module]:
        """The generators the run ships, by direction: the weight averages where kept."""

    def averaged(self) -> dict[str, int]:
        """How many weights each direction's average holds (none before it starts)."""


# (model config, hyper-parameters, context, the grid's fixed images (TrainingData.fixed),
# RecipeOptions) -> the run's recipe: a recipe class
RecipeFactory = Callable[..., TranslationRecipe]


@dataclass
class TrainingData:
    """What a run trains on: a dataset indexed by ``(epoch, index)`` (see
    :class:`~translate.training.domains.UnpairedSource`), and the two batches of fixed images
    its recipe draws the sample grid from (the domains' test images, or test inputs and targets),
    and the folders all of it is read from."""

    dataset: Dataset
    fixed: tuple[torch.Tensor, torch.Tensor]
    folders: tuple[Path, ...]

    def check_out(self, out: Path) -> None:
        """ConfigError when the run folder ``out`` lies inside a folder the data is read from: images
        are listed there recursively, so the run's sample grids would become training data."""
        for folder in self.folders:
            if out.resolve().is_relative_to(folder.resolve()):
                raise ConfigError(f"--out {out} lies inside {folder}, which this run reads its images from (its "
                                  "sample grids would become training data): choose an --out outside it, e.g. "
                                  "runs/NAME")


def unpaired_data(family: TranslationFamily, model: TranslationConfig, settings: TranslationTrainConfig,
                  run: RunOptions) -> TrainingData:
    """Random crops of the two domains' training images, and each domain's first test images
    (its training images where it has no test set) for the grid."""
    folders = family.domain_folders(run.data, settings.domains, run.download, training=True)
    size = model.image_size
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), settings.load_size,
                             size, settings.seed, model.channels)
    fixed = tuple(fixed_images(test or train, GRID_IMAGES, size, model.channels, settings.load_size)
                  for test, train in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)))
    found = (folders.train_a, folders.train_b, folders.test_a, folders.test_b)
    return TrainingData(dataset, fixed, tuple(folder for folder in found if folder is not None))


def train_translation(family: TranslationFamily, model: TranslationConfig, settings: TranslationTrainConfig,
                      run: RunOptions, checkpoint: Checkpoint | None, data: TrainingData,
                      make_recipe: RecipeFactory, cpu_time: str | None = None) -> Trainer:
    """Build the run on ``data`` with a recipe of ``make_recipe``, for the epochs of
    ``settings.hyper`` (at the full learning rate and of decay), continue ``checkpoint`` if
    given, and train it. ``cpu_time`` says how long a CPU takes, where the family knows (the
    hint of --gpu without CUDA, and the note of a CPU run without a preset)."""
    hint = "" if cpu_time is None else f"; on a CPU, {cpu_time}"
    data.check_out(run.out)
    context = distributed.setup(select_device(run.gpu, hint))
    try:
        settle(settings, context, run.precision, checkpoint is not None)
        source = UnpairedSource(data.dataset, settings.batch_size, settings.seed, run.workers,
                                context.device.type == "cuda", context.rank, context.world_size)
        torch.manual_seed(settings.seed)
        options = RecipeOptions(settings.seed, settings.compile, run.skip_nonfinite, settings.precision)
        recipe = make_recipe(model, settings.hyper, context, data.fixed, options)
        hyper = settings.hyper
        spec = run.run_spec(family.name, model.to_dict(), settings.to_dict(), hyper.epochs + hyper.epochs_decay,
                            settings.eval_every, settings.averaged_scoring())
        evaluator = None
        if settings.eval_every and context.rank == 0:
            request = EvaluationRequest(resolve_data_root(run.data), context.device, fid_weights=run.fid_weights)
            evaluator = family.best_keeping_evaluator(model, recipe.shipped_generators, request, run.out / BEST,
                                                      recipe.averaged, settings.to_dict())
        trainer = Trainer(spec, recipe, source, context, evaluator)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        elif cpu_time is not None and context.device.type == "cpu" and settings.preset is None and context.rank == 0:
            print(f"note: training on the CPU without a preset may take days: {cpu_time}", file=sys.stderr)
        trainer.fit()
        return trainer
    finally:
        distributed.shutdown(context)
