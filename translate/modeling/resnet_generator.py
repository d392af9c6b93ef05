"""The ResNet generator of CycleGAN (Zhu et al., 2017), layer for layer the reference
implementation's ``resnet_{6,9}blocks``, for every family that translates with it (CUT
uses the same network, and reads features out of its encoder).

Its stages have names by their place in the network, so that a family can take the feature
maps of some of them (:meth:`ResnetGenerator.encode`) without changing the forward pass that
inference and ONNX export run.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from translate.errors import ConfigError
from translate.modeling.antialias import BlurDown, BlurUp
from translate.modeling.blocks import ResidualBlock, conv_unit, init_dcgan_weights, up_unit

# Two stride-2 down-samplings: inputs must be a multiple of 4, and at least 8, whose 1/4-size
# bottleneck still takes the residual blocks' reflection padding.
SIZE_MULTIPLE = 4
MIN_SIZE = 8


class ResnetGenerator(nn.Module):
    """Image -> image of the same size in [-1, 1]: 7x7 stem, two stride-2 downs, residual
    blocks at 1/4 resolution, two ups, 7x7 head; reflection padding at the borders.

    ``antialias`` (CUT's reference default, off here) samples as its generator does: each down
    a stride-1 convolution unit then a blurred stride-2 sampling, each up a blurred up-sampling
    then a stride-1 convolution unit. Those convolutions run at twice the resolution, and the
    ups ignore ``upsample``; the parameter count is the same. Off, the network and its weights'
    names are CycleGAN's."""

    size_multiple = SIZE_MULTIPLE
    min_size = MIN_SIZE

    def __init__(self, channels: int = 3, ngf: int = 64, n_blocks: int = 9, norm: str = "instance",
                 upsample: str = "transpose", antialias: bool = False):
        super().__init__()
        self.stem = conv_unit(channels, ngf, 7, 1, 3, norm, "relu", padding_mode="reflect")
        widths = ((ngf, ngf * 2), (ngf * 2, ngf * 4))
        if antialias:
            self.down = nn.Sequential(*(nn.Sequential(conv_unit(w_in, w_out, 3, 1, 1, norm, "relu"), BlurDown(w_out))
                                        for w_in, w_out in widths))
        else:
            self.down = nn.Sequential(*(conv_unit(w_in, w_out, 3, 2, 1, norm, "relu") for w_in, w_out in widths))
        self.blocks = nn.Sequential(*(ResidualBlock(ngf * 4, norm, "reflect") for _ in range(n_blocks)))
        if antialias:
            self.up = nn.Sequential(*(nn.Sequential(BlurUp(w_out), conv_unit(w_out, w_in, 3, 1, 1, norm, "relu"))
                                      for w_in, w_out in reversed(widths)))
        else:
            self.up = nn.Sequential(*(up_unit(w_out, w_in, upsample, 3, 2, 1, 1, norm, "relu")
                                      for w_in, w_out in reversed(widths)))
        self.head = conv_unit(ngf, channels, 7, 1, 3, "none", "tanh", padding_mode="reflect")
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.up(self.blocks(self.down(self.stem(images)))))

    def stages(self) -> dict[str, nn.Module]:
        """The stages in order, by name: ``input`` (the image itself), ``stem``, ``down1``,
        ``down2``, ``block1`` .. ``blockN``, ``up1``, ``up2`` and ``output`` (the image out)."""
        return {
            "input": nn.Identity(),
            "stem": self.stem,
            **{f"down{i}": unit for i, unit in enumerate(self.down, 1)},
            **{f"block{i}": block for i, block in enumerate(self.blocks, 1)},
            **{f"up{i}": unit for i, unit in enumerate(self.up, 1)},
            "output": self.head,
        }

    def encode(self, images: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """The feature maps that the stages named in ``layers`` output (see :meth:`stages`),
        computing no further than the last of them: e.g. CUT's patch features,
        ``("input", "down1", "down2", "block1", "block5")``."""
        return self._run(images, layers, to_the_end=False)[1]

    def translate_and_encode(self, images: torch.Tensor,
                             layers: Iterable[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The translation and, from the same pass, the feature maps :meth:`encode` gives: CUT's
        keys, the source's features, come with its translation instead of from a second pass."""
        return self._run(images, layers, to_the_end=True)

    def _run(self, images: torch.Tensor, layers: Iterable[str],
             to_the_end: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        stages, wanted = self.stages(), set(layers)
        unknown = sorted(wanted - set(stages))
        if unknown:
            raise ConfigError(f"the generator has no layer {unknown[0]!r}: its layers are {', '.join(stages)}")
        features, x = {}, images
        for name, stage in stages.items():
            if not to_the_end and not wanted - set(features):
                break
            x = stage(x)
            if name in wanted:
                features[name] = x
        return x, features
