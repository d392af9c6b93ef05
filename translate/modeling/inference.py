"""Running a translation generator on whole images of any size: pad to what the network
takes, translate, crop back; and the grid of test images beside their translations.
Shared by ``translate.apply``, ``translate.sample``, the evaluation protocol and every
translate family; each family states the size its generator takes."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from translate.io.images import pad_to_multiple
from translate.modeling.device import autocast
from translate.modeling.pixels import to_pixels, to_unit


@torch.no_grad()
def translate_image(
    generator: nn.Module,
    image: np.ndarray,
    size_multiple: int,
    min_size: int,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
) -> np.ndarray:
    """uint8 H x W x C in, the translated uint8 H x W x C out (same size): reflect-padded to a
    multiple of ``size_multiple`` of at least ``min_size`` a side, run in ``precision``
    (``fp32`` or ``bf16``), cropped back."""
    device = torch.device(device)
    height, width = image.shape[:2]
    padded, (top, left) = pad_to_multiple(image, size_multiple, min_size)
    with autocast(precision, device):
        out = generator(to_unit(np.ascontiguousarray(padded)).to(device))
    return to_pixels(out[:, :, top : top + height, left : left + width])[0].cpu().numpy()


def translation_titles(names: dict[str, tuple[str, str]], paired: set[str]) -> list[str]:
    """The titles of :func:`translation_grid`'s columns, for generators by direction of
    ``names`` (direction -> source and target domain), the directions in ``paired`` with
    their targets: "test horse", "as zebra", "back to horse" (a model of both directions),
    "real zebra" (paired data)."""
    titles = []
    for direction, (source, target) in names.items():
        titles += [f"test {source}", f"as {target}"]
        titles += [f"back to {source}"] if len(names) == 2 else []
        titles += [f"real {target}"] if direction in paired else []
    return titles


@torch.no_grad()
def translation_grid(generators: dict[str, nn.Module], inputs: dict[str, torch.Tensor],
                     targets: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, int]:
    """Grid cells (row by row) and the row length: per row, for each direction in turn, a test
    image of its source domain (``inputs``, by direction), its translation, for a model that
    also maps back (two directions) the round trip, and the image's target where the data
    pairs them (``targets``, by direction). A CycleGAN's row is A, G(A), F(G(A)), B, F(B),
    G(F(B)); a one-way model's A, G(A); a paired one's A, G(A), B. The generators run in
    eval mode and are left in the mode they were in."""
    modes = {direction: net.training for direction, net in generators.items()}
    for net in generators.values():
        net.eval()
    try:
        n = min(len(images) for images in inputs.values())
        columns = []
        for direction, images in inputs.items():
            translated = generators[direction](images)
            columns += [images[:n], translated[:n]]
            back = [net for other, net in generators.items() if other != direction]
            if back:
                columns.append(back[0](translated)[:n])
            if targets and direction in targets:
                columns.append(targets[direction][:n])
        return torch.stack(columns, 1).flatten(0, 1).float(), len(columns)
    finally:
        for direction, net in generators.items():
            net.train(modes[direction])
