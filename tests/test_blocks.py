import pytest
import torch
from torch import nn

from translate.errors import ConfigError
from translate.modeling.blocks import (
    ACTIVATIONS,
    NORMS,
    ResidualBlock,
    activation,
    conv_unit,
    init_dcgan_weights,
    norm_layer,
    up_unit,
)


@pytest.mark.parametrize("norm", NORMS)
def test_conv_unit_halves_resolution_for_every_norm(norm):
    unit = conv_unit(3, 8, norm=norm)
    assert unit(torch.randn(2, 3, 16, 16)).shape == (2, 8, 8, 8)


@pytest.mark.parametrize("mode", ["transpose", "resize"])
@pytest.mark.parametrize("norm", NORMS)
def test_up_unit_doubles_resolution(mode, norm):
    unit = up_unit(8, 4, mode, norm=norm)
    assert unit(torch.randn(2, 8, 7, 7)).shape == (2, 4, 14, 14)


def test_resize_up_unit_has_no_transposed_conv():
    unit = up_unit(8, 4, "resize")
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in unit.modules())
    assert any(isinstance(m, nn.Upsample) for m in unit.modules())


def test_spectral_norm_bounds_the_weight_spectrum():
    torch.manual_seed(0)  # the power iteration starts from a random vector
    unit = conv_unit(4, 4, 3, 1, 1, norm="spectral", act="none")
    for _ in range(20):  # power iterations run in training-mode forwards
        unit(torch.randn(1, 4, 8, 8))
    weight = unit[0].weight.detach().flatten(1)
    assert torch.linalg.matrix_norm(weight, ord=2) == pytest.approx(1.0, abs=0.05)


def test_residual_block_keeps_shape_and_adds_skip():
    block = ResidualBlock(6)
    x = torch.randn(1, 6, 10, 10)
    assert block(x).shape == x.shape
    for p in block.parameters():
        nn.init.zeros_(p)
    assert torch.equal(block(x), x)  # zero body: identity through the skip


def test_norm_and_activation_factories():
    assert isinstance(norm_layer("batch", 4), nn.BatchNorm2d)
    assert isinstance(norm_layer("instance", 4), nn.InstanceNorm2d)
    assert isinstance(norm_layer("layer", 4), nn.GroupNorm)
    assert isinstance(norm_layer("none", 4), nn.Identity)
    assert norm_layer("instance", 4).weight is None and norm_layer("instance_affine", 4).weight.shape == (4,)
    x = torch.tensor([-1.0, 2.0])
    expected = {"relu": [0.0, 2.0], "leaky_relu": [-0.2, 2.0], "tanh": [-0.761594, 0.964028],
                "sigmoid": [0.268941, 0.880797], "none": [-1.0, 2.0]}
    assert set(expected) == set(ACTIVATIONS)  # every choice is checked
    for name, values in expected.items():
        torch.testing.assert_close(activation(name)(x.clone()), torch.tensor(values), atol=1e-6, rtol=0)


@pytest.mark.parametrize("bad", [lambda: norm_layer("group", 3), lambda: activation("swish"),
                                 lambda: up_unit(2, 2, "pixelshuffle")])
def test_unknown_names_raise_clear_errors(bad):
    with pytest.raises(ConfigError, match="choose one of"):
        bad()


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    net = nn.Sequential(conv_unit(64, 128), up_unit(128, 64))
    net.apply(init_dcgan_weights)
    conv = net[0][0].weight
    assert conv.std().item() == pytest.approx(0.02, rel=0.05)
    assert conv.mean().item() == pytest.approx(0.0, abs=0.002)
    bn = net[0][1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert torch.count_nonzero(bn.bias) == 0


def test_affine_instance_norm_is_what_the_pix2pix_references_batch_norm_computes_on_one_image():
    """The reference trains (and, without --eval, tests) pix2pix with batch norm on batches of one
    image: per-image statistics with a learned scale and shift, which ``instance_affine`` is."""
    torch.manual_seed(0)
    ours, batch_norm = norm_layer("instance_affine", 5), nn.BatchNorm2d(5).train()
    for module in (ours, batch_norm):
        module.apply(init_dcgan_weights)
    batch_norm.load_state_dict({**batch_norm.state_dict(), "weight": ours.weight, "bias": ours.bias + 0.3})
    ours.bias.data += 0.3  # a learned shift, not only the initial zero
    x = torch.randn(1, 5, 6, 7) * 3 + 1
    torch.testing.assert_close(ours(x), batch_norm(x))
    assert ours.weight.std() > 0 and ours.weight.mean().sub(1).abs() < 0.05  # scales ~ N(1, 0.02), as the reference's
    unit = conv_unit(3, 4, norm="instance_affine")
    assert unit[0].bias is None  # its shift makes the conv's bias redundant, as before batch norm
