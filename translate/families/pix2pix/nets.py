"""pix2pix's architecture (Isola et al., 2017): the config that fixes it (with the paired
dataset it translates, which scoring and the sample grid read), the checkpoint names of its
networks, and those networks: the U-Net generator and a PatchGAN that judges the input and
the output together (a conditional discriminator)."""

from __future__ import annotations

from dataclasses import dataclass

from translate.config import ConfigBase, check_ranges
from translate.errors import ConfigError
from translate.modeling.patch_discriminator import PatchDiscriminator
from translate.modeling.translation_architecture import check_architecture
from translate.modeling.unet_generator import UnetGenerator, unet_sizes
from translate.onnx_contract import MAX_PAD_MULTIPLE

GENERATOR = "generator_AtoB"  # checkpoint prefixes
DISCRIMINATOR = "discriminator"
# The reference uses ngf 64, depth 8 (unet_256) and 256 px; these bounds leave room and refuse absurd sizes.
# Depth stops where its inputs' multiple, 2**depth, reaches the largest padding the ONNX contract states (8).
MAX_DEPTH = MAX_PAD_MULTIPLE.bit_length() - 1
SIZE_RANGES = {"ngf": (1, 512), "ndf": (1, 512), "depth": (2, MAX_DEPTH), "n_layers": (1, 8), "image_size": (1, 4096)}


@dataclass
class Pix2PixConfig(ConfigBase):
    """Everything that fixes the architecture; what the two sides are called; and the paired
    dataset (``<data>/dataset``), read from its A side to its B side, or B to A with ``reverse``."""

    channels: int = 3
    ngf: int = 64
    ndf: int = 64
    depth: int = 8
    n_layers: int = 3
    norm: str = "instance_affine"  # the reference's batch norm on one image: see norm_layer
    dropout: bool = True
    upsample: str = "transpose"
    image_size: int = 256  # the training crop; the generator takes any multiple of 2**depth
    domain_a: str = "A"  # the input side's name
    domain_b: str = "B"  # the output side's name
    dataset: str = ""
    reverse: bool = False

    def validate(self) -> None:
        check_ranges(self, SIZE_RANGES)  # first: the depth sets 2**depth
        multiple, minimum = unet_sizes(self.depth)
        check_architecture(self, SIZE_RANGES, multiple, minimum, f"a U-Net of depth {self.depth}", "lower --depth")
        if not self.dataset:
            raise ConfigError("name the paired dataset: --dataset NAME (a folder of the data root)")


def build_generator(config: Pix2PixConfig) -> UnetGenerator:
    """The U-Net ``config`` describes (checked first)."""
    config.validate()
    return UnetGenerator(config.channels, config.ngf, config.depth, config.norm, config.dropout, config.upsample)


def build_discriminator(config: Pix2PixConfig) -> PatchDiscriminator:
    """The conditional PatchGAN: it sees the input and an output (real or generated), stacked as channels."""
    config.validate()
    return PatchDiscriminator(2 * config.channels, config.ndf, config.n_layers, config.norm)
