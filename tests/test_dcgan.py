import itertools

import pytest
import torch

from translate.errors import ConfigError
from translate.families.dcgan.nets import BASE_SIZES, DCGANConfig, Discriminator, Generator

CASES = list(itertools.product(sorted(BASE_SIZES), (1, 3), (0, 10), ("transpose", "resize"), (0, 32)))


@pytest.mark.parametrize(("size", "channels", "n_classes", "upsample", "fc_width"), CASES)
def test_generator_and_discriminator_shapes(size, channels, n_classes, upsample, fc_width):
    config = DCGANConfig(size, channels, z_dim=16, n_classes=n_classes, ngf=8, ndf=8, upsample=upsample,
                         fc_width=fc_width)
    labels = torch.tensor([0, n_classes - 1]) if n_classes else None
    images = Generator(config)(torch.randn(2, 16), labels)
    assert images.shape == (2, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # tanh output
    assert Discriminator(config)(images, labels).shape == (2,)


def test_conditional_generator_depends_on_the_label():
    gen = Generator(DCGANConfig(z_dim=8, n_classes=10, ngf=8)).eval()
    z = torch.randn(1, 8)
    assert not torch.allclose(gen(z, torch.tensor([1])), gen(z, torch.tensor([7])))


def test_label_misuse_is_refused():
    conditional = Generator(DCGANConfig(z_dim=8, n_classes=10, ngf=8))
    with pytest.raises(ConfigError, match="pass labels"):
        conditional(torch.randn(1, 8))
    unconditional = Discriminator(DCGANConfig(ndf=8))
    with pytest.raises(ConfigError, match="unconditional"):
        unconditional(torch.randn(1, 1, 28, 28), torch.tensor([3]))


def test_config_round_trip_and_validation():
    config = DCGANConfig(image_size=64, channels=3, n_classes=5)
    assert DCGANConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        DCGANConfig.from_dict({**config.to_dict(), "colour": True})
    with pytest.raises(ConfigError, match="z_dim must be int"):
        DCGANConfig.from_dict({**config.to_dict(), "z_dim": "100"})
    with pytest.raises(ConfigError, match="image size 48 is not supported"):
        DCGANConfig(image_size=48).validate()


def test_wgan_critic_has_no_batch_norm():
    critic = Discriminator(DCGANConfig(d_norm="layer", ndf=8))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())


def test_fc_width_adds_one_fully_connected_hidden_layer_at_each_end():
    plain, dense = DCGANConfig(z_dim=16, ngf=8, ndf=8), DCGANConfig(z_dim=16, ngf=8, ndf=8, fc_width=32)
    assert not list(Generator(plain).dense.parameters()) and not list(Discriminator(plain).dense.parameters())
    generator, critic = Generator(dense), Discriminator(dense)
    # G: code (16) -> 32 -> first feature map (16 channels at 7x7); D: last map (16 at 7x7) -> 32 -> logit.
    assert generator.dense[0][0].weight.shape == (16, 32, 1, 1)
    assert generator.stem[0].weight.shape == (32, 16, 7, 7)
    assert critic.dense[0][0].weight.shape == (32, 16, 7, 7)
    assert critic.head[0].weight.shape == (1, 32, 1, 1)
    # The plain networks keep their parameter names, so checkpoints from before fc_width still load.
    assert DCGANConfig.from_dict({k: v for k, v in plain.to_dict().items() if k != "fc_width"}) == plain
    assert all(not name.startswith("dense") for name in Generator(plain).state_dict())


@pytest.mark.parametrize("norm", ["g_norm", "d_norm"])
@pytest.mark.parametrize("instance", ["instance", "instance_affine"])
def test_fc_width_refuses_instance_norm_and_negative_widths(norm, instance):
    with pytest.raises(ConfigError, match="instance norm cannot follow the fully connected layer"):
        DCGANConfig(fc_width=64, **{norm: instance}).validate()
    with pytest.raises(ConfigError, match=r"fc_width -1 is outside 0\.\.16384"):
        DCGANConfig(fc_width=-1).validate()
