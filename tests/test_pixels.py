"""The one pixel contract: uint8 H x W x C <-> float N x C x H x W in [-1, 1], the same in its
numpy form (the runtime's) and its torch form (training, evaluation, apply)."""

import numpy as np
import torch

from translate.io import pixels as numpy_pixels
from translate.modeling import pixels as torch_pixels


def test_every_grey_level_round_trips_exactly_in_both_forms():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    as_numpy, as_torch = numpy_pixels.to_unit(levels), torch_pixels.to_unit(levels)
    assert as_numpy.shape == (1, 1, 16, 16) and tuple(as_torch.shape) == (1, 1, 16, 16)
    assert as_numpy.dtype == np.float32 and as_torch.dtype == torch.float32
    np.testing.assert_array_equal(as_numpy, as_torch.numpy())
    assert as_numpy.min() == -1.0 and as_numpy.max() == 1.0
    assert np.array_equal(numpy_pixels.to_pixels(as_numpy)[0], levels)
    assert np.array_equal(torch_pixels.to_pixels(as_torch)[0].numpy(), levels)


def test_both_forms_agree_on_model_outputs_including_out_of_range_and_halfway_values():
    rng = np.random.default_rng(0)
    outputs = rng.uniform(-1.2, 1.2, size=(3, 3, 5, 7)).astype(np.float32)
    outputs[0, 0, 0, :3] = [(k + 0.5) / 127.5 - 1 for k in (10, 11, 12)]  # between two levels
    outputs[0, 0, 1, :2] = [-1.2, 1.2]  # outside the range
    from_numpy, from_torch = numpy_pixels.to_pixels(outputs), torch_pixels.to_pixels(torch.from_numpy(outputs))
    assert from_numpy.shape == (3, 5, 7, 3) and from_numpy.dtype == np.uint8
    np.testing.assert_array_equal(from_numpy, from_torch.numpy())
    assert (from_numpy[0, 1, 0, 0], from_numpy[0, 1, 1, 0]) == (0, 255)  # clipped


def test_channels_follow_the_layouts():
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[..., 0] = 255  # red
    unit = numpy_pixels.to_unit(image)
    assert unit[0, 0].min() == 1.0 and unit[0, 1].max() == -1.0  # channel 0 is the red plane
    batch = np.stack([image, image])
    assert numpy_pixels.to_unit(batch).shape == (2, 3, 2, 3)
    assert tuple(torch_pixels.to_unit(torch.from_numpy(batch)).shape) == (2, 3, 2, 3)
