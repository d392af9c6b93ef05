"""A pix2pix training run: the shared translation run (:mod:`translate.families.translation_training`)
on the dataset's training pairs, with pix2pix's recipe. Imported only to train, so that
reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from translate.datasets.paired import find_paired, resized_pairs
from translate.datasets.root import resolve_data_root
from translate.families.base import RunOptions
from translate.families.pix2pix.nets import Pix2PixConfig
from translate.families.pix2pix.recipe import Pix2PixRecipe
from translate.families.pix2pix.settings import Pix2PixTrainConfig
from translate.families.translation_training import GRID_IMAGES, TrainingData, train_translation
from translate.modeling.checkpoint import Checkpoint
from translate.training.paired import PairedImages
from translate.training.trainer import Trainer

if TYPE_CHECKING:
    from translate.families.pix2pix.family import Pix2PixFamily


# What --gpu without CUDA suggests instead, and a CPU run without a preset is told: an epoch of
# edges2zebra's 1,334 pairs took 0.147 CPU-hours of training steps with the preset (one thread,
# bf16, the 2-core AMD EPYC of family 25, model 17; session 44's first, 4 + 4-epoch run),
# and 0.89 CPU-s a step (0.33 CPU-hours an epoch) at the reference's 256 px and depth 8 there.
PRESET_CPU_TIME = ("--preset cpu (128-px crops, a depth-6 U-Net, 9 + 9 epochs) took 0.15 CPU-hours an epoch of "
                   "1,334 pairs on one core of a 2-core AMD EPYC (2.6 for 18 epochs), the reference's 256-px "
                   "recipe 0.33 (66 for its 200 epochs)")


def paired_data(model: Pix2PixConfig, settings: Pix2PixTrainConfig, run: RunOptions) -> TrainingData:
    """The dataset's training pairs, augmented alike, and its first test pairs (training pairs
    where there is no test split) for the grid: inputs and targets."""
    data = find_paired(resolve_data_root(run.data), model.dataset, run.download)
    dataset = PairedImages(data.train, settings.load_size, model.image_size, settings.seed, model.channels,
                           model.reverse)
    fixed = resized_pairs(data.test or data.train, GRID_IMAGES, model.image_size, model.channels, model.reverse,
                          settings.load_size)
    return TrainingData(dataset, fixed, (data.folder,))


def train_run(family: Pix2PixFamily, model: Pix2PixConfig, settings: Pix2PixTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    """Build the run (data, distribution, recipe, trainer), continue ``checkpoint`` if given, and train it."""
    return train_translation(family, model, settings, run, checkpoint, paired_data(model, settings, run),
                             Pix2PixRecipe, PRESET_CPU_TIME)
