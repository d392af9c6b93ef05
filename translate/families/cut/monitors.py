"""The two ways CUT is known to fail, measured while it trains (both reported in the
reference's issues): FastCUT with a large PatchNCE weight learning the identity (output =
input, a FID near the untranslated images'), and CUT giving one output for every input.

Both are measured on a fixed batch of source images, and go into ``metrics.jsonl`` (each
epoch's record holds the mean of its measurements); past the warm-up, a value beyond its
threshold prints a warning. The thresholds are rules of thumb on images in [-1, 1]: a
translation to another domain changes a photo by far more than 0.05 on average, and keeps
photos apart by far more than a fifth of their own distances.
"""

from __future__ import annotations

import math

import torch

IDENTITY_THRESHOLD = 0.05  # mean |G(x) - x| below this: the generator copies its input
SPREAD_THRESHOLD = 0.2  # the outputs' mean pairwise distance, over the inputs', below this: one output for all
# No warnings before this step: an untrained generator's outputs are all near grey, which
# would read as a collapse.
WARM_UP_STEPS = 1000


def _mean_pairwise_distance(images: torch.Tensor) -> torch.Tensor:
    flat = images.flatten(1).float()
    distances = torch.cdist(flat, flat, p=1) / flat.shape[1]  # mean |a - b| per pixel
    n = len(images)
    return distances.sum() / (n * (n - 1))


def collapse_measures(inputs: torch.Tensor, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """``identity_distance``: the mean |G(x) - x|; ``output_spread``: the outputs' mean pairwise
    L1 distance over the inputs' (1: as far apart as the inputs, 0: all the same), only where
    there are two or more inputs to spread (a source domain may have a single test image)."""
    measures = {"identity_distance": (outputs.float() - inputs.float()).abs().mean()}
    if len(inputs) >= 2:
        measures["output_spread"] = _mean_pairwise_distance(outputs) / _mean_pairwise_distance(inputs).clamp_min(1e-8)
    return measures


def collapse_warnings(measures: dict[str, float], step: int) -> list[str]:
    """The warnings ``measures`` (of :func:`collapse_measures`) call for at ``step``."""
    if step < WARM_UP_STEPS:
        return []
    warnings = []
    if measures["identity_distance"] < IDENTITY_THRESHOLD:
        warnings.append(f"warning: step {step}: the generator nearly copies its input (mean |G(x) - x| "
                        f"{measures['identity_distance']:.3f} < {IDENTITY_THRESHOLD}): identity collapse, known of "
                        "FastCUT with a large --nce-lambda; try a smaller one or --mode cut")
    if measures.get("output_spread", math.inf) < SPREAD_THRESHOLD:
        warnings.append(f"warning: step {step}: the outputs are nearly one image (their spread is "
                        f"{measures['output_spread']:.3f} of the inputs', < {SPREAD_THRESHOLD}): mode collapse; "
                        "go back to an earlier checkpoint or lower --lr")
    return warnings
