"""The architecture of a ResNet generator and its PatchGAN critic, as the families that train
that pair (CycleGAN, CUT) record it in their checkpoints, and the networks built from it."""

from __future__ import annotations

from dataclasses import dataclass

from translate.config import ConfigBase
from translate.modeling.patch_discriminator import PatchDiscriminator
from translate.modeling.resnet_generator import MIN_SIZE, SIZE_MULTIPLE, ResnetGenerator
from translate.modeling.translation_architecture import check_architecture

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
        check_architecture(self, SIZE_RANGES, SIZE_MULTIPLE, MIN_SIZE, "the ResNet generator")


def build_generator(config: ResnetGANConfig, antialias: bool = False) -> ResnetGenerator:
    """The generator ``config`` describes, with anti-aliased sampling if asked (a family that
    offers it records it in its own config)."""
    config.validate()
    return ResnetGenerator(config.channels, config.ngf, config.n_blocks, config.norm, config.upsample, antialias)


def build_discriminator(config: ResnetGANConfig) -> PatchDiscriminator:
    """The discriminator ``config`` describes."""
    config.validate()
    return PatchDiscriminator(config.channels, config.ndf, config.n_layers, config.norm)
