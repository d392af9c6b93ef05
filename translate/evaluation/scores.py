"""FID and KID from two sets of features (rows are samples), in float64 numpy."""

from __future__ import annotations

import numpy as np

from translate.errors import ConfigError


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def fid_from_stats(mu_a: np.ndarray, sigma_a: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray) -> float:
    """Fréchet distance ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between two Gaussians.

    ``tr (S_a S_b)^(1/2)`` is the sum of square roots of the eigenvalues of the symmetric
    PSD matrix ``S_a^(1/2) S_b S_a^(1/2)``, which has the same spectrum as ``S_a S_b`` but
    needs no non-symmetric square root (and no scipy).
    """
    root_a = _sqrt_psd(np.asarray(sigma_a, dtype=np.float64))
    middle = root_a @ np.asarray(sigma_b, dtype=np.float64) @ root_a
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    diff = np.asarray(mu_a, dtype=np.float64) - np.asarray(mu_b, dtype=np.float64)
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * tr_covmean)


def fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """FID between two feature sets (rows are samples; unbiased covariance, as pytorch-fid)."""
    a, b = np.asarray(feats_a, dtype=np.float64), np.asarray(feats_b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ConfigError("FID needs at least 2 samples in each set")
    return fid_from_stats(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def kid(
    feats_a: np.ndarray, feats_b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: mean and std of the unbiased MMD² over random subsets.

    Kernel ``k(x, y) = (x·y / d + 1)^3`` (Bińkowski et al., 2018); each subset draws
    ``subset_size`` rows without replacement from each set, clipped to the smaller set.
    """
    a, b = np.asarray(feats_a, dtype=np.float64), np.asarray(feats_b, dtype=np.float64)
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise ConfigError("KID needs at least 2 samples in each set")
    dim = a.shape[1]
    rng = np.random.default_rng(seed)
    mmds = np.empty(subsets)
    for s in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        mmds[s] = within - 2.0 * k_xy.mean()
    return float(mmds.mean()), float(mmds.std())
