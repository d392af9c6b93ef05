"""Latent codes from a seed, truncated codes, and walks between codes and between labels: the
one definition every tool shares, so that ``--seed 0`` in ``translate.sample`` and
``translate.evaluate``, ``Sampler.sample(seed=0)`` and the demo's seed 0 mean the same
images, and a walk or a truncation draws the same codes everywhere (truncated codes for the
same count: their redraws follow all the first draws). Torch-free (the runtime draws codes too).
"""

from __future__ import annotations

import math

import numpy as np

from translate.errors import InputError

# Below this the redraws of the truncation trick grow without bound (about 1 / P(|z| <= T)
# draws per component: 125 at 0.01) while every image tends to the same one, that of z = 0.
MIN_TRUNCATION = 0.01
MAX_STEPS = 1000  # points of one walk, its two ends included


def check_truncation(truncation: float | None) -> None:
    """None (no truncation) or a finite threshold of at least MIN_TRUNCATION."""
    if truncation is None:
        return
    number = isinstance(truncation, (int, float, np.integer, np.floating)) and not isinstance(truncation, bool)
    if not number or not math.isfinite(truncation) or truncation < MIN_TRUNCATION:
        raise InputError(f"truncation must be a finite number of at least {MIN_TRUNCATION} (components beyond it "
                         f"are redrawn: the smaller, the more draws), got {truncation!r}; leave it out for plain codes")


def check_label(n_classes: int, label: int | None, flag: str = "--label") -> None:
    """``label`` (None: none asked for) for a model of ``n_classes`` (0: unconditional); ``flag``
    names the option it came from in the error."""
    if label is None:
        return
    if not n_classes:
        raise InputError(f"{flag} needs a conditional (cdcgan) model; this one is unconditional: leave {flag} out")
    if not 0 <= label < n_classes:
        raise InputError(f"{flag} {label} is out of range: this model has classes 0..{n_classes - 1}")


def latent_codes(n: int, z_dim: int, seed: int, truncation: float | None = None) -> np.ndarray:
    """``n`` x ``z_dim`` standard-normal float32 codes from numpy's PCG64 generator seeded with ``seed``.

    With ``truncation`` T, the truncation trick of BigGAN (Brock et al. 2019, section 3.1):
    every component with |z| > T is drawn again, from the same generator, until it falls
    inside, so components are N(0, 1) truncated to [-T, T]. Components already inside keep
    their untruncated values, and ``truncation=None`` gives exactly the plain codes.
    """
    check_truncation(truncation)
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((n, z_dim), dtype=np.float32)
    if truncation is not None:
        flat = codes.reshape(-1)
        outside = np.flatnonzero(np.abs(flat) > truncation)
        while len(outside):
            flat[outside] = rng.standard_normal(len(outside), dtype=np.float32)
            outside = outside[np.abs(flat[outside]) > truncation]
    return codes


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation per row, ``t`` a number or a column of fractions: Gaussian codes
    keep their typical norm along the way, where a straight line would cut through the sphere.

    Computed in float64, so t = 0 and t = 1 give exactly ``a`` and ``b`` and a row walked to
    itself stays exactly where it is.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    unit_a = a / np.linalg.norm(a, axis=1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=1, keepdims=True)
    omega = np.arccos(np.clip((unit_a * unit_b).sum(axis=1, keepdims=True), -1.0, 1.0))
    sin = np.sin(omega)
    linear = sin < 1e-6
    weight_a = np.where(linear, 1.0 - t, np.sin((1.0 - t) * omega) / np.where(linear, 1.0, sin))
    weight_b = np.where(linear, t, np.sin(t * omega) / np.where(linear, 1.0, sin))
    return (weight_a * a + weight_b * b).astype(np.float32)


def check_steps(steps: int) -> None:
    """A walk's number of points: both ends, and at most MAX_STEPS."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be a whole number in 2..{MAX_STEPS} (a walk's two ends included), got {steps!r}")


def _fractions(rows: int, steps: int) -> np.ndarray:
    """Each row's ``steps`` evenly spaced fractions 0..1 (ends exact), as one column, row by row."""
    check_steps(steps)
    return np.tile(np.linspace(0.0, 1.0, steps), rows)[:, None]


def code_walk(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """Row i of ``start`` walked to row i of ``end`` (rows x z_dim each) in ``steps`` evenly
    spaced points along the great circle, ends included: (rows * steps) x z_dim float32,
    row by row."""
    t = _fractions(len(start), steps)
    return slerp(np.repeat(start, steps, axis=0), np.repeat(end, steps, axis=0), t)


def label_walk(start: np.ndarray, end: np.ndarray, n_classes: int, steps: int) -> np.ndarray:
    """Class weights from one-hot ``start[i]`` to one-hot ``end[i]`` (class indices, one per
    row) in ``steps`` evenly spaced points, ends included: (rows * steps) x n_classes float32,
    row by row. This is the conditioning a cDCGAN takes in place of a class index; a row whose
    two labels are equal stays one-hot."""
    return label_mix(np.repeat(start, steps), np.repeat(end, steps), n_classes, _fractions(len(start), steps))


def label_mix(start: np.ndarray, end: np.ndarray, n_classes: int, t: float | np.ndarray) -> np.ndarray:
    """Class weights ``t`` of the way from one-hot ``start[i]`` to one-hot ``end[i]`` (class
    indices; ``t`` a number or a column of fractions): N x n_classes float32."""
    eye = np.eye(n_classes, dtype=np.float64)
    return ((1.0 - t) * eye[np.asarray(start)] + t * eye[np.asarray(end)]).astype(np.float32)
