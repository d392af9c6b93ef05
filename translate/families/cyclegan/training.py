"""A CycleGAN training run: the shared translation run (:mod:`translate.families.translation_training`)
with CycleGAN's recipe. Imported only to train, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from translate.families.base import RunOptions
from translate.families.cyclegan.nets import CycleGANConfig
from translate.families.cyclegan.recipe import CycleGANRecipe
from translate.families.cyclegan.settings import CycleGANTrainConfig
from translate.families.translation_training import train_translation, unpaired_data
from translate.modeling.checkpoint import Checkpoint
from translate.training.trainer import Trainer

if TYPE_CHECKING:
    from translate.families.cyclegan.family import CycleGANFamily

# What --gpu without CUDA suggests instead; the times are the preset's 80,040 steps and 44
# scorings as its runs measured them on this project's 2-core machines: 0.63-0.82 s a step and
# 126-196 s a scoring on an Intel Xeon with AMX (family 6, model 167), 0.78-0.84 s and 94-102 s on an
# Intel whose model was not recorded (the machine until 2026-11-29), 0.86 s and 85-89 s on an AMD EPYC of family 26,
# 1.50-1.65 s and 160-166 s on an AMD EPYC of family 25 (Zen 4), 1.49-1.68 s and 160-187 s on
# AMD EPYCs whose family was not recorded (the README's table).
PRESET_CPU_TIME = ("--preset cpu trains the reference networks on 128-px crops in 15.5 to 40 hours "
                   "(2 cores with native bf16: an Intel CPU with AMX or a Zen 5 AMD EPYC to a slower AMD EPYC)")


def train_run(family: CycleGANFamily, model: CycleGANConfig, settings: CycleGANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    """Build the run (data, distribution, recipe, trainer), continue ``checkpoint`` if given, and train it."""
    return train_translation(family, model, settings, run, checkpoint, unpaired_data(family, model, settings, run),
                             CycleGANRecipe, PRESET_CPU_TIME)

