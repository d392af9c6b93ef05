"""The shared latent module: seeded codes, BigGAN's truncation trick, and walks between codes
and between labels (what translate.sample, the runtime and the demo all draw)."""

import math

import numpy as np
import pytest

from translate.errors import InputError
from translate.latent import MIN_TRUNCATION, code_walk, label_walk, latent_codes, slerp


def test_codes_without_truncation_are_the_seeds_plain_normal_draws():
    plain = np.random.default_rng(7).standard_normal((50, 100), dtype=np.float32)
    assert np.array_equal(latent_codes(50, 100, 7), plain)
    assert np.array_equal(latent_codes(50, 100, 7, truncation=None), plain)


@pytest.mark.parametrize("threshold", [2.0, 1.0, 0.5, MIN_TRUNCATION])
def test_truncated_codes_lie_within_the_threshold_and_are_seeded(threshold):
    codes = latent_codes(200, 100, 3, threshold)
    assert codes.dtype == np.float32 and codes.shape == (200, 100)
    assert np.abs(codes).max() <= threshold
    assert np.array_equal(codes, latent_codes(200, 100, 3, threshold))
    assert not np.array_equal(codes, latent_codes(200, 100, 4, threshold))
    # Only the components beyond the threshold are redrawn: the others keep their plain values.
    plain = latent_codes(200, 100, 3)
    inside = np.abs(plain) <= threshold
    assert np.array_equal(codes[inside], plain[inside]) and not np.array_equal(codes, plain)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_truncated_components_follow_the_truncated_normal():
    z = latent_codes(1000, 100, 0, truncation=1.0).astype(np.float64).ravel()  # 100,000 components
    # N(0, 1) truncated to [-1, 1]: variance 1 - 2 phi(1) / (2 Phi(1) - 1) = 0.2911.
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    variance = 1 - 2 * phi / (2 * _normal_cdf(1.0) - 1)
    assert variance == pytest.approx(0.2911, abs=1e-4)
    assert z.var() == pytest.approx(variance, abs=0.005)  # the standard error is about 0.0008
    assert abs(z.mean()) < 0.01
    # Its shape, not only its spread: P(|z| <= 0.5 given |z| <= 1) = 0.5609.
    inner = (2 * _normal_cdf(0.5) - 1) / (2 * _normal_cdf(1.0) - 1)
    assert (np.abs(z) <= 0.5).mean() == pytest.approx(inner, abs=0.01)


@pytest.mark.parametrize("bad", [0, -1.0, 0.001, float("nan"), float("inf"), True, "1"])
def test_a_truncation_that_is_not_a_usable_threshold_is_refused_in_one_line(bad):
    with pytest.raises(InputError, match="truncation must be a finite number of at least 0.01") as info:
        latent_codes(2, 4, 0, bad)
    assert "\n" not in str(info.value)


def test_slerp_keeps_the_norm_of_gaussian_codes():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 64, 100))
    b *= np.linalg.norm(a, axis=1, keepdims=True) / np.linalg.norm(b, axis=1, keepdims=True)  # the same norms
    radius = np.linalg.norm(a, axis=1)
    for t in (0.0, 0.1, 0.5, 0.9, 1.0):
        np.testing.assert_allclose(np.linalg.norm(slerp(a, b, t), axis=1), radius, rtol=1e-5)
    # A straight line between two nearly orthogonal codes cuts through the sphere: about 1/sqrt(2) of it.
    assert (np.linalg.norm((a + b) / 2, axis=1) < 0.8 * radius).all()


def test_a_code_walk_starts_and_ends_exactly_at_the_seeds_codes_and_keeps_typical_norms():
    start, end = latent_codes(3, 100, 1), latent_codes(3, 100, 2)
    path = code_walk(start, end, 9).reshape(3, 9, 100)
    assert path.dtype == np.float32
    assert np.array_equal(path[:, 0], start) and np.array_equal(path[:, -1], end)
    norms = np.linalg.norm(path, axis=2)
    ends = np.linalg.norm(np.stack([start, end]), axis=2)
    assert (norms >= ends.min(axis=0)[:, None] * 0.99).all() and (norms <= ends.max(axis=0)[:, None] * 1.01).all()
    assert np.all(np.abs(norms - math.sqrt(100)) < 2.5)  # where N(0, I_100) codes live: sqrt(100) +- ~0.7
    # A walk from a code to itself stays exactly on it: a label walk keeps its code.
    assert np.array_equal(code_walk(start, start, 5), np.repeat(start, 5, axis=0))


def test_a_label_walk_moves_the_class_weights_from_one_label_to_the_other():
    weights = label_walk(np.array([3, 0]), np.array([8, 0]), 10, 5).reshape(2, 5, 10)
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights[0, :, 3], [1, 0.75, 0.5, 0.25, 0])
    np.testing.assert_array_equal(weights[0, :, 8], [0, 0.25, 0.5, 0.75, 1])
    assert np.array_equal(weights[1], np.tile(np.eye(10, dtype=np.float32)[0], (5, 1)))  # equal labels: one-hot
    assert np.allclose(weights.sum(axis=2), 1)


@pytest.mark.parametrize("steps", [1, 0, 1001, 2.5, True])
def test_a_walk_needs_two_to_a_thousand_steps(steps):
    with pytest.raises(InputError, match=r"steps must be a whole number in 2\.\.1000"):
        code_walk(np.ones((1, 4)), np.ones((1, 4)), steps)
