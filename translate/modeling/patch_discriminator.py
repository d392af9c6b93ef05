"""The PatchGAN discriminator (Isola et al., 2017), layer for layer the reference
implementation's ``basic`` (``n_layers``) network: the critic of CycleGAN, pix2pix and CUT."""

from __future__ import annotations

import torch
from torch import nn

from translate.modeling.blocks import conv_unit, init_dcgan_weights


def smallest_input(n_layers: int) -> int:
    """The smallest image a PatchGAN of ``n_layers`` takes: its last normalised map must be larger than 1x1."""
    return 3 * 2**n_layers


class PatchDiscriminator(nn.Module):
    """Image -> a map of logits, one per overlapping patch (70x70 pixels with ``n_layers=3``)."""

    def __init__(self, channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        widths = [ndf * min(2**i, 8) for i in range(n_layers + 1)]
        # No norm on the first unit (it would normalise away the input statistics).
        units = [conv_unit(channels, widths[0], norm="none")]
        units += [conv_unit(w_in, w_out, norm=norm) for w_in, w_out in zip(widths[:-2], widths[1:-1], strict=True)]
        units.append(conv_unit(widths[-2], widths[-1], 4, 1, 1, norm))
        units.append(conv_unit(widths[-1], 1, 4, 1, 1, "none", "none"))
        self.body = nn.Sequential(*units)
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)
