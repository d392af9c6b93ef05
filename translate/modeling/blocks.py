"""Shared DCGAN-style building blocks.

Every network (the DCGAN and cDCGAN generators and discriminators, the ResNet generator of
CycleGAN and CUT, the U-Net of pix2pix, the PatchGAN, the MNIST classifier) is assembled
from these units, so a fix or an option added here reaches all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from translate.errors import ConfigError

NORMS: tuple[str, ...] = ("batch", "instance", "instance_affine", "layer", "spectral", "none")
ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "tanh", "sigmoid", "none")
UPSAMPLES: tuple[str, ...] = ("transpose", "resize")


def _check_choice(kind: str, name: str, choices: tuple[str, ...]) -> None:
    if name not in choices:
        raise ConfigError(f"unknown {kind} {name!r}: choose one of {', '.join(choices)}")


def norm_layer(name: str, channels: int) -> nn.Module:
    """Feature normalisation after a convolution.

    ``spectral`` normalises the convolution's weight instead (see :func:`conv_unit`),
    so it contributes no layer here; ``layer`` is GroupNorm with one group, the
    batch-independent choice for a WGAN-GP critic; ``instance_affine`` learns a scale and a
    shift per channel, which is what the pix2pix reference's batch norm computes with its
    batch of one image (and, left in training mode, at test time too).
    """
    _check_choice("norm", name, NORMS)
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name in ("instance", "instance_affine"):
        return nn.InstanceNorm2d(channels, affine=name == "instance_affine", track_running_stats=False)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def activation(name: str) -> nn.Module:
    """Activation by name; leaky ReLU uses DCGAN's slope of 0.2."""
    _check_choice("activation", name, ACTIVATIONS)
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=True),
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "none": nn.Identity,
    }[name]()


def _maybe_spectral(conv: nn.Module, norm: str) -> nn.Module:
    return spectral_norm(conv) if norm == "spectral" else conv


def _needs_bias(norm: str) -> bool:
    # Batch, layer and affine instance norm learn a shift of their own: the conv bias is dropped before them.
    # Instance norm (no affine shift here) subtracts each map's mean, which cancels a bias too,
    # but the reference CycleGAN keeps one there: so do we, to match its networks and weights.
    return norm in ("none", "spectral", "instance")


def conv_unit(
    in_ch: int,
    out_ch: int,
    kernel: int = 4,
    stride: int = 2,
    padding: int = 1,
    norm: str = "batch",
    act: str = "leaky_relu",
    padding_mode: str = "zeros",
) -> nn.Sequential:
    """Convolution, norm, activation: the down-sampling unit (stride 2 by default)."""
    conv = nn.Conv2d(
        in_ch, out_ch, kernel, stride, padding, bias=_needs_bias(norm), padding_mode=padding_mode
    )
    return nn.Sequential(_maybe_spectral(conv, norm), norm_layer(norm, out_ch), activation(act))


def up_unit(
    in_ch: int,
    out_ch: int,
    mode: str = "transpose",
    kernel: int = 4,
    stride: int = 2,
    padding: int = 1,
    output_padding: int = 0,
    norm: str = "batch",
    act: str = "relu",
) -> nn.Sequential:
    """Up-sampling unit: transposed convolution, or resize + convolution.

    ``resize`` (nearest-neighbour up-sampling by ``stride`` then a 3x3 convolution)
    avoids the checkerboard artefacts of transposed convolutions (Odena et al., 2016).
    """
    _check_choice("upsample mode", mode, UPSAMPLES)
    if mode == "transpose":
        conv: nn.Module = nn.ConvTranspose2d(
            in_ch, out_ch, kernel, stride, padding, output_padding, bias=_needs_bias(norm)
        )
        layers = [_maybe_spectral(conv, norm)]
    else:
        conv = nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=_needs_bias(norm), padding_mode="reflect")
        layers = [nn.Upsample(scale_factor=stride, mode="nearest"), _maybe_spectral(conv, norm)]
    return nn.Sequential(*layers, norm_layer(norm, out_ch), activation(act))


class ResidualBlock(nn.Module):
    """Two 3x3 conv units with a skip connection (the CycleGAN ResNet block)."""

    def __init__(self, channels: int, norm: str = "instance", padding_mode: str = "reflect"):
        super().__init__()
        self.body = nn.Sequential(
            conv_unit(channels, channels, 3, 1, 1, norm, "relu", padding_mode),
            conv_unit(channels, channels, 3, 1, 1, norm, "none", padding_mode),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _is_skeleton(module: nn.Module) -> bool:
    """A module laid out on the meta device (checkpoint.build_loaded's shape check) has no values
    to draw: initialising it only imports torch._dynamo for the meta kernels, 2 s of every
    command that loads a model (and it draws no random numbers, so skipping it changes none)."""
    first = next(module.parameters(), None)  # with a spectral norm's weight.original
    return first is not None and first.is_meta


def _init_weights(module: nn.Module, init_weight: Callable[[torch.Tensor], object], norm_std: float) -> None:
    """What both initialisations share: conv and linear weights by ``init_weight`` (for a
    spectral-normalised conv its ``parametrizations.weight.original``), norm scales
    ~ N(1, norm_std), biases 0; a meta-device skeleton is left alone."""
    if _is_skeleton(module):
        return
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = module.parametrizations.weight.original if hasattr(module, "parametrizations") else module.weight
        init_weight(weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, norm_std)
        nn.init.zeros_(module.bias)


def init_xavier_weights(module: nn.Module, gain: float = 0.02) -> None:
    """The CUT reference's initialisation (its ``--init_type xavier --init_gain 0.02``): conv and
    linear weights Xavier-normal with gain 0.02 (a std of about 0.001 for 3x3 convolutions of
    64 to 256 channels, against DCGAN's 0.02), norm scales ~ N(1, 0.02), biases 0. Apply with
    ``net.apply(init_xavier_weights)``."""
    _init_weights(module, lambda weight: nn.init.xavier_normal_(weight, gain), gain)


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0.

    Apply with ``net.apply(init_dcgan_weights)``. Spectral-normalised convs keep their
    original weight under ``parametrizations.weight.original``, which is initialised too.
    """
    _init_weights(module, lambda weight: nn.init.normal_(weight, 0.0, 0.02), 0.02)
