"""FID and KID of a CycleGAN in both directions: each domain's test set, translated, against
the real test set of the other domain (the protocol of the CycleGAN and CUT papers).

:class:`TranslationScorer` reads the test sets and the real sets' features once, so a
training run can score its live generators every few epochs (``--eval-every``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from translate.apply import translate_image
from translate.errors import DataError
from translate.evaluation.metrics import InceptionFeatures, cached_features, fid, image_features, kid
from translate.families.cyclegan.nets import CycleGANConfig
from translate.io.images import read_image
from translate.training.checkpoint import load_cyclegan_generator
from translate.training.data import to_unit_range
from translate.training.domains import domain_files, find_domains


def _real_features(
    extractor: InceptionFeatures, images: list[np.ndarray], batch_size: int, name: str, cache_dir: str | None
) -> np.ndarray:
    """Inception features of a real test set; a same-sized set goes through the cache."""
    if len({image.shape for image in images}) != 1:
        return image_features(extractor, images, batch_size)
    batch = to_unit_range(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2))
    return cached_features(extractor, batch, name, cache_dir, batch_size)


class TranslationScorer:
    """Scores a pair of generators on the two domains' test sets, translated at full size."""

    def __init__(
        self,
        config: CycleGANConfig,
        data_root: Path,
        extractor: InceptionFeatures,
        device: torch.device,
        batch_size: int = 50,
        seed: int = 0,
        cache_dir: str | None = None,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
    ):
        folders = find_domains(data_root, config.domain_a, config.domain_b)
        if folders.test_a is None or folders.test_b is None:
            pair = data_root / f"{config.domain_a}2{config.domain_b}"
            raise DataError(f"scoring needs test images: {pair}/testA and {pair}/testB were not found")
        self.names = {"AtoB": (config.domain_a, config.domain_b), "BtoA": (config.domain_b, config.domain_a)}
        tests = {config.domain_a: domain_files(folders.test_a), config.domain_b: domain_files(folders.test_b)}
        self.real = {name: [read_image(f) for f in files] for name, files in tests.items()}
        self.real_features = {
            name: _real_features(extractor, images, batch_size, f"{name}-test", cache_dir)
            for name, images in self.real.items()
        }
        self.extractor, self.device, self.batch_size, self.seed = extractor, device, batch_size, seed
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size

    def score(self, generators: dict[str, nn.Module]) -> dict[str, Any]:
        """Scores keyed ``"<source>_to_<target>"`` for each direction given (``AtoB``, ``BtoA``),
        and the protocol; the generators are run in eval mode and fp32, and left as they were."""
        scores: dict[str, Any] = {}
        for direction, generator in generators.items():
            source, target = self.names[direction]
            was_training = generator.training
            generator.eval()
            try:
                translated = [translate_image(generator, image, self.device) for image in self.real[source]]
            finally:
                generator.train(was_training)
            fake_feats = image_features(self.extractor, translated, self.batch_size)
            real_feats = self.real_features[target]
            kid_mean, kid_std = kid(real_feats, fake_feats, self.kid_subsets, self.kid_subset_size, self.seed)
            scores[f"{source}_to_{target}"] = {
                "direction": direction,
                "fid": fid(real_feats, fake_feats),
                "kid_mean": kid_mean,
                "kid_std": kid_std,
                "translated": f"{len(translated)} {source} test images",
                "real": f"{len(self.real[target])} {target} test images",
            }
        scores["protocol"] = {
            "pairs": "each domain's test set translated at full size in fp32 (reflect-padded to a multiple of 4, "
            "cropped back), against the real test set of the other domain",
            "kid_subset_size": f"min({self.kid_subset_size}, size of the smaller set)",
        }
        return scores


def evaluate_cyclegan(
    checkpoint: Path,
    data_root: Path,
    extractor: InceptionFeatures,
    device: torch.device,
    batch_size: int,
    seed: int,
    cache_dir: str | None,
    kid_subsets: int,
    kid_subset_size: int,
) -> dict[str, Any]:
    """Scores for AtoB and BtoA of a checkpoint or model folder, with the protocol used."""
    generators, config = {}, None
    for direction in ("AtoB", "BtoA"):
        generator, config = load_cyclegan_generator(checkpoint, direction)
        generators[direction] = generator.to(device)
    scorer = TranslationScorer(config, data_root, extractor, device, batch_size, seed, cache_dir, kid_subsets,
                               kid_subset_size)
    return scorer.score(generators)
