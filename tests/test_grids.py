"""translate.io.grids lays images out as torchvision's make_grid does (the reference it replaced)."""

import numpy as np
import pytest
import torch
from torchvision.utils import make_grid

from translate.io.grids import image_grid, titled
from translate.modeling.pixels import grid_image, to_pixels


@pytest.mark.parametrize(("n", "channels", "columns", "scale"), [(7, 1, 3, 1), (10, 3, 10, 2), (64, 1, 8, 3),
                                                                  (5, 3, 8, 1), (2, 1, 1, 1)])
def test_the_grid_is_make_grids_layout(n, channels, columns, scale):
    images = torch.rand(n, channels, 9, 11, generator=torch.Generator().manual_seed(n)) * 2 - 1
    expected = to_pixels(make_grid(images, nrow=columns, padding=2, pad_value=-1.0)[None])[0]
    expected = expected.repeat_interleave(scale, 0).repeat_interleave(scale, 1).numpy()
    assert np.array_equal(image_grid(to_pixels(images).numpy(), columns, scale), expected)
    assert np.array_equal(grid_image(images, columns, scale), expected)


def test_rows_fill_in_turn_greys_become_rgb_and_the_gaps_take_the_background():
    images = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3, 1)
    grid = image_grid(images, columns=3, pad=1, background=255)  # as the demo draws digits on its white page
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 3)
    assert np.array_equal(grid[1:3, 5:8, 1], images[1, :, :, 0])  # second image, first row
    assert np.array_equal(grid[4:6, 1:4, 2], images[3, :, :, 0])  # fourth image starts row two
    assert grid[0].min() == 255 and grid[4:6, 9:12].min() == 255  # the gaps, and the empty sixth place


def test_titles_sit_over_their_own_columns_and_fit_them():
    grid = image_grid(np.full((3, 64, 64, 3), 128, np.uint8), columns=3)
    long = "back to a very long domain name indeed"
    out = titled(grid, ["test horse", long, "zèbre"], 64)
    strip = out.shape[0] - grid.shape[0]
    assert strip == 12 and np.array_equal(out[strip:], grid)  # the grid below, untouched
    ink = np.nonzero(out[:strip].max(axis=(0, 2)) > 100)[0]  # the columns of pixels with ink
    for column in range(3):  # ink over each column, inside its span (a long title is shrunk to fit)
        assert ((ink >= 2 + column * 66) & (ink < 2 + column * 66 + 64)).any()
    assert ink.min() >= 2 and ink.max() < 2 + 3 * 66  # nothing drawn past the columns
    # An accented name is drawn without its accent (OpenCV's font is ASCII), not as "?".
    assert np.array_equal(out[:strip], titled(grid, ["test horse", long, "zebre"], 64)[:strip])
