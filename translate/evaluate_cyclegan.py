"""FID and KID of a CycleGAN in both directions: each domain's test set, translated, against
the real test set of the other domain (the protocol of the CycleGAN and CUT papers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from translate.apply import translate_image
from translate.checkpoint import load_cyclegan_generator
from translate.data import to_unit_range
from translate.domains import domain_files, find_domains
from translate.errors import DataError
from translate.images import read_image
from translate.metrics import InceptionFeatures, cached_features, fid, image_features, kid


def _real_features(
    extractor: InceptionFeatures, images: list[np.ndarray], batch_size: int, name: str, cache_dir: str | None
) -> np.ndarray:
    """Inception features of a real test set; a same-sized set goes through the cache."""
    if len({image.shape for image in images}) != 1:
        return image_features(extractor, images, batch_size)
    batch = to_unit_range(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2))
    return cached_features(extractor, batch, name, cache_dir, batch_size)


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
    """Scores for AtoB and BtoA, keyed ``"<source>_to_<target>"``, with the protocol used."""
    _, config = load_cyclegan_generator(checkpoint, "AtoB")
    folders = find_domains(data_root, config.domain_a, config.domain_b)
    if folders.test_a is None or folders.test_b is None:
        pair = data_root / f"{config.domain_a}2{config.domain_b}"
        raise DataError(f"scoring needs test images: {pair}/testA and {pair}/testB were not found")
    tests = {config.domain_a: domain_files(folders.test_a), config.domain_b: domain_files(folders.test_b)}
    real = {name: [read_image(f) for f in files] for name, files in tests.items()}
    scores: dict[str, Any] = {}
    for direction, source, target in (
        ("AtoB", config.domain_a, config.domain_b),
        ("BtoA", config.domain_b, config.domain_a),
    ):
        generator, _ = load_cyclegan_generator(checkpoint, direction)
        generator = generator.to(device)
        translated = [translate_image(generator, image, device) for image in real[source]]
        real_feats = _real_features(extractor, real[target], batch_size, f"{target}-test", cache_dir)
        fake_feats = image_features(extractor, translated, batch_size)
        kid_mean, kid_std = kid(real_feats, fake_feats, kid_subsets, kid_subset_size, seed)
        scores[f"{source}_to_{target}"] = {
            "direction": direction,
            "fid": fid(real_feats, fake_feats),
            "kid_mean": kid_mean,
            "kid_std": kid_std,
            "translated": f"{len(translated)} {source} test images",
            "real": f"{len(real[target])} {target} test images",
        }
    scores["protocol"] = {
        "pairs": "each domain's test set translated at full size (reflect-padded to a multiple of 4, cropped "
        "back), against the real test set of the other domain",
        "kid_subset_size": f"min({kid_subset_size}, size of the smaller set)",
    }
    return scores
