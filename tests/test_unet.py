"""The U-Net generator: sizes, the reference's layout (widths, dropout, unnormalised
bottleneck) and the skips that carry each encoder level's own output."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from translate.errors import ConfigError
from translate.modeling.unet_generator import UnetGenerator, unet_sizes


@pytest.mark.parametrize(("depth", "side"), [(3, 8), (4, 48), (8, 256)])
def test_output_is_the_input_size_in_minus_one_to_one(depth, side):
    net = UnetGenerator(3, 4, depth).eval()
    out = net(torch.rand(2, 3, side, side + 2**depth) * 2 - 1)
    assert out.shape == (2, 3, side, side + 2**depth) and out.abs().max() <= 1
    assert unet_sizes(depth) == (net.size_multiple, net.min_size) == (2**depth, 2**depth)


def test_the_reference_unet_256_layout():
    net = UnetGenerator(3, 64, 8, norm="batch")
    assert [d[-1][0].out_channels for d in net.downs[1:]] == [128, 256, 512, 512, 512, 512, 512]
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 3  # the first three decoder layers
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.downs[-1].modules())  # 1x1: no norm
    params = sum(p.numel() for p in net.parameters())
    # the reference unet_256 has 54,414,080; our two unnormalised downs keep a bias
    assert 54_400_000 < params < 54_420_000
    # pix2pix's default norm: the same parameters (a scale and a shift per channel, no conv bias before it)
    assert sum(p.numel() for p in UnetGenerator(3, 64, 8, norm="instance_affine").parameters()) == params


def test_skips_carry_the_encoder_maps_unchanged():
    net, depth = UnetGenerator(3, 4, 4).eval(), 4
    encoded, decoder_inputs = {}, {}
    for level in range(depth):  # each encoder level's map as computed, before later layers run
        net.downs[level].register_forward_hook(lambda m, i, out, level=level: encoded.__setitem__(level, out.clone()))
        net.ups[level].register_forward_pre_hook(lambda m, i, level=level: decoder_inputs.__setitem__(level, i[0]))
    net(torch.rand(1, 3, 32, 32) * 2 - 1)
    torch.testing.assert_close(decoder_inputs[depth - 1], encoded[depth - 1], rtol=0, atol=0)  # the bottleneck
    for level in range(depth - 1):  # the decoder at a level sees that level's encoder map first
        width = encoded[level].shape[1]
        assert decoder_inputs[level].shape[1] == 2 * width
        torch.testing.assert_close(decoder_inputs[level][:, :width], encoded[level], rtol=0, atol=0)


def test_dropout_is_off_in_eval_and_can_be_left_out():
    net = UnetGenerator(3, 4, 6).eval()
    x = torch.rand(1, 3, 64, 64)
    assert torch.equal(net(x), net(x))
    assert not any(isinstance(m, nn.Dropout) for m in UnetGenerator(3, 4, 6, dropout=False).modules())


def test_a_depth_below_two_is_refused():
    with pytest.raises(ConfigError, match="depth of at least 2"):
        UnetGenerator(3, 4, 1)
