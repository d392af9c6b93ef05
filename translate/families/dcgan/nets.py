"""DCGAN generator and discriminator; label-conditional (cDCGAN) when ``n_classes > 0``.

Labels enter the generator as a one-hot vector concatenated with the noise, and the
discriminator as one-hot maps concatenated with the image channels (the classic
cDCGAN conditioning), so both families share one pair of classes. Either network also
takes that vector directly as float class weights, which is how a walk moves between
two labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from translate.config import ConfigBase, check_ranges
from translate.errors import ConfigError
from translate.modeling.blocks import NORMS, UPSAMPLES, conv_unit, init_dcgan_weights, up_unit

# Generous bounds (MNIST uses z 100, widths 64, fc 1024) that refuse absurd sizes.
SIZE_RANGES = {"z_dim": (1, 4096), "n_classes": (0, 10_000), "ngf": (1, 1024), "ndf": (1, 1024),
               "fc_width": (0, 16_384)}
EMA_NAME = "generator_ema"  # module name of the generator's weight average (--ema) in checkpoints
# Spatial size of the first feature map for each supported image size.
BASE_SIZES = {28: 7, 32: 4, 64: 4}


@dataclass
class DCGANConfig(ConfigBase):
    """Everything that fixes the architecture; saved beside the weights."""

    image_size: int = 28
    channels: int = 1
    z_dim: int = 100
    n_classes: int = 0
    ngf: int = 64
    ndf: int = 64
    g_norm: str = "batch"
    d_norm: str = "batch"
    upsample: str = "transpose"
    # Width of a fully connected hidden layer between the code and the first feature map in G,
    # and between the last feature map and the logit in D: InfoGAN's MNIST networks, the ones
    # Lucic et al. (2018) benchmark. 0 keeps the plain DCGAN (one linear map at each end).
    fc_width: int = 0

    def validate(self) -> None:
        if self.image_size not in BASE_SIZES:
            raise ConfigError(
                f"image size {self.image_size} is not supported: use one of {sorted(BASE_SIZES)}"
            )
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")
        check_ranges(self, SIZE_RANGES)
        for name, value, choices in (
            ("g_norm", self.g_norm, NORMS),
            ("d_norm", self.d_norm, NORMS),
            ("upsample", self.upsample, UPSAMPLES),
        ):
            if value not in choices:
                raise ConfigError(f"{name} {value!r} is not one of {', '.join(choices)}")
        if self.fc_width and {"instance", "instance_affine"} & {self.g_norm, self.d_norm}:
            raise ConfigError(
                "instance norm cannot follow the fully connected layer (fc_width): its 1x1 map has no "
                "spatial extent to normalise over; use batch, layer, spectral or none, or fc_width 0"
            )

    @property
    def n_stages(self) -> int:
        """Number of 2x resolution steps between the base map and the image."""
        return int(math.log2(self.image_size // BASE_SIZES[self.image_size]))


def _stage_channels(base: int, n_stages: int) -> list[int]:
    """Widths from the coarsest map to the finest, halving per stage (DCGAN's pyramid)."""
    return [base * 2 ** (n_stages - 1 - i) for i in range(n_stages)]


class Generator(nn.Module):
    """z (and a label) -> image in [-1, 1]."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        config.validate()
        self.config = config
        widths = _stage_channels(config.ngf, config.n_stages)
        base = BASE_SIZES[config.image_size]
        code_width = config.z_dim + config.n_classes
        # The fully connected hidden layer, if any: a 1x1 transposed conv on the 1x1 code.
        self.dense = nn.Sequential()
        if config.fc_width:
            self.dense.append(up_unit(code_width, config.fc_width, "transpose", 1, 1, 0, norm=config.g_norm))
        # Projection of the 1x1 code to the base map: a transposed conv with kernel = base size.
        self.stem = up_unit(config.fc_width or code_width, widths[0], "transpose", base, 1, 0, norm=config.g_norm)
        self.body = nn.Sequential(
            *(up_unit(w, w // 2, config.upsample, norm=config.g_norm) for w in widths[:-1])
        )
        self.head = up_unit(widths[-1], config.channels, config.upsample, norm="none", act="tanh")
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        code = _with_labels(z, labels, self.config.n_classes)
        return self.head(self.body(self.stem(self.dense(code[:, :, None, None]))))


class Discriminator(nn.Module):
    """Image (and a label) -> one logit per image; a critic when trained with WGAN-GP."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        config.validate()
        self.config = config
        widths = _stage_channels(config.ndf, config.n_stages)[::-1]
        in_ch = config.channels + config.n_classes
        # No norm on the first unit, as in DCGAN: it would normalise away the input statistics.
        units = [conv_unit(in_ch, widths[0], norm="spectral" if config.d_norm == "spectral" else "none")]
        units += [conv_unit(w, w * 2, norm=config.d_norm) for w in widths[:-1]]
        self.body = nn.Sequential(*units)
        base = BASE_SIZES[config.image_size]
        # The fully connected hidden layer, if any: a conv whose kernel covers the whole base map.
        self.dense = nn.Sequential()
        if config.fc_width:
            self.dense.append(conv_unit(widths[-1], config.fc_width, base, 1, 0, norm=config.d_norm))
        head_norm = "spectral" if config.d_norm == "spectral" else "none"
        head_kernel = 1 if config.fc_width else base
        self.head = conv_unit(config.fc_width or widths[-1], 1, head_kernel, 1, 0, norm=head_norm, act="none")
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        n_classes = self.config.n_classes
        if n_classes:
            maps = _with_labels(images.new_zeros(len(images), 0), labels, n_classes)
            images = torch.cat([images, maps[:, :, None, None].expand(-1, -1, *images.shape[2:])], 1)
        elif labels is not None:
            raise ConfigError("labels were given to an unconditional discriminator")
        return self.head(self.dense(self.body(images))).flatten()


def _with_labels(z: torch.Tensor, labels: torch.Tensor | None, n_classes: int) -> torch.Tensor:
    """Append the conditioning to the code, checking that labels match the model: class indices
    (N) become one-hot rows; float class weights (N x n_classes, e.g. between two labels,
    :func:`translate.latent.label_walk`) are appended as they are."""
    if not n_classes:
        if labels is not None:
            raise ConfigError("labels were given to an unconditional model")
        return z
    if labels is None:
        raise ConfigError(f"this model is conditional on {n_classes} classes: pass labels")
    if labels.is_floating_point():
        if labels.shape != (len(z), n_classes):
            raise ConfigError(f"class weights must be N x {n_classes}, got {tuple(labels.shape)}")
        return torch.cat([z, labels.to(z.dtype)], 1)
    return torch.cat([z, F.one_hot(labels.long(), n_classes).to(z.dtype)], 1)
