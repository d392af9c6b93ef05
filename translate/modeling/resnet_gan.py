"""The architecture of a ResNet generator and its PatchGAN critic, as the families that train
that pair (CycleGAN, CUT) record it in their checkpoints, and the networks built from it."""

from __future__ import annotations

from dataclasses import dataclass

from translate.config import ConfigBase, check_ranges
from translate.errors import ConfigError
from translate.modeling.blocks import NORMS, UPSAMPLES
from translate.modeling.patch_discriminator import PatchDiscriminator, smallest_input
from translate.modeling.resnet_generator import MIN_SIZE, SIZE_MULTIPLE, ResnetGenerator

# The reference uses ngf 64, 9 blocks and 256 px; these bounds leave room and refuse absurd sizes.
SIZE_RANGES = {"ngf": (1, 512), "ndf": (1, 512), "n_blocks": (1, 64), "n_layers": (1, 8), "image_size": (1, 4096)}


@dataclass
class ResnetGANConfig(ConfigBase):
    """Everything that fixes the two networks, and what the two domains are called."""

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
        if self.image_size < MIN_SIZE or self.image_size % SIZE_MULTIPLE:
            raise ConfigError(
                f"image size {self.image_size} is not usable: pick a multiple of {SIZE_MULTIPLE} of at least {MIN_SIZE}"
            )
        smallest = smallest_input(self.n_layers)
        if self.image_size < smallest:
            raise ConfigError(
                f"image size {self.image_size} is too small for a PatchGAN with {self.n_layers} layers: "
                f"crop at least {smallest} pixels or lower --n-layers"
            )
        for name, value, choices in (("norm", self.norm, NORMS), ("upsample", self.upsample, UPSAMPLES)):
            if value not in choices:
                raise ConfigError(f"{name} {value!r} is not one of {', '.join(choices)}")


def build_generator(config: ResnetGANConfig, antialias: bool = False) -> ResnetGenerator:
    """The generator ``config`` describes, with anti-aliased sampling if asked (a family that
    offers it records it in its own config)."""
    config.validate()
    return ResnetGenerator(config.channels, config.ngf, config.n_blocks, config.norm, config.upsample, antialias)


def build_discriminator(config: ResnetGANConfig) -> PatchDiscriminator:
    """The discriminator ``config`` describes."""
    config.validate()
    return PatchDiscriminator(config.channels, config.ndf, config.n_layers, config.norm)
