"""What ``translate.apply`` runs for a checkpoint or model folder: its family's generator in
PyTorch. Imported only for those, so that applying an ONNX file needs no PyTorch."""

from __future__ import annotations

import numpy as np

import translate.cli  # noqa: F401  (first: without PyTorch, one line naming the extra to install)
from translate.apply_model import ImageModel
from translate.errors import ConfigError
from translate.families import get_family
from translate.families.translation import domain_names
from translate.modeling.checkpoint import read_checkpoint
from translate.modeling.device import resolve_precision, select_device
from translate.modeling.inference import translate_image


def checkpoint_model(source: str, direction: str | None, gpu: bool, precision: str | None) -> ImageModel:
    """The generator of a translation run, checkpoint or model folder, in ``direction`` (the
    family's first by default), on the GPU or the CPU, in ``precision`` (default auto)."""
    checkpoint = read_checkpoint(source)
    family = get_family(checkpoint.family)
    if family.task != "translate":
        raise ConfigError(f"{checkpoint.path} is a {family.name} model, which draws images rather than translating "
                          "them: use python -m translate.sample")
    direction = family.check_direction(direction, checkpoint)
    generator, config = family.load_generator(checkpoint, direction)
    device = select_device(gpu)
    resolved = resolve_precision(precision or "auto", device)
    generator = generator.to(device)
    size_multiple, min_size = family.input_sizes(config)

    def translate(image: np.ndarray) -> np.ndarray:
        return translate_image(generator, image, size_multiple, min_size, device, resolved)

    return ImageModel(str(checkpoint.path), direction, domain_names(config, direction), config.channels, translate)
