"""pix2pix (Isola et al. 2017): paired image-to-image translation with a conditional GAN."""

from translate.families.pix2pix.family import FAMILIES

__all__ = ["FAMILIES"]
