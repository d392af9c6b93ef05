"""L1, PSNR and SSIM against independent computations: OpenCV's PSNR, and SSIM by its
definition (Wang et al. 2004) window by window."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from translate.errors import DataError
from translate.evaluation.fidelity import PSNR_CAP, l1, psnr, ssim


def _pair(seed: int, shape=(24, 30, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (5, 5), 2)
    noise = rng.normal(0, 20, shape)
    return np.clip(target + noise, 0, 255).astype(np.uint8), target


def _ssim_by_definition(x: np.ndarray, y: np.ndarray) -> float:
    """Each channel, each 11x11 window that fits: Gaussian-weighted means, variances and
    covariance, and the SSIM formula; the mean of all."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for c in range(x.shape[2]):
        a, b = x[:, :, c].astype(float), y[:, :, c].astype(float)
        for i in range(a.shape[0] - 10):
            for j in range(a.shape[1] - 10):
                pa, pb = a[i : i + 11, j : j + 11], b[i : i + 11, j : j + 11]
                ma, mb = (w * pa).sum(), (w * pb).sum()
                va, vb = (w * (pa - ma) ** 2).sum(), (w * (pb - mb) ** 2).sum()
                cov = (w * (pa - ma) * (pb - mb)).sum()
                values.append((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_its_definition(seed):
    output, target = _pair(seed)
    assert ssim(output, target) == pytest.approx(_ssim_by_definition(output, target), abs=1e-9)
    assert ssim(target, target) == pytest.approx(1.0)


def test_psnr_matches_opencv_and_is_capped_for_an_exact_match():
    output, target = _pair(2)
    assert psnr(output, target) == pytest.approx(cv2.PSNR(output, target), abs=1e-9)
    assert psnr(target, target) == PSNR_CAP


def test_l1_is_on_the_zero_to_one_scale():
    black, white = np.zeros((12, 12, 3), np.uint8), np.full((12, 12, 3), 255, np.uint8)
    assert l1(black, white) == 1.0 and l1(white, white) == 0.0
    assert l1(black, np.full((12, 12, 3), 51, np.uint8)) == pytest.approx(0.2)


def test_ssim_refuses_images_smaller_than_its_window():
    with pytest.raises(DataError, match="at least 11 px"):
        ssim(np.zeros((8, 20, 3), np.uint8), np.zeros((8, 20, 3), np.uint8))
