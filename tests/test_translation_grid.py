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
    inputs = torch.rand(2, 3, 4, 4)
    grid, per_row = translation_grid({"AtoB": Divide(2)}, {"AtoB": inputs})
    assert per_row == 2 and grid.shape == (4, 3, 4, 4)
    assert torch.equal(grid[0::2], inputs) and torch.equal(grid[1::2], inputs / 2)


def test_a_two_way_row_adds_the_round_trip_for_each_direction():
    a, b = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    grid, per_row = translation_grid({"AtoB": Divide(2), "BtoA": Divide(3)}, {"AtoB": a, "BtoA": b})
    assert per_row == 6 and grid.shape == (12, 3, 4, 4)  # A, G(A), F(G(A)), B, F(B), G(F(B))
    expected = [a, a / 2, a / 6, b, b / 3, b / 6]
    for column, cells in enumerate(expected):
        torch.testing.assert_close(grid[column::6], cells)


class Divide(nn.Module):
    """A "translation" that tells its output from its input: the image divided by ``by``."""

    def __init__(self, by: float):
        super().__init__()
        self.by = by

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images / self.by
