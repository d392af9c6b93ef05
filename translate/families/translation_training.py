"""A translation family's training run, built the same way for every family that learns from
two domains' folders: the data, distribution, precision, trainer, resume and scoring during
training; the family gives its recipe and its epochs. Imported only to train, so that reading
a model never loads :mod:`translate.training`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn

from translate.datasets.domains import domain_files, fixed_images
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.evaluation.protocols import EvaluationRequest
from translate.families.base import RunOptions
from translate.families.translation import TranslationConfig, TranslationFamily
from translate.families.translation_settings import TranslationTrainConfig
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.device import run_precision, select_device
from translate.training import distributed
from translate.training.domains import UnpairedImages, UnpairedSource
from translate.training.trainer import Recipe, RunSpec, Trainer

GRID_IMAGES = 4  # fixed test images per domain in a sample grid


class TranslationRecipe(Recipe, Protocol):
    """A recipe that also says which generators the run scores, samples and ships, by direction,
    and what to note beside their scores (e.g. how many weights their average holds)."""

    def shipped_generators(self) -> dict[str, nn.Module]: ...
    def averaged(self) -> dict[str, int]: ...


# (model config, hyper-parameters, context, the fixed test images of domains A and B, seed,
# compile=, skip_nonfinite=, precision=) -> the run's recipe: a recipe class
RecipeFactory = Callable[..., TranslationRecipe]


def train_translation(family: TranslationFamily, model: TranslationConfig, settings: TranslationTrainConfig,
                      run: RunOptions, checkpoint: Checkpoint | None, make_recipe: RecipeFactory, epochs: int,
                      cpu_time: str) -> Trainer:
    """Build the run on domains ``settings.domains`` with a recipe of ``make_recipe``, for
    ``epochs`` epochs, continue ``checkpoint`` if given, and train it. ``cpu_time`` says how
    long a CPU takes (the hint of --gpu without CUDA, and the note of a CPU run without a
    preset)."""
    folders = family.domain_folders(run.data, settings.domains, run.download)
    size = model.image_size
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), settings.load_size,
                             size, settings.seed, model.channels)
    fixed = tuple(fixed_images(test or train, GRID_IMAGES, size, model.channels)
                  for test, train in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)))
    context = distributed.setup(select_device(run.gpu, f"; on a CPU, {cpu_time}"))
    try:
        if checkpoint is not None and settings.world_size != context.world_size:
            raise ConfigError(f"this run was trained on {settings.world_size} processes: resume it on as many "
                              f"(torchrun --nproc_per_node {settings.world_size})")
        settings.world_size = context.world_size
        settings.precision = run_precision(run.precision, settings.precision, context.device,
                                           checkpoint is not None)
        source = UnpairedSource(dataset, settings.batch_size, settings.seed, run.workers,
                                context.device.type == "cuda", context.rank, context.world_size)
        torch.manual_seed(settings.seed)
        recipe = make_recipe(model, settings.hyper, context, fixed, settings.seed, compile=settings.compile,
                             skip_nonfinite=run.skip_nonfinite, precision=settings.precision)
        spec = RunSpec(run_dir=run.out, family=family.name, model_config=model.to_dict(),
                       train_config=settings.to_dict(), epochs=epochs, max_steps=run.max_steps,
                       save_every_steps=run.save_every_steps, log_every=run.log_every,
                       eval_every=settings.eval_every)
        evaluator = None
        if settings.eval_every and context.rank == 0:
            request = EvaluationRequest(resolve_data_root(run.data), context.device, fid_weights=run.fid_weights)
            evaluator = family.best_keeping_evaluator(model, recipe.shipped_generators, request, run.out / "best",
                                                      recipe.averaged)
        trainer = Trainer(spec, recipe, source, context, evaluator)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        elif context.device.type == "cpu" and settings.preset is None and context.rank == 0:
            print(f"note: training on the CPU without a preset may take days: {cpu_time}", file=sys.stderr)
        trainer.fit()
        return trainer
    finally:
        distributed.shutdown(context)
