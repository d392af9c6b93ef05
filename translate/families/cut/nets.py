"""CUT's architecture: the shared ResNet generator (one, mapping domain A to domain B) and
PatchGAN discriminator (judging domain B), the checkpoint names of its networks, and which of
the generator's stages PatchNCE reads."""

from __future__ import annotations

from dataclasses import dataclass

from translate.errors import ConfigError
from translate.modeling.resnet_gan import ResnetGANConfig, build_generator
from translate.modeling.resnet_generator import ResnetGenerator

__all__ = ["AVERAGE", "DIRECTION", "DISCRIMINATOR", "GENERATOR", "PROJECTION", "CUTConfig", "build_cut_generator",
           "check_layers", "nce_layers"]

DIRECTION = "AtoB"  # a CUT model translates domain_a into domain_b, and only that way
# Checkpoint prefixes. The generator is named by its direction, as CycleGAN's are, so that a
# checkpoint and a model folder say which way the model translates.
GENERATOR = "generator_AtoB"
AVERAGE = "generator_AtoB_average"  # the generator's weight average (--average-from-epoch)
DISCRIMINATOR = "discriminator_B"
PROJECTION = "projection"  # PatchNCE's MLPs, one per layer it reads


@dataclass
class CUTConfig(ResnetGANConfig):
    """A CUT model's architecture: the shared ResNet/PatchGAN config, and whether the
    generator samples anti-aliased (the reference's default; off here, as it runs those
    convolutions at twice the resolution). It maps ``domain_a`` (the source) to ``domain_b``
    (the target)."""

    antialias: bool = False


def build_cut_generator(config: CUTConfig) -> ResnetGenerator:
    """The generator ``config`` describes."""
    return build_generator(config, config.antialias)


def nce_layers(n_blocks: int) -> list[str]:
    """The generator stages PatchNCE compares: its input, its two down-sampling outputs, its
    first residual block and its middle one (block 5 of 9).

    The reference's ``--nce_layers 0,4,8,12,16`` index the layers of its generator with
    anti-aliased sampling: the reflection-padded input, the two down-sampling convolutions
    (before their norm) and residual blocks 1 and 5. Here each is the whole named stage of
    :class:`~translate.modeling.resnet_generator.ResnetGenerator` (after its norm and ReLU),
    the input unpadded; with fewer than 9 blocks the middle block stands for block 5.
    """
    middle = f"block{(n_blocks + 1) // 2}"
    return ["input", "down1", "down2", "block1", *([middle] if middle != "block1" else [])]


def check_layers(layers: list[str], n_blocks: int) -> None:
    """``layers`` are distinct stages of an encoder of ``n_blocks`` blocks, or a ConfigError."""
    stages = ["input", "stem", "down1", "down2", *(f"block{i}" for i in range(1, n_blocks + 1))]
    unknown = [layer for layer in layers if layer not in stages]
    if unknown or not layers or len(set(layers)) != len(layers):
        raise ConfigError(f"PatchNCE layers must be distinct encoder stages ({', '.join(stages)}), got "
                          f"{', '.join(layers) or 'none'}")
