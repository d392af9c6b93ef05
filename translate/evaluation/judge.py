"""The judge behind the conditional-accuracy metric: a small MNIST CNN, how it is loaded,
and how it scores generated digits.

Built from the shared :mod:`translate.modeling.blocks` units so it follows the same
conventions as the GANs it scores; its config rebuilds it from ``config.json``. The trained
judge ships inside the package (``mnist-classifier/``), so ``translate.evaluate`` finds it
after a plain ``pip install``; ``python -m translate.classifier`` trains it again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translate.config import ConfigBase, check_ranges
from translate.errors import CheckpointError, ConfigError
from translate.modeling.blocks import conv_unit
from translate.modeling.checkpoint import CONFIG, WEIGHTS, build_loaded, model_config, read_checkpoint
from translate.modeling.device import strict_fp32

DEFAULT_CLASSIFIER = Path(__file__).resolve().parent / "mnist-classifier"
FAMILY = "classifier"  # the family name its model folder records


@dataclass
class ClassifierConfig(ConfigBase):
    """Shape of the classifier; ``width`` is the channel count of the first stage."""

    image_size: int = 28
    channels: int = 1
    n_classes: int = 10
    width: int = 32
    norm: str = "batch"
    act: str = "relu"

    def validate(self) -> None:
        """Sizes only: ``norm`` and ``act`` are checked by the blocks that use them."""
        check_ranges(self, {"image_size": (1, 1024), "channels": (1, 4), "n_classes": (1, 10_000),
                            "width": (1, 512)})


class Classifier(nn.Module):
    """Three stages of conv units (full, 1/2, 1/4 resolution), global average pool, linear head.

    Takes images in [-1, 1], N x C x H x W, and returns class logits.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        w, norm, act = config.width, config.norm, config.act
        self.features = nn.Sequential(
            conv_unit(config.channels, w, 3, 1, 1, norm, act),
            conv_unit(w, 2 * w, 4, 2, 1, norm, act),
            conv_unit(2 * w, 2 * w, 3, 1, 1, norm, act),
            conv_unit(2 * w, 4 * w, 4, 2, 1, norm, act),
            conv_unit(4 * w, 4 * w, 3, 1, 1, norm, act),
        )
        self.head = nn.Linear(4 * w, config.n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images).mean(dim=(2, 3)))


def load_classifier(path: str | os.PathLike | None = None) -> Classifier:
    """The classifier in folder ``path`` (or the folder of a ``model.safetensors`` file), in eval mode.

    Without a path, the one shipped inside the package.
    """
    folder = Path(path) if path is not None else DEFAULT_CLASSIFIER
    if folder.is_file():
        folder = folder.parent
    if not (folder / WEIGHTS).is_file() or not (folder / CONFIG).is_file():
        raise CheckpointError(
            f"no classifier in {folder}: expected {WEIGHTS} and {CONFIG}; pass --classifier DIR "
            "or train one with python -m translate.classifier --out DIR"
        )
    try:
        checkpoint = read_checkpoint(folder)
        checkpoint.expect_family(FAMILY)
        config = model_config(checkpoint, ClassifierConfig)
        model = build_loaded(lambda: Classifier(config), checkpoint, FAMILY)
    except CheckpointError as exc:
        raise CheckpointError(f"cannot load the classifier in {folder}: {exc}; re-train or re-download it") from exc
    return model.eval()


@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Share of images (in [-1, 1], moved batch by batch to the model's device) predicted as ``labels``."""
    device = next(model.parameters()).device
    hits = sum(
        (model(images[i : i + batch_size].to(device)).argmax(1).cpu() == labels[i : i + batch_size].cpu()).sum().item()
        for i in range(0, len(images), batch_size)
    )
    return hits / len(images)


def conditional_accuracy(
    classifier: Classifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500
) -> float:
    """Share of generated images whose classifier-predicted label equals the requested one
    (images as :func:`class_probabilities` takes them)."""
    return read_as_requested(class_probabilities(classifier, images, batch_size), labels)


def read_as_requested(probabilities: np.ndarray, labels: torch.Tensor) -> float:
    """Share of rows of class probabilities whose most probable class is the requested label."""
    if len(probabilities) != len(labels) or len(labels) == 0:
        raise ConfigError("conditional accuracy needs one requested label per generated image")
    return float((probabilities.argmax(axis=1) == labels.cpu().numpy()).mean())


@torch.inference_mode()
def class_probabilities(classifier: Classifier, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """The classifier's softmax p(y|x) per image, float64 N x classes: what conditional accuracy
    reads and what the Inception Score of digits is computed from.

    Images (in [-1, 1], moved batch by batch to the classifier's device) of another size than
    the classifier's are resized to it (bilinear, antialiased), and RGB images are averaged to
    grey for a grey classifier.
    """
    if not len(images):
        raise ConfigError("the classifier was given no images")
    config = classifier.config
    device = next(classifier.parameters()).device
    if images.shape[1] != config.channels:
        if config.channels != 1:
            raise ConfigError(f"the classifier takes {config.channels}-channel images, got {images.shape[1]}: pass a "
                              f"--classifier trained on {images.shape[1]}-channel images, or leave --classifier out")
        images = images.mean(dim=1, keepdim=True)
    if images.shape[-2:] != (config.image_size, config.image_size):
        size = (config.image_size, config.image_size)
        images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
    with strict_fp32():  # the scores are recorded as fp32: not TF32 on CUDA
        return np.concatenate([
            torch.softmax(classifier(images[i : i + batch_size].to(device)).double(), dim=1).cpu().numpy()
            for i in range(0, len(images), batch_size)
        ])
