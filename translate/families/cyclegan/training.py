"""A CycleGAN training run: its data, distribution, recipe, trainer and scoring during
training. Imported only to train, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import torch

from translate.datasets.domains import domain_files, fixed_images
from translate.datasets.root import resolve_data_root
from translate.evaluation.protocols import EvaluationRequest
from translate.families.base import RunOptions
from translate.families.cyclegan.nets import CycleGANConfig
from translate.families.cyclegan.recipe import CycleGANRecipe
from translate.families.cyclegan.settings import CycleGANTrainConfig
from translate.families.run_parts import loader_source, run_spec
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.device import select_device
from translate.training import distributed
from translate.training.domains import UnpairedImages
from translate.training.run_setup import settle
from translate.training.trainer import Trainer

if TYPE_CHECKING:
    from translate.families.cyclegan.family import CycleGANFamily

GRID_IMAGES = 4  # fixed test images per domain in a sample grid
# What --gpu without CUDA suggests instead; the times are the preset's 80,040 steps and 30
# scorings as its runs measured them on this project's 2-core machines: 0.78-0.84 s a step and
# 94-102 s a scoring on the Intel CPU with AMX, 1.49-1.60 s and 187 s on the AMD EPYC.
PRESET_CPU_TIME = ("--preset cpu trains the reference networks on 128-px crops in 18 to 36 hours "
                   "(2 cores with native bf16: an Intel CPU with AMX to an AMD EPYC)")
CPU_HINT = f"; on a CPU, {PRESET_CPU_TIME}"


def train_run(family: CycleGANFamily, model: CycleGANConfig, settings: CycleGANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    """Build the run (data, distribution, recipe, trainer), continue ``checkpoint`` if given, and train it."""
    folders = family.domain_folders(run.data, settings.domains, run.download)
    size = model.image_size
    dataset = UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), settings.load_size,
                             size, settings.seed, model.channels)
    fixed = tuple(fixed_images(test or train, GRID_IMAGES, size, model.channels)
                  for test, train in ((folders.test_a, folders.train_a), (folders.test_b, folders.train_b)))
    context = distributed.setup(select_device(run.gpu, CPU_HINT))
    try:
        settle(settings, context, run.precision, checkpoint is not None)
        source = loader_source(dataset, settings, run, context)
        torch.manual_seed(settings.seed)
        recipe = CycleGANRecipe(model, settings.hyper, context, fixed, settings.seed, compile=settings.compile,
                                skip_nonfinite=run.skip_nonfinite, precision=settings.precision)
        spec = run_spec(family.name, model, settings, run)
        evaluator = None
        if settings.eval_every and context.rank == 0:
            request = EvaluationRequest(resolve_data_root(run.data), context.device, fid_weights=run.fid_weights)
            evaluator = family.best_keeping_evaluator(model, recipe.shipped_generators, request, run.out / "best",
                                                      lambda: _averaged(recipe))
        trainer = Trainer(spec, recipe, source, context, evaluator)
        if checkpoint is not None:
            trainer.resume(checkpoint)
        elif context.device.type == "cpu" and settings.preset is None and context.rank == 0:
            print(f"note: training on the CPU without a preset may take days: {PRESET_CPU_TIME}", file=sys.stderr)
        trainer.fit()
        return trainer
    finally:
        distributed.shutdown(context)


def _averaged(recipe: CycleGANRecipe) -> dict[str, int]:
    """How many weights the generators' average holds (0: the trained generators ship, the
    average not begun yet); nothing for a run without one."""
    return {} if recipe.average is None else {"generators_averaged": recipe.average.count}
