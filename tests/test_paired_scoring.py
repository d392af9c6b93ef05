"""Scoring a paired translator: each output against its own target (L1, PSNR, SSIM), the
outputs against the real targets (FID, KID), and the protocol stated."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from translate.errors import DataError
from translate.evaluation.fidelity import l1, psnr, ssim
from translate.evaluation.paired import PairedScorer
from translate.evaluation.protocols import EvaluationRequest


class Darker(nn.Module):
    """Halves the brightness: a known, imperfect translation. ``modes`` records, per image, whether
    it was called in train mode."""

    def __init__(self):
        super().__init__()
        self.modes: list[bool] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return (images + 1) / 2 - 1


class Negative(nn.Module):
    """The perfect translator of these pairs, whose targets are their inputs' negatives."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return -images


@pytest.fixture(scope="module")
def pairs():
    """Targets unlike their inputs (255 - input), so that scoring against the inputs by mistake
    gives other figures."""
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 256, (32, 40, 3), dtype=np.uint8) for _ in range(4)]
    return inputs, [255 - image for image in inputs]


def _scorer(pairs, data_root, tmp_path, **kwargs) -> PairedScorer:
    request = EvaluationRequest(data_root, fid_weights=str(data_root / "fid" / "inception-2015-12-05-fid.pt"),
                                cache_dir=str(tmp_path), **kwargs)
    return PairedScorer(*pairs, ("edges", "zebra"), "edges2zebra/test", request, 16, 16)


def test_each_output_is_scored_against_its_own_target(pairs, data_root, tmp_path):
    generator = Darker()
    scores = _scorer(pairs, data_root, tmp_path).score({"AtoB": generator})
    entry = scores["edges_to_zebra"]
    darker = [((image.astype(float) + 255) / 2 - 127.5).round().clip(0, 255).astype(np.uint8) for image in pairs[0]]
    # One image at a time, in eval mode (as the protocol says), and the generator left in train mode.
    assert generator.modes == [False] * 4 and generator.training
    assert entry["l1"] == pytest.approx(np.mean([l1(d, t) for d, t in zip(darker, pairs[1], strict=True)]), abs=2e-3)
    assert entry["psnr"] == pytest.approx(np.mean([psnr(d, t) for d, t in zip(darker, pairs[1], strict=True)]),
                                          abs=0.05)
    assert entry["ssim"] == pytest.approx(np.mean([ssim(d, t) for d, t in zip(darker, pairs[1], strict=True)]),
                                          abs=2e-3)
    assert entry["fid"] > 1 and entry["direction"] == "AtoB" and entry["translated"] == "4 edges test inputs"
    protocol = scores["protocol"]
    assert "edges2zebra/test" in protocol["pairs"] and "multiple of 16" in protocol["pairs"]
    assert {"l1", "psnr", "ssim", "kid", "weights"} <= protocol.keys()
    # 4 outputs against their 4 targets: KID's subsets are both sets whole, one value and no spread.
    assert entry["kid_std"] == 0.0 and "of both sets whole (4 each" in protocol["kid"]


def test_a_perfect_translation_scores_zero_l1_and_full_ssim(pairs, data_root, tmp_path):
    scorer = _scorer(pairs, data_root, tmp_path, real_n=3)
    entry = scorer.score({"AtoB": Negative()})["edges_to_zebra"]
    assert entry["l1"] == 0 and entry["psnr"] == 100 and entry["ssim"] == pytest.approx(1.0)
    assert abs(entry["fid"]) < 1e-3 and entry["real"] == "their 3 zebra targets"
    unchanged = scorer.score({"AtoB": nn.Identity()})["edges_to_zebra"]  # the inputs are far from the targets
    assert unchanged["l1"] > 0.3 and unchanged["ssim"] < 0.5 and unchanged["fid"] > 1


def test_fewer_than_two_pairs_cannot_be_scored(pairs, data_root, tmp_path):
    with pytest.raises(DataError, match="at least 2 readable test pairs in edges2zebra/test"):
        _scorer(([pairs[0][0]], [pairs[1][0]]), data_root, tmp_path)
