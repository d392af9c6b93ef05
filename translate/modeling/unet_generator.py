"""The U-Net generator of pix2pix (Isola et al., 2017), the reference implementation's
``unet_{128,256}`` for any depth: an encoder of stride-2 convolutions, a decoder of
transposed ones, and at every level a skip that concatenates the encoder's map to the
decoder's, so the fine detail of the input reaches the output without passing the
bottleneck. Any family that translates aligned images can use it.

Unlike the reference, whose in-place LeakyReLU also rewrites the maps its skips carry, the
skips here carry each encoder level's output as it was computed.
"""

from __future__ import annotations

import torch
from torch import nn

from translate.errors import ConfigError
from translate.modeling.blocks import conv_unit, init_dcgan_weights, up_unit

MAX_WIDTH_FACTOR = 8  # levels widen as ngf * 2**level up to ngf * 8, as in the reference
FIRST_DROPOUT_LEVEL = 4  # the reference's dropout: decoder levels of ngf*8 in and out, short of the innermost
DROPOUT = 0.5


def unet_sizes(depth: int) -> tuple[int, int]:
    """(size multiple, minimum side) of a U-Net's inputs: ``depth`` halvings must divide the
    side, down to a 1x1 bottleneck at least."""
    return 2**depth, 2**depth


def _widths(ngf: int, depth: int) -> list[int]:
    return [ngf * min(2**level, MAX_WIDTH_FACTOR) for level in range(depth)]


class UnetGenerator(nn.Module):
    """Image -> image of the same size in [-1, 1], through ``depth`` levels (8 for the
    reference's 256-px ``unet_256``: a 1x1 bottleneck); inputs must be a multiple of 2**depth
    a side. ``dropout`` puts the reference's 0.5 dropout on the innermost decoder levels of
    full width (there are none below depth 6)."""

    def __init__(self, channels: int = 3, ngf: int = 64, depth: int = 8, norm: str = "instance",
                 dropout: bool = True, upsample: str = "transpose"):
        super().__init__()
        if depth < 2:
            raise ConfigError(f"a U-Net needs a depth of at least 2 (an outermost and an innermost level), got {depth}")
        self.size_multiple, self.min_size = unet_sizes(depth)
        widths = _widths(ngf, depth)
        downs: list[nn.Module] = [conv_unit(channels, widths[0], norm="none", act="none")]
        for level in range(1, depth):
            inner = level == depth - 1  # the bottleneck is not normalised: it can be 1x1
            downs.append(nn.Sequential(nn.LeakyReLU(0.2), conv_unit(widths[level - 1], widths[level],
                                                                    norm="none" if inner else norm, act="none")))
        ups: list[nn.Module] = [nn.Sequential(nn.ReLU(), up_unit(2 * widths[0], channels, upsample,
                                                                 norm="none", act="tanh"))]
        for level in range(1, depth):
            inner = level == depth - 1
            layers = [nn.ReLU(), up_unit(widths[level] * (1 if inner else 2), widths[level - 1], upsample,
                                         norm=norm, act="none")]
            if dropout and not inner and level >= FIRST_DROPOUT_LEVEL:
                layers.append(nn.Dropout(DROPOUT))
            ups.append(nn.Sequential(*layers))
        self.downs, self.ups = nn.ModuleList(downs), nn.ModuleList(ups)
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        skips, x = [], images
        for down in self.downs:
            x = down(x)
            skips.append(x)
        x = self.ups[-1](skips[-1])
        for level in range(len(self.ups) - 2, -1, -1):
            x = self.ups[level](torch.cat([skips[level], x], 1))
        return x
