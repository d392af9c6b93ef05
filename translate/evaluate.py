"""Score a trained model. MNIST generators: FID and KID against the MNIST test split, and
for conditional models the share of digits a classifier reads as the requested label.
CycleGAN: FID and KID in both directions on the domains' test sets. Or, with
``--folders DIR1 DIR2``, FID and KID between the images of two folders.

``python -m translate.evaluate RUN_OR_CHECKPOINT [--n 10000]`` prints one JSON object on
stdout, with the protocol it measured under; progress (on a terminal) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from translate.classifier import DEFAULT_CLASSIFIER, load_classifier
from translate.cli import run_cli, select_device
from translate.errors import ConfigError, DataError
from translate.evaluation.cyclegan import evaluate_cyclegan
from translate.evaluation.metrics import (
    FEATURE_LAYER,
    RESIZE_PROTOCOL,
    InceptionFeatures,
    cached_features,
    conditional_accuracy,
    fid,
    image_features,
    kid,
)
from translate.io.images import read_image
from translate.sample import generate, requested_labels
from translate.training.checkpoint import load_generator, read_checkpoint
from translate.training.data import list_images, load_mnist, resolve_data_root, to_unit_range

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
# FID-50k, the largest count the literature uses; about 0.2 GB of 28 px digits and 0.8 GB of
# float64 Inception features, all held at once.
MAX_GENERATED = 50_000


def real_images(data_root: Path, size: int, limit: int | None = None) -> tuple[torch.Tensor, str]:
    """The first ``limit`` (default all) MNIST test images in [-1, 1] at the generator's size,
    and how they were resized."""
    images = to_unit_range(load_mnist(data_root, "test")[0][:limit])
    if size == images.shape[-1]:
        return images, "none (28 px, the model's size)"
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (
        images,
        f"28 px to the model's {size} px: F.interpolate(bilinear, align_corners=False, antialias=True)",
    )


def _readable_images(folder: Path, skipped: list[str]) -> Iterator[np.ndarray]:
    """The RGB images below ``folder`` in file-name order; files that do not decode are named on
    stderr and in ``skipped``."""
    for path in list_images(folder):
        try:
            yield read_image(path)
        except DataError as exc:
            print(f"skipping {exc}", file=sys.stderr)
            skipped.append(str(path))


def evaluate_folders(
    folders: tuple[Path, Path], extractor: InceptionFeatures, batch_size: int, seed: int, progress: bool
) -> dict[str, Any]:
    """FID and KID between the images of two folders (clean-fid's ``compute_fid(dir1, dir2)``)."""
    for folder in folders:
        if not folder.is_dir():
            raise DataError(f"--folders: {folder} is not a folder: name two folders of images")
    feats, counts, skipped = [], [], []
    for folder in folders:
        feats.append(image_features(extractor, _readable_images(folder, skipped), batch_size, progress))
        counts.append(len(feats[-1]))
        if counts[-1] < 2:
            raise DataError(f"--folders: {folder} holds {counts[-1]} readable image(s); FID needs at least 2")
    kid_mean, kid_std = kid(feats[0], feats[1], KID_SUBSETS, KID_SUBSET_SIZE, seed)
    return {
        "folders": [str(f) for f in folders],
        "fid": fid(*feats),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "protocol": {
            "images": counts,
            "skipped_files": skipped,
            "image_input": "every PNG, JPEG, WebP, BMP or TIFF below each folder, decoded upright to RGB, "
            "each at its own size",
            "kid": f"unbiased MMD^2, kernel (x.y/2048 + 1)^3, {KID_SUBSETS} subsets of "
            f"{min(KID_SUBSET_SIZE, *counts)}, mean and std over subsets, seed {seed}",
        },
    }


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Everything the command prints, as a dict; fails early on bad inputs, before the slow passes."""
    start = time.perf_counter()
    progress = sys.stderr.isatty()
    device = select_device(args.gpu)
    if (args.checkpoint is None) == (args.folders is None):
        raise ConfigError("name a run, checkpoint or model folder to score, or two image folders with --folders A B")
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.folders:
        extractor = InceptionFeatures(args.fid_weights, device, args.data)
        result = evaluate_folders(tuple(args.folders), extractor, args.batch_size, args.seed, progress)
        result["protocol"].update(_network_protocol(extractor, device))
        return {**result, "seconds": round(time.perf_counter() - start, 1)}
    if args.n < 2 or (args.real_n is not None and args.real_n < 2):
        raise ConfigError("--n and --real-n must be at least 2: FID needs a covariance")
    if args.n > MAX_GENERATED:
        raise ConfigError(
            f"--n {args.n} is more than {MAX_GENERATED:,} generated images, which are all held in memory at once: "
            "use a smaller --n (10000 is the customary count)"
        )
    if read_checkpoint(args.checkpoint).family == "cyclegan":
        return _evaluate_cyclegan(args, device, start)
    generator, config = load_generator(args.checkpoint)
    generator = generator.to(device).eval()
    classifier = None
    if config.n_classes:
        classifier = load_classifier(args.classifier).to(device)
        if classifier.config.n_classes != config.n_classes:
            raise ConfigError(
                f"the model has {config.n_classes} classes but the classifier {classifier.config.n_classes}: "
                "conditional accuracy needs a classifier for the same labels (--classifier DIR)"
            )
    extractor = InceptionFeatures(args.fid_weights, device, args.data)
    real, real_resize = real_images(resolve_data_root(args.data), config.image_size, args.real_n)

    # Exactly the images python -m translate.sample draws with the same seed.
    fake = generate(generator, config, args.n, None, args.seed, device, args.batch_size)
    labels = requested_labels(config, args.n)
    real_feats = cached_features(
        extractor, real, f"mnist-test-{config.image_size}px", args.cache_dir, args.batch_size, progress
    )
    fake_feats = extractor(fake, args.batch_size, progress)
    kid_mean, kid_std = kid(real_feats, fake_feats, KID_SUBSETS, KID_SUBSET_SIZE, args.seed)
    result: dict[str, Any] = {
        "checkpoint": str(args.checkpoint),
        "fid": fid(real_feats, fake_feats),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
    }
    protocol: dict[str, Any] = {
        "real_set": f"MNIST test split, first {len(real)} images" if args.real_n else "MNIST test split",
        "real_images": len(real),
        "real_resize": real_resize,
        "generated_images": args.n,
        "latent": f"z ~ N(0, I) of dimension {config.z_dim}, torch.Generator seed {args.seed}",
        "kid": f"unbiased MMD^2, kernel (x.y/2048 + 1)^3, {KID_SUBSETS} subsets of "
        f"{min(KID_SUBSET_SIZE, len(real), args.n)}, mean and std over subsets, seed {args.seed}",
        **_network_protocol(extractor, device),
    }
    if classifier is not None:
        result["conditional_accuracy"] = conditional_accuracy(classifier, fake, labels)
        protocol["labels"] = (
            f"balanced: n/{config.n_classes} per class (sample i asks for label i % {config.n_classes})"
        )
        protocol["classifier"] = str(args.classifier or DEFAULT_CLASSIFIER)
        if config.image_size != classifier.config.image_size:
            protocol["classifier_input"] = (
                f"generated {config.image_size} px images resized to {classifier.config.image_size} px: "
                "F.interpolate(bilinear, align_corners=False, antialias=True)"
            )
    result["protocol"] = protocol
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def _network_protocol(extractor: InceptionFeatures, device: torch.device) -> dict[str, str]:
    """How every score here turns images into features and features into FID."""
    return {
        "inception_input": RESIZE_PROTOCOL,
        "feature_layer": FEATURE_LAYER,
        "weights": extractor.weights_name,
        "fid": "Frechet distance of Gaussians with unbiased covariances, float64",
        "device": str(device),
    }


def _evaluate_cyclegan(args: argparse.Namespace, device: torch.device, start: float) -> dict[str, Any]:
    extractor = InceptionFeatures(args.fid_weights, device, args.data)
    result = evaluate_cyclegan(
        args.checkpoint,
        resolve_data_root(args.data),
        extractor,
        device,
        args.batch_size,
        args.seed,
        args.cache_dir,
        KID_SUBSETS,
        KID_SUBSET_SIZE,
    )
    result["protocol"].update(_network_protocol(extractor, device))
    return {"checkpoint": str(args.checkpoint), **result, "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m translate.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, nargs="?",
                        help="run folder, checkpoint folder or shipped model folder")
    parser.add_argument("--folders", type=Path, nargs=2, metavar=("DIR1", "DIR2"),
                        help="instead of a model: FID and KID between the images of two folders")
    parser.add_argument(
        "--n", type=int, default=10000, help=f"generated images to score (default 10000, at most {MAX_GENERATED})"
    )
    parser.add_argument("--real-n", type=int, help="score against only the first N test images (default all)")
    parser.add_argument("--data", help="folder holding mnist/ and fid/ (default $TRANSLATE_DATA, else ./data)")
    parser.add_argument("--fid-weights", help="Inception TorchScript (default $TRANSLATE_FID_WEIGHTS, else in --data)")
    parser.add_argument("--classifier", help=f"classifier folder for conditional models (default {DEFAULT_CLASSIFIER})")
    parser.add_argument("--batch-size", type=int, default=50, help="images per generator and Inception pass")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise and of KID's subsets")
    parser.add_argument(
        "--cache-dir", help="where real-set features are kept (default $TRANSLATE_CACHE, else ~/.cache/translate)"
    )
    parser.add_argument("--gpu", action="store_true", help="run the generator and Inception on CUDA")
    print(json.dumps(evaluate(parser.parse_args(argv))))


if __name__ == "__main__":
    run_cli(main)
