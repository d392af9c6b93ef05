"""CUT's architecture: the shared ResNet generator (one, mapping domain A to domain B) and
PatchGAN discriminator (judging domain B), the checkpoint names of its networks, and which of
the generator's stages PatchNCE reads."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from translate.errors import ConfigError
from translate.modeling.blocks import init_xavier_weights
from translate.modeling.resnet_gan import ResnetGANConfig, build_discriminator, build_generator
from translate.modeling.resnet_generator import ResnetGenerator

__all__ = ["DIRECTION", "DISCRIMINATOR", "GENERATOR", "PROJECTION", "CUTConfig",
           "build_cut_discriminator", "build_cut_generator", "check_layers", "nce_layers"]

DIRECTION = "AtoB"  # a CUT model translates domain_a into domain_b, and only that way
# Checkpoint prefixes. The generator is named by its direction, as CycleGAN's are, so that a
# checkpoint and a model folder say which way the model translates.
GENERATOR = "generator_AtoB"
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
    """The generator ``config`` describes, initialised as the CUT reference initialises it
    (Xavier-normal, gain 0.02: an untrained generator's outputs are then near grey, and Adam's
    first steps move its weights as far, relative to their size, as the reference's do)."""
    generator = build_generator(config, config.antialias)
    generator.apply(init_xavier_weights)
    return generator


def build_cut_discriminator(config: CUTConfig) -> nn.Module:
    """The PatchGAN ``config`` describes, initialised as :func:`build_cut_generator` is. It samples
    without anti-aliasing whatever ``config.antialias`` says (the reference blurs its
    discriminator's strided convolutions too, unless ``--no_antialias``)."""
    discriminator = build_discriminator(config)
    discriminator.apply(init_xavier_weights)
    return discriminator


def nce_layers(n_blocks: int) -> list[str]:
    """The generator stages PatchNCE compares: its input, its two down-sampling outputs, and
    residual blocks 1 and 5 (the last block, with fewer than 5).

    The reference's ``--nce_layers 0,4,8,12,16`` index the layers of its generator with
    anti-aliased sampling: the reflection-padded input, the two down-sampling convolutions
    (before their norm, at full and half resolution) and residual blocks 1 and 5, whatever
    the number of blocks. Here each is the whole named stage of
    :class:`~translate.modeling.resnet_generator.ResnetGenerator` (after its norm and ReLU, so
    the two down-sampling stages are read at half and a quarter of the input's resolution),
    the input unpadded.
    """
    deep = f"block{min(5, n_blocks)}"
    return ["input", "down1", "down2", "block1", *([deep] if deep != "block1" else [])]


def check_layers(layers: list[str], n_blocks: int) -> None:
    """``layers`` are distinct stages of an encoder of ``n_blocks`` blocks, or a ConfigError."""
    stages = ["input", "stem", "down1", "down2", *(f"block{i}" for i in range(1, n_blocks + 1))]
    unknown = [layer for layer in layers if layer not in stages]
    if unknown or not layers or len(set(layers)) != len(layers):
        raise ConfigError(f"PatchNCE layers must be distinct encoder stages ({', '.join(stages)}), got "
                          f"{', '.join(layers) or 'none'}")
