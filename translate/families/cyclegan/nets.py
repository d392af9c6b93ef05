"""CycleGAN's ResNet generator and 70x70 PatchGAN discriminator (Zhu et al., 2017).

Layer for layer the reference implementation's ``resnet_{6,9}blocks`` and ``basic``
(``n_layers``) networks, assembled from :mod:`translate.modeling.blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from translate.config import ConfigBase, check_ranges
from translate.errors import ConfigError
from translate.modeling.blocks import NORMS, UPSAMPLES, ResidualBlock, conv_unit, init_dcgan_weights, up_unit
from translate.modeling.inference import MIN_SIZE, PAD_MULTIPLE

# The generator down-samples twice by 2, so inference pads inputs to a multiple of PAD_MULTIPLE (4)
# of at least MIN_SIZE (8), whose 1/4-size bottleneck still takes the blocks' reflection padding.
DIRECTIONS = ("AtoB", "BtoA")
# The reference uses ngf 64, 9 blocks and 256 px; these bounds leave room and refuse absurd sizes.
SIZE_RANGES = {"ngf": (1, 512), "ndf": (1, 512), "n_blocks": (1, 64), "n_layers": (1, 8), "image_size": (1, 4096)}
# Checkpoint prefixes of the four networks.
GENERATOR_NAMES = {"AtoB": "generator_AtoB", "BtoA": "generator_BtoA"}
DISCRIMINATOR_NAMES = {"A": "discriminator_A", "B": "discriminator_B"}


@dataclass
class CycleGANConfig(ConfigBase):
    """Everything that fixes the architecture, and what the two domains are called."""

    channels: int = 3
    ngf: int = 64
    ndf: int = 64
    n_blocks: int = 9
    n_layers: int = 3
    norm: str = "instance"
    upsample: str = "transpose"
    image_size: int = 256  # the training crop; the generator itself takes any size
    domain_a: str = "A"
    domain_b: str = "B"

    def validate(self) -> None:
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")
        check_ranges(self, SIZE_RANGES)
        if self.image_size < MIN_SIZE or self.image_size % PAD_MULTIPLE:
            raise ConfigError(
                f"image size {self.image_size} is not usable: pick a multiple of {PAD_MULTIPLE} of at least {MIN_SIZE}"
            )
        smallest = 3 * 2**self.n_layers  # the PatchGAN's last normalised map must be larger than 1x1
        if self.image_size < smallest:
            raise ConfigError(
                f"image size {self.image_size} is too small for a PatchGAN with {self.n_layers} layers: "
                f"crop at least {smallest} pixels or lower --n-layers"
            )
        for name, value, choices in (("norm", self.norm, NORMS), ("upsample", self.upsample, UPSAMPLES)):
            if value not in choices:
                raise ConfigError(f"{name} {value!r} is not one of {', '.join(choices)}")


class ResnetGenerator(nn.Module):
    """Image -> image of the same size in [-1, 1]: 7x7 stem, two stride-2 downs, residual
    blocks at 1/4 resolution, two ups, 7x7 head; reflection padding at the borders."""

    def __init__(self, config: CycleGANConfig):
        super().__init__()
        config.validate()
        ngf, norm = config.ngf, config.norm
        self.stem = conv_unit(config.channels, ngf, 7, 1, 3, norm, "relu", padding_mode="reflect")
        self.down = nn.Sequential(
            conv_unit(ngf, ngf * 2, 3, 2, 1, norm, "relu"),
            conv_unit(ngf * 2, ngf * 4, 3, 2, 1, norm, "relu"),
        )
        self.blocks = nn.Sequential(*(ResidualBlock(ngf * 4, norm, "reflect") for _ in range(config.n_blocks)))
        self.up = nn.Sequential(
            up_unit(ngf * 4, ngf * 2, config.upsample, 3, 2, 1, 1, norm, "relu"),
            up_unit(ngf * 2, ngf, config.upsample, 3, 2, 1, 1, norm, "relu"),
        )
        self.head = conv_unit(ngf, config.channels, 7, 1, 3, "none", "tanh", padding_mode="reflect")
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.up(self.blocks(self.down(self.stem(images)))))


class PatchDiscriminator(nn.Module):
    """Image -> a map of logits, one per overlapping patch (70x70 pixels with ``n_layers=3``)."""

    def __init__(self, config: CycleGANConfig):
        super().__init__()
        config.validate()
        ndf, norm = config.ndf, config.norm
        widths = [ndf * min(2**i, 8) for i in range(config.n_layers + 1)]
        # No norm on the first unit (it would normalise away the input statistics).
        units = [conv_unit(config.channels, widths[0], norm="none")]
        units += [conv_unit(w_in, w_out, norm=norm) for w_in, w_out in zip(widths[:-2], widths[1:-1], strict=True)]
        units.append(conv_unit(widths[-2], widths[-1], 4, 1, 1, norm))
        units.append(conv_unit(widths[-1], 1, 4, 1, 1, "none", "none"))
        self.body = nn.Sequential(*units)
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)
