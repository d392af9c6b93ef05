"""The toy's generator, whose skip connection takes only inputs of a multiple of 8 pixels a
side (three stride-2 downs and three ups), and its config."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from translate.config import ConfigBase
from translate.errors import ConfigError

SIZE_MULTIPLE = 8  # 2**3: the down-sampled path comes back to the input's size only then
GENERATOR = "generator_AtoB"  # its checkpoint prefix


@dataclass
class ToyConfig(ConfigBase):
    """The architecture, and the names of the two domains (a translation family's config)."""

    channels: int = 3
    width: int = 4
    image_size: int = 32
    domain_a: str = "A"
    domain_b: str = "B"

    def validate(self) -> None:
        if self.image_size % SIZE_MULTIPLE or not 1 <= self.width <= 64:
            raise ConfigError(f"image size {self.image_size} is not a multiple of {SIZE_MULTIPLE}, or width "
                              f"{self.width} is outside 1..64")


class ToyGenerator(nn.Module):
    """Image -> image of the same size: the image plus an hourglass of three downs and three ups."""

    def __init__(self, config: ToyConfig):
        super().__init__()
        c, w = config.channels, config.width
        self.down = nn.Sequential(nn.Conv2d(c, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, w, 3, 2, 1), nn.ReLU(),
                                  nn.Conv2d(w, w, 3, 2, 1), nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(w, w, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(w, w, 4, 2, 1),
                                nn.ReLU(), nn.ConvTranspose2d(w, c, 4, 2, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.tanh(images + self.up(self.down(images)))
