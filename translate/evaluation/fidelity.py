"""How close a translation is to its target, pixel by pixel, for paired data: L1, PSNR and
SSIM of two uint8 H x W x C images of one size. Each is computed per image; a test set's score
is the mean over its images (``FIDELITY_PROTOCOL`` states all of it)."""

from __future__ import annotations

import cv2
import numpy as np

from translate.errors import DataError

PSNR_CAP = 100.0  # dB, for an image equal to its target (whose PSNR is infinite)
SSIM_SIGMA = 1.5  # Wang et al. (2004): an 11 x 11 Gaussian window of sigma 1.5
SSIM_WINDOW = 11
SSIM_K1, SSIM_K2 = 0.01, 0.03
DATA_RANGE = 255.0
FIDELITY_METRICS = ("l1", "psnr", "ssim")  # the keys a paired scoring adds to FID and KID
FIDELITY_PROTOCOL = {
    "l1": "mean |output - target| over pixels and channels, on the [0, 1] scale (uint8 / 255)",
    "psnr": f"10 log10(255^2 / MSE) over pixels and channels, in dB (capped at {PSNR_CAP:g} for an exact match)",
    "ssim": f"Wang et al. 2004: {SSIM_WINDOW}x{SSIM_WINDOW} Gaussian window of sigma {SSIM_SIGMA}, K1 {SSIM_K1}, "
    f"K2 {SSIM_K2}, data range 255, population (co)variances, over the window positions that fit inside the "
    "image, per channel and averaged (skimage's structural_similarity with gaussian_weights=True, "
    "use_sample_covariance=False)",
    "aggregate": "each score per test pair, then the mean over pairs",
}


def l1(output: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute difference on the [0, 1] scale (``FIDELITY_PROTOCOL["l1"]``)."""
    return float(np.abs(output.astype(np.float64) - target.astype(np.float64)).mean() / DATA_RANGE)


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, capped where the images are equal (``FIDELITY_PROTOCOL["psnr"]``)."""
    mse = float(np.square(output.astype(np.float64) - target.astype(np.float64)).mean())
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * np.log10(DATA_RANGE**2 / mse))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM of the channels; images smaller than the window are refused."""
    if min(output.shape[:2]) < SSIM_WINDOW:
        raise DataError(f"SSIM needs images of at least {SSIM_WINDOW} px a side, got {output.shape[:2]}")
    x, y = (np.atleast_3d(image).astype(np.float64) for image in (output, target))
    return float(np.mean([_ssim_channel(x[:, :, c], y[:, :, c]) for c in range(x.shape[2])]))


def _ssim_channel(x: np.ndarray, y: np.ndarray) -> float:
    def local(image: np.ndarray) -> np.ndarray:
        # Only the window positions that fit: the filtered map's border, where the window
        # would cross the image's edge, is cut off.
        r = SSIM_WINDOW // 2
        return cv2.GaussianBlur(image, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA)[r:-r, r:-r]

    mx, my = local(x), local(y)
    vx, vy, cxy = local(x * x) - mx * mx, local(y * y) - my * my, local(x * y) - mx * my
    c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
    return float(((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())
