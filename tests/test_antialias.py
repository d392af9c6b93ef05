"""Anti-aliased sampling in the shared ResNet generator: off by default (the network, its
weights' names and its outputs are CycleGAN's), on as CUT's reference generator has it."""

import pytest
import torch

from translate.modeling.antialias import BlurDown, BlurUp
from translate.modeling.resnet_generator import ResnetGenerator


def test_the_blurs_halve_and_double_the_size_and_keep_a_flat_image_flat():
    flat = torch.full((1, 2, 6, 10), 0.5)
    assert torch.allclose(BlurDown(2)(flat), torch.full((1, 2, 3, 5), 0.5))
    assert torch.allclose(BlurUp(2)(flat), torch.full((1, 2, 12, 20), 0.5))
    assert list(BlurDown(2).state_dict()) == [] and list(BlurUp(2).state_dict()) == []  # constants, not weights


def test_blur_down_is_the_binomial_filter_at_every_other_pixel():
    impulse = torch.zeros(1, 1, 8, 8)
    impulse[0, 0, 4, 4] = 16.0
    assert BlurDown(1)(impulse)[0, 0, 2, 2] == pytest.approx(4.0)  # the centre weight, 2 * 2 / 16
    # An impulse between the sampled pixels, which a plain stride-2 sampling would drop, reaches
    # its four sampled neighbours with the corner weight 1 / 16 each.
    between = torch.zeros(1, 1, 8, 8)
    between[0, 0, 5, 5] = 16.0
    out = BlurDown(1)(between)[0, 0]
    assert out[2:4, 2:4].tolist() == [[1.0, 1.0], [1.0, 1.0]] and out.sum() == pytest.approx(4.0)


def test_default_generator_is_unchanged_and_the_antialiased_one_has_its_parameters():
    plain, smooth = ResnetGenerator(3, 8, 2), ResnetGenerator(3, 8, 2, antialias=True)
    assert "down.0.0.weight" in plain.state_dict() and "up.0.0.weight" in plain.state_dict()
    assert isinstance(plain.up[0][0], torch.nn.ConvTranspose2d)
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in smooth.parameters())
    assert "down.0.0.0.weight" in smooth.state_dict() and "up.0.1.0.weight" in smooth.state_dict()


@pytest.mark.parametrize(("height", "width"), [(32, 32), (36, 44), (8, 8)])
def test_the_antialiased_generator_keeps_sizes_and_names_its_stages(height, width):
    net = ResnetGenerator(3, 8, 2, antialias=True)
    image = torch.randn(2, 3, height, width)
    assert net(image).shape == image.shape
    features = net.encode(image, ["down1", "down2", "block1"])
    assert features["down1"].shape[2:] == (height // 2, width // 2)
    assert features["down2"].shape[2:] == features["block1"].shape[2:] == (height // 4, width // 4)


def test_blur_up_is_the_reference_upsample():
    """The reference's Upsample: a replicate-padded transposed blur, its first row and column and
    its last dropped."""
    x = torch.randn(2, 3, 5, 7)
    up = BlurUp(3)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    reference = torch.nn.functional.conv_transpose2d(padded, up.kernel, stride=2, padding=2, groups=3)
    assert torch.allclose(up(x), reference[:, :, 1:, 1:][:, :, :-1, :-1], atol=1e-6)
