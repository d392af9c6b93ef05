import math

import pytest
import torch

from translate.errors import ConfigError
from translate.modeling.losses import (
    LOSS_NAMES,
    adversarial,
    cycle_loss,
    gradient_penalty,
    identity_loss,
    patch_nce,
)

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_bce_is_the_non_saturating_loss_with_logits():
    d, g = adversarial("bce")
    expected_d = (-_log_sigmoid(2.0) - _log_sigmoid(-1.0)) / 2 + (-_log_sigmoid(-0.5) - _log_sigmoid(3.0)) / 2
    assert d(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert g(FAKE).item() == pytest.approx((-_log_sigmoid(0.5) - _log_sigmoid(-3.0)) / 2, rel=1e-6)


def test_lsgan_values():
    d, g = adversarial("lsgan")
    assert d(REAL, FAKE).item() == pytest.approx(0.5 * ((1 + 4) / 2 + (0.25 + 9) / 2))
    assert g(FAKE).item() == pytest.approx((0.25 + 16) / 2)


def test_wasserstein_and_hinge_values():
    d, g = adversarial("wgan-gp")
    assert d(REAL, FAKE).item() == pytest.approx(-1.25 - 0.5)
    assert g(FAKE).item() == pytest.approx(1.25)
    d, g = adversarial("hinge")
    assert d(REAL, FAKE).item() == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)
    assert g(FAKE).item() == pytest.approx(1.25)


def test_unknown_loss_names_the_choices():
    with pytest.raises(ConfigError, match="unknown loss 'wgan'.*" + ", ".join(LOSS_NAMES)):
        adversarial("wgan")


def test_gradient_penalty_of_a_linear_critic():
    # f(x) = <w, x> has gradient w everywhere, so the penalty is (||w|| - 1)^2 exactly.
    w = torch.tensor([[[[3.0, 0.0], [4.0, 0.0]]]])  # ||w|| = 5
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(16.0)


def test_gradient_penalty_matches_a_hand_computation_on_interpolates():
    # f(x) = 0.5 ||x||^2 has gradient x, so the penalty is mean((||x_hat|| - 1)^2).
    critic = lambda x: 0.5 * x.pow(2).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    eps = torch.rand(3, 1, 1, 1, generator=torch.Generator().manual_seed(5))
    mixed = eps * real + (1 - eps) * fake
    expected = (mixed.flatten(1).norm(dim=1) - 1).pow(2).mean()
    got = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(5))
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradient_penalty_trains_the_critic():
    weight = torch.nn.Parameter(torch.tensor(2.0))
    critic = lambda x: weight * x.flatten(1).sum(1)  # noqa: E731  # gradient norm = 2 * sqrt(4)
    penalty = gradient_penalty(critic, torch.randn(2, 1, 2, 2), torch.randn(2, 1, 2, 2))
    penalty.backward()
    # d/dw (2w - 1)^2 = 4 (2w - 1) = 12 at w = 2
    assert weight.grad.item() == pytest.approx(12.0)


def test_cycle_and_identity_are_l1():
    a, b = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)
    assert cycle_loss(a, b).item() == pytest.approx(0.5)
    assert identity_loss(b, a).item() == pytest.approx(0.5)


# PatchNCE on 2 images of 3 patches, 2-d features (rows image by image).
QUERY = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, -0.6], [-1.0, 0.0], [0.0, -1.0]])
KEY = torch.tensor([[0.8, 0.6], [0.0, 1.0], [1.0, 0.0], [0.6, -0.8], [-0.6, 0.8], [1.0, 0.0]])


def _patch_nce_by_hand(query: list[list[float]], key: list[list[float]], images: int, t: float) -> float:
    """The mean over patches of -log(exp(q_i.k_i / t) / sum over the image's patches j of exp(q_i.k_j / t))."""
    per_image = len(query) // images
    losses = []
    for i, q in enumerate(query):
        first = i // per_image * per_image
        logits = [sum(a * b for a, b in zip(q, key[j], strict=True)) / t for j in range(first, first + per_image)]
        positive = logits[i - first]
        losses.append(-positive + math.log(sum(math.exp(x) for x in logits)))
    return sum(losses) / len(losses)


def test_patch_nce_is_the_cross_entropy_of_each_patch_against_its_image_s_other_patches():
    expected = _patch_nce_by_hand(QUERY.tolist(), KEY.tolist(), 2, 0.07)
    assert patch_nce(QUERY, KEY, 2).item() == pytest.approx(expected, rel=1e-5)
    # One image of 6 patches: every patch is a negative of every other.
    assert patch_nce(QUERY, KEY, 1, 0.5).item() == pytest.approx(_patch_nce_by_hand(QUERY.tolist(), KEY.tolist(), 1,
                                                                                     0.5), rel=1e-5)


def test_patch_nce_matches_the_reference_formulation_and_trains_only_the_query():
    """The reference: positives in column 0, the image's patches as negatives with each patch's
    own column filled with -10, all over t, cross-entropy against class 0."""
    query = torch.nn.functional.normalize(torch.randn(2 * 5, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    key = torch.nn.functional.normalize(torch.randn(2 * 5, 8, generator=torch.Generator().manual_seed(1)), dim=1)
    query.requires_grad_(True)
    key.requires_grad_(True)
    positive = (query * key).sum(1, keepdim=True)
    negatives = torch.bmm(query.view(2, 5, 8), key.view(2, 5, 8).transpose(2, 1))
    negatives = negatives.masked_fill(torch.eye(5, dtype=torch.bool)[None], -10.0).view(-1, 5)
    reference = torch.nn.functional.cross_entropy(torch.cat([positive, negatives], 1) / 0.07,
                                                  torch.zeros(10, dtype=torch.long))
    ours = patch_nce(query, key, 2)
    assert ours.item() == pytest.approx(reference.item(), rel=1e-6)
    ours.backward()
    assert query.grad is not None and query.grad.abs().sum() > 0 and key.grad is None


def test_patch_nce_stays_fp32_under_bf16_autocast():
    """CUT calls it inside the step's autocast, which would otherwise run the product in bf16."""
    gen = torch.Generator().manual_seed(2)
    query = torch.nn.functional.normalize(torch.randn(2 * 64, 32, generator=gen), dim=1)
    key = torch.nn.functional.normalize(torch.randn(2 * 64, 32, generator=gen), dim=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = patch_nce(query, key, 2)
    assert torch.equal(under_autocast, patch_nce(query, key, 2))  # in bf16 it differs by about 5e-4


def test_patch_nce_refuses_rows_that_do_not_split_into_images():
    with pytest.raises(ValueError, match="5 patches do not split into 2 images"):
        patch_nce(QUERY[:5], KEY[:5], 2)
    with pytest.raises(ValueError, match="of one shape"):
        patch_nce(QUERY, KEY[:4], 2)
