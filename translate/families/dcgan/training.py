"""A DCGAN / cDCGAN training run: its data source, recipe and trainer. Imported only to
train, so that reading a model never loads :mod:`translate.training`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from translate.datasets.mnist import MNIST_CLASSES
from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError
from translate.families.base import RunOptions
from translate.families.dcgan.nets import DCGANConfig
from translate.families.dcgan.recipe import GANRecipe
from translate.families.dcgan.settings import GANTrainConfig
from translate.modeling.checkpoint import Checkpoint
from translate.modeling.device import run_precision, select_device
from translate.training.data import FolderSource, ImageFolder, TensorSource, mnist_images
from translate.training.distributed import Context
from translate.training.trainer import Trainer

if TYPE_CHECKING:
    from translate.families.dcgan.family import DCGANFamily


def train_run(family: DCGANFamily, model: DCGANConfig, settings: GANTrainConfig, run: RunOptions,
              checkpoint: Checkpoint | None = None) -> Trainer:
    """Build the run, continue ``checkpoint`` if given, and train it."""
    device = select_device(run.gpu)
    settings.precision = run_precision(run.precision, settings.precision, device, checkpoint is not None)
    source = _source(family.conditional, model, settings, run, device)
    if family.conditional:
        model.n_classes = len(settings.classes)
    torch.manual_seed(settings.seed)
    recipe = GANRecipe(model, settings.hyper, device, settings.precision, seed=settings.seed,
                       skip_nonfinite=run.skip_nonfinite)
    spec = run.run_spec(family.name, model.to_dict(), settings.to_dict(), settings.epochs)
    trainer = Trainer(spec, recipe, source, Context(device=device))  # the trainer moves each batch there
    if checkpoint is not None:
        trainer.resume(checkpoint)
    trainer.fit()
    return trainer


def _source(conditional: bool, model: DCGANConfig, settings: GANTrainConfig, run: RunOptions,
            device: torch.device) -> TensorSource | FolderSource:
    """MNIST in memory or an image folder through loader processes; records the classes in ``settings``."""
    data_root = resolve_data_root(run.data)
    if settings.dataset == "mnist":
        images, labels = mnist_images(data_root, model.image_size, model.channels, run.download)
        classes = list(MNIST_CLASSES)
        source = TensorSource(images, labels, settings.batch_size, settings.seed)
    else:
        dataset = ImageFolder(data_root, model.image_size, model.channels, class_folders=conditional)
        classes = dataset.classes
        source = FolderSource(dataset, settings.batch_size, settings.seed, run.workers, device.type == "cuda")
    if conditional and settings.classes and settings.classes != classes:
        raise ConfigError(f"the data's classes {classes} differ from the checkpoint's {settings.classes}: resume on "
                          "the data the run trained on, or start a new run in another --out")
    settings.classes = classes if conditional else []
    return source
