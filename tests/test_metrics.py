"""FID and KID against hand computations, and the real FID Inception on a few MNIST digits."""

import math
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from translate.errors import ConfigError
from translate.evaluation.inception import (
    WEIGHTS_ENV,
    InceptionFeatures,
    _to_inception_input,
    cached_features,
    find_fid_weights,
)
from translate.evaluation.protocols import network_protocol
from translate.evaluation.scores import fid, fid_from_stats, kid
from translate.modeling.pixels import to_unit


@pytest.fixture
def feats():
    return np.random.default_rng(0).normal(size=(64, 6)) * np.arange(1, 7)


def test_fid_of_a_set_with_itself_is_zero(feats):
    assert fid(feats, feats) == pytest.approx(0.0, abs=1e-9)


def test_fid_of_a_shifted_set_is_the_squared_shift(feats):
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
    assert fid(feats, feats + shift) == pytest.approx(shift @ shift, rel=1e-9)


def test_fid_of_a_scaled_set(feats):
    # b = c a: mean c mu, covariance c^2 S, so FID = (1 - c)^2 (|mu|^2 + tr S).
    c = 0.3
    expected = (1 - c) ** 2 * (feats.mean(0) @ feats.mean(0) + np.trace(np.cov(feats, rowvar=False)))
    assert fid(feats, c * feats) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("n_a", "n_b"), [(120, 140), (40, 300), (300, 40)])
def test_fid_of_sets_smaller_than_the_dimension_matches_scipys_matrix_square_root(n_a, n_b):
    """The low-rank route (few samples, 256-d features) against the textbook formula with
    scipy's sqrtm, as pytorch-fid computes it."""
    from scipy import linalg

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n_a, 256)) @ rng.standard_normal((256, 256)) * 0.3
    b = rng.standard_normal((n_b, 256)) * 1.5 + 0.2
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b).real
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean)
    assert fid(a, b) == pytest.approx(expected, rel=1e-7)
    # The d x d route also sums the square roots of the round-off eigenvalues at the zero end of
    # the spectrum (about 1e-13 each, 1e-7 once rooted), which the low-rank route has none of.
    assert fid(a, b) == pytest.approx(fid_from_stats(a.mean(0), s_a, b.mean(0), s_b), rel=1e-7)


def test_fid_of_one_dimensional_gaussians():
    # (m1 - m2)^2 + (s1 - s2)^2 for N(m1, s1^2) and N(m2, s2^2).
    assert fid_from_stats([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)


def test_fid_of_non_commuting_covariances_matches_the_2x2_closed_form():
    # For a 2x2 matrix with non-negative eigenvalues, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)).
    s1, s2 = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 3.0]])
    tr_sqrt = math.sqrt(np.trace(s1 @ s2) + 2 * math.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = 1.0**2 + 2.0**2 + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt  # = 13 - 2 sqrt(14)
    assert expected == pytest.approx(13 - 2 * math.sqrt(14))
    assert fid_from_stats([0.0, 0.0], s1, [1.0, 2.0], s2) == pytest.approx(expected, rel=1e-12)


def _kid_double_loop(x, y):
    m, d = len(x), x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_matches_a_double_loop():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 4)), rng.normal(0.5, 1.2, size=(9, 4))
    # With one subset as large as both sets, the subsets are permutations: MMD² is exact.
    mean, std = kid(x, y, subsets=1, subset_size=1000)
    assert mean == pytest.approx(_kid_double_loop(x, y), rel=1e-12)
    assert std == 0.0
    # As many subsets as asked draw the same whole sets: the same figure, and no spread (not
    # the float noise of summing in other orders).
    assert kid(x, y, subsets=100, subset_size=1000) == (mean, 0.0)


def test_kid_clips_the_subset_size_and_is_reproducible():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(12, 5))
    first = kid(x, y, subsets=20, subset_size=1000, seed=3)
    assert first == kid(x, y, subsets=20, subset_size=1000, seed=3)
    assert first != kid(x, y, subsets=20, subset_size=1000, seed=4)
    assert first[1] > 0


def test_kid_separates_different_distributions():
    rng = np.random.default_rng(3)
    x, same, other = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), rng.normal(1.0, size=(200, 8))
    assert abs(kid(x, same, subsets=10, subset_size=100)[0]) < kid(x, other, subsets=10, subset_size=100)[0]


def test_a_missing_weights_path_is_a_config_error(tmp_path, monkeypatch):
    missing = tmp_path / "nope.pt"
    with pytest.raises(ConfigError, match="nope.pt.*--fid-weights"):
        find_fid_weights(missing)
    monkeypatch.setenv(WEIGHTS_ENV, str(missing))
    with pytest.raises(ConfigError, match=f"nope.pt.*{WEIGHTS_ENV}"):
        find_fid_weights()


def test_a_damaged_weights_file_is_a_config_error(tmp_path):
    junk = tmp_path / "inception.pt"
    junk.write_bytes(b"not a TorchScript archive")
    with pytest.raises(ConfigError, match="cannot load FID weights"):
        InceptionFeatures(junk)


