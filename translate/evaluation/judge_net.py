"""A small MNIST CNN: the judge behind the conditional-accuracy metric.

Built from the shared :mod:`translate.modeling.blocks` units so it follows the same conventions
as the GANs it scores; its config rebuilds it from ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from translate.config import ConfigBase
from translate.errors import ConfigError
from translate.modeling.blocks import conv_unit


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
        if min(self.image_size, self.channels, self.n_classes, self.width) < 1:
            raise ConfigError("image_size, channels, n_classes and width must be positive")


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
