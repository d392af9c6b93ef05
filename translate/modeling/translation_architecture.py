"""The checks every image-to-image architecture shares (a generator of some input sizes and a
PatchGAN critic: CycleGAN's and CUT's ResNet pair, pix2pix's U-Net pair), written once."""

from __future__ import annotations

from typing import Any

from translate.config import check_ranges
from translate.errors import ConfigError
from translate.modeling.blocks import NORMS, UPSAMPLES
from translate.modeling.patch_discriminator import smallest_input


def check_architecture(config: Any, ranges: dict[str, tuple[int, int]], multiple: int, minimum: int,
                       generator: str, other_fix: str = "") -> None:
    """``config``'s channels, bounded sizes, a training crop that ``generator`` (inputs a
    multiple of ``multiple``, at least ``minimum``) and its PatchGAN both take, and a known norm
    and upsampling; or a ConfigError naming the first that is not and the flag that fixes it
    (``other_fix``: a further way to fit the crop, e.g. a smaller U-Net)."""
    if config.channels not in (1, 3):
        raise ConfigError(f"channels must be 1 or 3, got {config.channels}")
    check_ranges(config, ranges)
    if config.image_size < minimum or config.image_size % multiple:
        raise ConfigError(f"crop size {config.image_size} does not fit {generator}: pick a multiple of {multiple} "
                          f"of at least {minimum}" + (f", or {other_fix}" if other_fix else ""))
    smallest = smallest_input(config.n_layers)
    if config.image_size < smallest:
        raise ConfigError(f"crop size {config.image_size} is too small for a PatchGAN with {config.n_layers} layers: "
                          f"crop at least {smallest} pixels or lower --n-layers")
    for name, value, choices in (("norm", config.norm, NORMS), ("upsample", config.upsample, UPSAMPLES)):
        if value not in choices:
            raise ConfigError(f"{name} {value!r} is not one of {', '.join(choices)}")
