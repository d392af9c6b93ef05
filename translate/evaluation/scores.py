"""FID, KID and the Inception Score, from features or class probabilities (rows are samples), in float64 numpy."""

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
    """FID between two feature sets (rows are samples; unbiased covariance, as pytorch-fid).

    Sets much smaller than the feature dimension (the 120 and 140 test photos of horse2zebra
    against 2048-d features) take the exact low-rank route of :func:`_fid_of_few`; the 10,000
    digits take the covariances' eigendecompositions, which cost the same at any count.
    """
    a, b = np.asarray(feats_a, dtype=np.float64), np.asarray(feats_b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ConfigError("FID needs at least 2 samples in each set")
    if len(a) * len(b) * min(len(a), len(b)) < a.shape[1] ** 3:
        return _fid_of_few(a, b)
    return fid_from_stats(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def _fid_of_few(a: np.ndarray, b: np.ndarray) -> float:
    """FID from the centred samples themselves, without a d x d matrix.

    With ``S_a = A^T A / (n_a - 1)`` and ``S_b = B^T B / (n_b - 1)`` (A, B centred), the nonzero
    eigenvalues of ``S_a S_b`` are those of ``M M^T`` for ``M = A B^T / sqrt((n_a - 1)(n_b - 1))``,
    so ``tr (S_a S_b)^(1/2)`` is the sum of M's singular values: an n_a x n_b SVD in place of
    two 2048 x 2048 eigendecompositions (milliseconds against seconds), with the same result.
    """
    centred_a, centred_b = a - a.mean(0), b - b.mean(0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    cross = centred_a @ centred_b.T / np.sqrt(scale_a * scale_b)
    tr_covmean = np.linalg.svd(cross, compute_uv=False).sum()
    diff = a.mean(0) - b.mean(0)
    traces = np.square(centred_a).sum() / scale_a + np.square(centred_b).sum() / scale_b
    return float(diff @ diff + traces - 2.0 * tr_covmean)


def kid(
    feats_a: np.ndarray, feats_b: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: mean and std of the unbiased MMD² over random subsets.

    Kernel ``k(x, y) = (x·y / d + 1)^3`` (Bińkowski et al., 2018); each subset draws
    ``subset_size`` rows without replacement from each set, clipped to the smaller set. Where
    that takes both sets whole (a paired test set: 140 translations against their 140
    targets), every subset is the same MMD²: it is computed once, and the std is 0, not the
    float noise of summing in 100 orders (2.2e-16 in a model card).
    """
    a, b = np.asarray(feats_a, dtype=np.float64), np.asarray(feats_b, dtype=np.float64)
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise ConfigError("KID needs at least 2 samples in each set")
    dim = a.shape[1]
    if m == len(a) == len(b):
        subsets = 1
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


def inception_score(probabilities: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``, high when each
    image's class is certain and the classes are many; mean and std over ``splits`` equal
    parts of the rows, as the reference code (openai/improved-gan) computes it.

    ``probabilities`` holds one row of class probabilities p(y|x) per image (softmax
    outputs); p(y) is their mean within each part. Bounds: 1 (every row the same) up to the
    number of classes (one-hot rows spread evenly over them).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) < splits or splits < 1:
        raise ConfigError(f"the Inception Score over {splits} splits needs at least {splits} rows of class "
                          f"probabilities, got shape {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ConfigError("Inception Score input rows must be class probabilities (non-negative, summing to 1): "
                          "apply a softmax to the logits")
    scores = []
    for part in score_splits(p, splits):
        marginal = part.mean(axis=0)
        # 0 log 0 = 0: a class an image rules out adds nothing to its KL divergence.
        logs = np.log(np.where(part > 0, part, 1.0)) - np.log(np.where(part > 0, marginal, 1.0))
        scores.append(np.exp((part * logs).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def score_splits(rows: np.ndarray, splits: int) -> list[np.ndarray]:
    """The reference code's parts of ``rows``: rows i*N//splits up to (i+1)*N//splits."""
    return [rows[i * len(rows) // splits : (i + 1) * len(rows) // splits] for i in range(splits)]
