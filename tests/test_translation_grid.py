"""The grid of test images and their translations: a one-way model's rows, and a paired
model's rows with the targets beside the translations."""

from __future__ import annotations

import torch
from torch import nn

from translate.modeling.inference import translation_grid


def test_a_paired_row_is_input_translation_target():
    generator = nn.Conv2d(3, 3, 1)
    inputs, targets = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8)
    grid, per_row = translation_grid({"AtoB": generator}, {"AtoB": inputs}, {"AtoB": targets})
    assert per_row == 3 and grid.shape == (9, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(grid[1::3], generator(inputs))
    assert torch.equal(grid[0::3], inputs) and torch.equal(grid[2::3], targets)


def test_without_targets_a_one_way_row_is_input_and_translation():
    generator = nn.Identity()
    grid, per_row = translation_grid({"AtoB": generator}, {"AtoB": torch.rand(2, 3, 4, 4)})
    assert per_row == 2 and grid.shape == (4, 3, 4, 4)
