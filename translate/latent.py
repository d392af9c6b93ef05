"""Latent codes from a seed: the one definition every tool shares, so that ``--seed 0`` in
``translate.sample`` and ``translate.evaluate``, ``Sampler.sample(seed=0)`` and the demo's
seed 0 mean the same images. Torch-free (the runtime draws codes too).
"""

from __future__ import annotations

import numpy as np


def latent_codes(n: int, z_dim: int, seed: int) -> np.ndarray:
    """``n`` x ``z_dim`` standard-normal float32 codes from numpy's PCG64 generator seeded with ``seed``."""
    return np.random.default_rng(seed).standard_normal((n, z_dim), dtype=np.float32)
