"""Scoring a paired translator on its test split: each test input translated at full size and
compared with its own target (L1, PSNR, SSIM: :mod:`translate.evaluation.fidelity`), and the
translations as a set against the real targets (FID, KID), with the protocol stated."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from translate.errors import DataError
from translate.evaluation.fidelity import FIDELITY_PROTOCOL, l1, psnr, ssim
from translate.evaluation.protocols import EvaluationRequest, real_features, set_protocol, set_scores, translate_all


class PairedScorer:
    """Scores a one-way generator (``AtoB``) on test pairs: reads the pairs and the real
    targets' features once, so a run can score its live generator every few epochs. ``split``
    names the pairs as the protocol states them: ``NAME/test``, not a machine's path."""

    def __init__(self, inputs: list[np.ndarray], targets: list[np.ndarray], names: tuple[str, str], split: str,
                 request: EvaluationRequest, size_multiple: int, min_size: int):
        if len(inputs) < 2:
            raise DataError(f"scoring needs at least 2 readable test pairs in {split}, found {len(inputs)}")
        limit = request.real_n or len(inputs)  # --real-n: the first N pairs
        self.inputs, self.targets = inputs[:limit], targets[:limit]
        self.names, self.split, self.request = names, split, request
        self.size_multiple, self.min_size = size_multiple, min_size
        self.extractor = request.extractor()
        self.real_features = real_features(self.extractor, self.targets, f"{names[1]}-paired-test", request)

    def score(self, generators: dict[str, nn.Module]) -> dict[str, Any]:
        """``"<source>_to_<target>"``: the generator's FID, KID, L1, PSNR and SSIM; and the protocol."""
        source, target = self.names
        request = self.request
        translated = translate_all(generators["AtoB"], self.inputs, self.size_multiple, self.min_size, request,
                                   f"{source} test inputs")
        pairs = list(zip(translated, self.targets, strict=True))
        return {
            f"{source}_to_{target}": {
                "direction": "AtoB",
                **set_scores(self.extractor, translated, self.real_features, target, request),
                "l1": float(np.mean([l1(out, real) for out, real in pairs])),
                "psnr": float(np.mean([psnr(out, real) for out, real in pairs])),
                "ssim": float(np.mean([ssim(out, real) for out, real in pairs])),
                "translated": f"{len(translated)} {source} test inputs",
                "real": f"their {len(self.targets)} {target} targets",
            },
            "protocol": {
                "pairs": f"each test pair of {self.split}: its input translated at full size in fp32 (reflect-padded "
                f"to a multiple of {self.size_multiple}, at least {self.min_size}, cropped back) by the generator "
                "in eval mode (dropout off, unlike the reference's test.py, so that a score is one number) and "
                "compared with its own target; FID and KID: all translations against all real targets",
                **FIDELITY_PROTOCOL,
                **set_protocol(self.extractor, request, (len(translated), len(self.targets))),
            },
        }