def test_no_weights_and_no_torchmetrics_names_the_fixes(tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "torchmetrics.image.fid", None)  # import fails; no download
    with pytest.raises(ConfigError) as info:
        InceptionFeatures(data_root=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    for hint in (str(tmp_path / "fid"), "--fid-weights", WEIGHTS_ENV, "torchmetrics[image]"):
        assert hint in message


def test_without_weights_torchmetrics_inception_gets_uint8_at_299(tmp_path, monkeypatch):
    seen = {}

    class FakeInception(torch.nn.Module):
        def __init__(self, name, features_list):
            super().__init__()
            seen.update(name=name, features_list=features_list)

        def forward(self, x):
            seen.update(dtype=x.dtype, shape=tuple(x.shape))
            return torch.ones(len(x), 2048)

    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "torchmetrics.image.fid", types.SimpleNamespace(NoTrainInceptionV3=FakeInception))
    extractor = InceptionFeatures(data_root=tmp_path)
    out = extractor(torch.zeros(3, 1, 28, 28))
    assert seen == {
        "name": "inception-v3-compat",
        "features_list": ["2048"],
        "dtype": torch.uint8,
        "shape": (3, 3, 299, 299),
    }
    assert out.shape == (3, 2048) and out.dtype == np.float64
    # The record says which network scored, and that its input was rounded once more.
    stated = network_protocol(extractor)
    assert stated["weights"].startswith("torchmetrics ") and "inception-v3-compat" in stated["weights"]
    resize = stated["inception_input"]
    assert "rounded to uint8 again" in resize and "as the network expects" not in resize
    assert extractor.weights_id.startswith(stated["weights"])


def test_inception_input_is_pil_bicubic_of_the_saved_grey_levels(mnist_test):
    digits = mnist_test[0][:2]
    x = _to_inception_input(to_unit(digits[..., None]))
    assert x.shape == (2, 3, 299, 299) and torch.equal(x[:, 0], x[:, 2])
    pil = [Image.fromarray(d.numpy().astype(np.float32), mode="F").resize((299, 299), Image.BICUBIC) for d in digits]
    expected = np.clip(np.stack([np.asarray(p) for p in pil]), 0, 255)
    np.testing.assert_allclose(x[:, 0].numpy(), expected, atol=1e-2)


class CountingExtractor:
    """Stands in for the Inception network where only the caching is under test."""

    weights_id = "fake"

    def __init__(self):
        self.calls = 0

    def __call__(self, images, batch_size, progress):
        self.calls += 1
        return np.full((len(images), 2048), float(images.sum()))


def test_reference_features_are_cached_as_plain_npy(tmp_path):
    extractor, images = CountingExtractor(), torch.rand(5, 1, 28, 28)
    first = cached_features(extractor, images, "set", tmp_path)
    again = cached_features(extractor, images, "set", tmp_path)
    assert extractor.calls == 1 and np.array_equal(first, again)
    [cached] = tmp_path.glob("set-*.npy")
    assert np.array_equal(np.load(cached, allow_pickle=False), first)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    cached_features(extractor, images[:4], "set", tmp_path)
    assert extractor.calls == 2 and len(list(tmp_path.glob("set-*.npy"))) == 2
    # The network's identity (file, precision, runtime, device kind) is in the key: features of
    # the bf16 port are never read back for an fp32 scoring.
    extractor.weights_id = "another network or precision"
    cached_features(extractor, images, "set", tmp_path)
    assert extractor.calls == 3 and len(list(tmp_path.glob("set-*.npy"))) == 3


def test_a_cache_that_cannot_be_written_warns_and_keeps_the_features(tmp_path):
    extractor, images = CountingExtractor(), torch.rand(5, 1, 28, 28)
    (tmp_path / "cache").write_text("a file where the cache folder would be")
    with pytest.warns(UserWarning, match=r"not cached: .*a file.* computed again next time; --cache-dir or "
                      r"\$TRANSLATE_CACHE names another folder"):
        feats = cached_features(extractor, images, "set", tmp_path / "cache")
    assert feats.shape == (5, 2048) and extractor.calls == 1


def test_a_damaged_cache_file_is_recomputed(tmp_path):
    extractor, images = CountingExtractor(), torch.rand(5, 1, 28, 28)
    cached_features(extractor, images, "set", tmp_path)
    [cached] = tmp_path.glob("set-*.npy")
    cached.write_bytes(b"not an array")
    assert cached_features(extractor, images, "set", tmp_path).shape == (5, 2048)
    assert extractor.calls == 2 and np.load(cached, allow_pickle=False).shape == (5, 2048)


@pytest.fixture(scope="module")
def inception():
    return InceptionFeatures()  # finds <TRANSLATE_DATA>/fid/inception-2015-12-05-fid.pt


@pytest.mark.slow
def test_real_inception_features_of_mnist_digits(inception, mnist_test):
    images = to_unit(mnist_test[0][:8][..., None])
    feats = inception(images, batch_size=8)
    assert feats.shape == (8, 2048) and feats.dtype == np.float64
    assert np.isfinite(feats).all() and (feats >= 0).all()  # pool3 follows a ReLU
    # Zero up to the eigensolver's rounding, relative to the spread of the features.
    assert fid(feats, feats) == pytest.approx(0.0, abs=1e-5 * np.trace(np.cov(feats, rowvar=False)))
    # Grey repeated to RGB by the caller, or by the extractor, and any batching: the same features.
    rgb = inception(images[:3].expand(-1, 3, -1, -1), batch_size=2)
    np.testing.assert_allclose(rgb, feats[:3], rtol=1e-4, atol=1e-4)
    assert fid(feats[:4], feats[4:]) > 1.0  # different digits are far apart
