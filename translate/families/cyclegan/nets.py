"""CycleGAN's architecture (Zhu et al., 2017): the config that fixes it, the checkpoint names
of its networks, and those networks: the shared ResNet generator (one for each direction)
and PatchGAN discriminator (one for each domain) of :mod:`translate.modeling.resnet_gan`."""

from __future__ import annotations

from dataclasses import dataclass

from translate.modeling.resnet_gan import ResnetGANConfig, build_discriminator, build_generator

__all__ = ["DIRECTIONS", "DISCRIMINATOR_NAMES", "GENERATOR_NAMES", "CycleGANConfig",
           "build_discriminator", "build_generator"]

DIRECTIONS = ("AtoB", "BtoA")
# Checkpoint prefixes of the four networks.
GENERATOR_NAMES = {"AtoB": "generator_AtoB", "BtoA": "generator_BtoA"}
DISCRIMINATOR_NAMES = {"A": "discriminator_A", "B": "discriminator_B"}


@dataclass
class CycleGANConfig(ResnetGANConfig):
    """A CycleGAN's architecture: the shared ResNet/PatchGAN config, under its own name."""
