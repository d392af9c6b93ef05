"""Anti-aliased sampling (Zhang 2019, "Making Convolutional Networks Shift-Invariant Again"), as
CUT's reference generator has it: blur before taking every other pixel, and up-sample by a
transposed blur, so that a shift of the input shifts the features rather than aliasing them.
Both run one fixed filter per channel; their filters are constants, not weights, and stay out
of a state_dict."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BINOMIAL = {3: (1.0, 2.0, 1.0), 4: (1.0, 3.0, 3.0, 1.0)}


def _blur_kernel(size: int, channels: int, gain: float) -> torch.Tensor:
    """A normalised binomial ``size`` x ``size`` filter times ``gain``, one per channel (depthwise)."""
    row = torch.tensor(BINOMIAL[size])
    kernel = row[:, None] * row[None, :]
    return (kernel / kernel.sum() * gain).expand(channels, 1, size, size).clone()


class BlurDown(nn.Module):
    """Halve the size: a [1 2 1]² blur over a reflect-padded map at every other pixel (the
    reference's ``Downsample``)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("kernel", _blur_kernel(3, channels, 1.0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.to(x.dtype), stride=2,
                        groups=self.channels)


def _replicate_pad1(x: torch.Tensor) -> torch.Tensor:
    """``x`` with its edge rows and columns repeated once: ``F.pad(x, (1, 1, 1, 1), "replicate")``
    by slices, whose gradient torch.compile builds right (inductor mis-strides
    replication_pad2d_backward, torch 2.x)."""
    x = torch.cat([x[:, :, :1], x, x[:, :, -1:]], dim=2)
    return torch.cat([x[:, :, :, :1], x, x[:, :, :, -1:]], dim=3)


class BlurUp(nn.Module):
    """Double the size: a transposed [1 3 3 1]² blur (times 4, the stride squared) over a
    replicate-padded map, cropped to twice the input (the reference's ``Upsample``)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("kernel", _blur_kernel(4, channels, 4.0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = F.conv_transpose2d(_replicate_pad1(x), self.kernel.to(x.dtype), stride=2, padding=2,
                                groups=self.channels)
        return up[:, :, 1:-1, 1:-1]
