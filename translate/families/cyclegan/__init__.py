"""CycleGAN (Zhu et al. 2017): unpaired translation between two image domains."""

from translate.families.cyclegan.family import FAMILIES

__all__ = ["FAMILIES"]
