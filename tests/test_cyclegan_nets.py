"""CycleGAN networks: shapes, the reference's sizes, the 70x70 receptive field, the config."""

import pytest
import torch
from torch import nn

from translate.errors import ConfigError
from translate.families.cyclegan.nets import CycleGANConfig, build_discriminator, build_generator

SMALL = CycleGANConfig(ngf=8, ndf=8, n_blocks=2)


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
@pytest.mark.parametrize(("height", "width"), [(32, 32), (36, 44), (8, 8)])
def test_generator_keeps_the_size_of_multiples_of_4(upsample, height, width):
    config = CycleGANConfig(ngf=8, n_blocks=2, upsample=upsample)
    out = build_generator(config)(torch.randn(2, 3, height, width))
    assert out.shape == (2, 3, height, width)
    assert out.abs().max() <= 1  # tanh


def test_parameter_counts_match_the_reference_networks():
    # pytorch-CycleGAN-and-pix2pix: resnet_9blocks 11.378 M, resnet_6blocks 7.838 M, basic D 2.765 M.
    def count(net: nn.Module) -> int:
        return sum(p.numel() for p in net.parameters())

    assert count(build_generator(CycleGANConfig())) == 11_378_179
    assert count(build_generator(CycleGANConfig(n_blocks=6))) == 7_837_699
    assert count(build_discriminator(CycleGANConfig())) == 2_764_737


def test_generator_uses_reflection_padding_at_the_borders():
    net = build_generator(SMALL)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (7, 7) and convs[0].padding_mode == "reflect"
    assert convs[-1].kernel_size == (7, 7) and convs[-1].padding_mode == "reflect"
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) == 4 + 2 * 2 + 1


def test_patch_discriminator_map_size_and_70_pixel_receptive_field():
    assert build_discriminator(SMALL)(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    # Instance norm mixes every pixel into every output; the field is a property of the convolutions.
    net = build_discriminator(CycleGANConfig(ndf=8, norm="none"))
    image = torch.randn(1, 3, 160, 160, requires_grad=True)
    scores = net(image)
    scores[0, 0, scores.shape[2] // 2, scores.shape[3] // 2].backward()
    rows, cols = image.grad[0].abs().sum(0).nonzero().unbind(1)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (70, 70)


def test_receptive_field_grows_with_n_layers():
    def field(n_layers: int) -> int:
        net = build_discriminator(CycleGANConfig(ndf=4, n_layers=n_layers, norm="none"))
        image = torch.randn(1, 3, 64, 64, requires_grad=True)
        scores = net(image)
        scores[0, 0, scores.shape[2] // 2, scores.shape[3] // 2].backward()
        rows = image.grad[0].abs().sum(0).nonzero()[:, 0]
        return int(rows.max() - rows.min() + 1)

    assert [field(n) for n in (1, 2)] == [16, 34]  # and 70 for 3, above


@pytest.mark.parametrize(
    ("change", "message"),
    [({"norm": "group"}, "norm 'group'"), ({"upsample": "pixelshuffle"}, "upsample"),
     ({"image_size": 30}, "multiple of 4"), ({"image_size": 16}, "too small for a PatchGAN with 3 layers"),
     ({"n_blocks": 0}, r"n_blocks 0 is outside 1\.\.64"), ({"channels": 2}, "channels")],
)
def test_bad_configs_are_rejected(change, message):
    with pytest.raises(ConfigError, match=message):
        CycleGANConfig(**{**SMALL.to_dict(), **change}).validate()


def test_config_round_trips_through_json_dicts():
    assert CycleGANConfig.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(ConfigError, match="unknown key"):
        CycleGANConfig.from_dict({**SMALL.to_dict(), "dropout": True})


def test_encode_names_the_generators_feature_maps_and_leaves_its_forward_alone():
    net = build_generator(SMALL).eval()
    images = torch.randn(2, 3, 32, 32)
    layers = ("input", "down1", "down2", "block1", "block2")  # CUT's choice, for a generator of 2 blocks
    features = net.encode(images, layers)
    assert list(features) == list(layers)
    assert [tuple(f.shape[1:]) for f in features.values()] == [(3, 32, 32), (16, 16, 16), (32, 8, 8), (32, 8, 8),
                                                              (32, 8, 8)]
    assert torch.equal(features["input"], images)
    assert torch.equal(net.encode(images, ["output"])["output"], net(images))
    assert list(net.stages()) == ["input", "stem", "down1", "down2", "block1", "block2", "up1", "up2", "output"]
    with pytest.raises(ConfigError, match="no layer 'block3'"):
        net.encode(images, ["block3"])
