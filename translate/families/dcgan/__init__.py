"""DCGAN and cDCGAN (Radford et al. 2016; Mirza and Osindero 2014): one pair of networks,
with or without labels."""

from translate.families.dcgan.family import FAMILIES

__all__ = ["FAMILIES"]
