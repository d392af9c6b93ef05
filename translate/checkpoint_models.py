"""The command lines' models (:mod:`translate.onnx_models`) made from a checkpoint or model folder:
its family's generator in PyTorch. Imported only for those, so that ``apply`` and ``sample`` on
an ONNX file need no PyTorch."""

from __future__ import annotations

import numpy as np

import translate.cli  # noqa: F401  (first: without PyTorch, one line naming the extra to install)
from translate.errors import ConfigError
from translate.families import get_family
from translate.families.translation import domain_names
from translate.io.images import check_padded_size
from translate.modeling.checkpoint import read_checkpoint
from translate.modeling.device import resolve_precision, select_device
from translate.modeling.inference import translate_image
from translate.modeling.pixels import to_pixels
from translate.onnx_models import ImageModel


def checkpoint_model(source: str, direction: str | None, gpu: bool, precision: str | None,
                     max_pixels: int) -> ImageModel:
    """The generator of a translation run, checkpoint or model folder, in ``direction`` (the
    family's first by default), on the GPU or the CPU, in ``precision`` (default auto); an image
    above ``max_pixels`` once padded to the generator's sizes is refused, as the runtime does."""
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
        check_padded_size(*image.shape[:2], size_multiple, min_size, max_pixels)
        return translate_image(generator, image, size_multiple, min_size, device, resolved)

    return ImageModel(str(checkpoint.path), direction, domain_names(config, direction), config.channels, translate)


class CheckpointDrawer:
    """What ``sample`` draws from a checkpoint: its family's grid (digits, or test images and
    their translations) and walks, as pixels."""

    def __init__(self, source: str, gpu: bool):
        self.checkpoint = read_checkpoint(source)
        self.family = get_family(self.checkpoint.family)
        self.device = select_device(gpu)
        self.task, self.grid_count = self.family.task, self.family.grid_count

    def draw(self, n: int, label: int | None, seed: int, data: str | None,
             truncation: float | None) -> tuple[np.ndarray, int, list[str]]:
        images, columns, titles = self.family.sample(self.checkpoint, n, label, seed, self.device, data, truncation)
        return to_pixels(images.cpu()).numpy(), columns, titles

    def walk(self, rows: int, steps: int, seeds: tuple[int, int], label: int | None,
             labels: tuple[int, int] | None, truncation: float | None) -> np.ndarray:
        images = self.family.walk(self.checkpoint, rows, steps, seeds, label, labels, truncation, self.device)
        return to_pixels(images.cpu()).numpy()
