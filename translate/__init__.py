"""translate: image-to-image translation with GANs (DCGAN, cDCGAN, CycleGAN)."""

__version__ = "0.1.0"
