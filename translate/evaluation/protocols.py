"""The scoring protocols, each a function that returns the scores and the protocol it used:

- generated images against the MNIST test split (FID, KID, the Inception Score by the MNIST
  judge beside the real digits' own, and for conditional models the conditional accuracy):
  :func:`score_generated_digits`;
- a translator's two directions, each domain's test set translated against the real test
  set of the other domain (the CycleGAN and CUT papers' protocol): :class:`TranslationScorer`;
- two folders of images (clean-fid's ``compute_fid(dir1, dir2)``): :func:`score_folders`.

Families call the first two; ``translate.evaluate --folders`` the third.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translate.config import check_seed
from translate.datasets.domains import DomainFolders, domain_files, find_domains
from translate.datasets.mnist import load_mnist
from translate.errors import ConfigError, DataError
from translate.evaluation.inception import (
    FEATURE_LAYER,
    InceptionFeatures,
    cached_features,
    image_features,
)
from translate.evaluation.judge import DEFAULT_CLASSIFIER, class_probabilities, load_classifier, read_as_requested
from translate.evaluation.scores import fid, inception_score, kid
from translate.io.images import list_images, read_image
from translate.latent import check_truncation
from translate.modeling.device import strict_fp32
from translate.modeling.inference import translate_image
from translate.modeling.pixels import to_unit
from translate.progress import QUIET, Progress

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
# FID-50k, the largest count the literature uses; about 0.2 GB of 28 px digits and 0.8 GB of
# float64 Inception features, all held at once.
MAX_GENERATED = 50_000
IS_SPLITS = 10  # the Inception Score's customary splits (Salimans et al. 2016)
# Why translations get no Inception Score: stated in their protocol.
NO_INCEPTION_SCORE = (
    "not reported: the FID Inception network (inception-2015-12-05-fid.pt) returns only its 2048-d pool3 "
    "features, with no class head, and ImageNet's classes would not measure how well a photo was translated "
    "(a zebra-striped horse and a zebra score alike); FID and KID compare against the real target domain instead"
)


@dataclass(frozen=True)
class EvaluationRequest:
    """How to score: counts, where the data and networks are, and on what device."""

    data_root: Path
    device: torch.device = torch.device("cpu")
    n: int = 10_000  # generated images (sample families)
    real_n: int | None = None  # score against only the first real images
    fid_weights: str | None = None
    classifier: str | None = None
    batch_size: int = 50
    seed: int = 0
    cache_dir: str | None = None
    progress: Progress = QUIET
    truncation: float | None = None  # sample families: the truncation trick's threshold (translate.latent)
    precision: str = "fp32"  # of the Inception network: fp32 or bf16 (translate.evaluation.inception.DTYPES)

    def validate(self) -> None:
        if self.n < 2 or (self.real_n is not None and self.real_n < 2):
            raise ConfigError("--n and --real-n must be at least 2: FID needs a covariance")
        check_truncation(self.truncation)
        if self.n > MAX_GENERATED:
            raise ConfigError(
                f"--n {self.n} is more than {MAX_GENERATED:,} generated images, which are all held in memory at "
                "once: use a smaller --n (10000 is the customary count)"
            )
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        check_seed(self.seed)  # KID's subsets draw from it, after minutes of features

    def extractor(self) -> InceptionFeatures:
        return InceptionFeatures(self.fid_weights, self.device, self.data_root, self.precision)


def network_protocol(extractor: InceptionFeatures) -> dict[str, str]:
    """How every protocol here turns images into features and features into FID."""
    return {
        "inception_input": extractor.input_protocol,
        "feature_layer": FEATURE_LAYER,
        "weights": extractor.weights_name,
        "inception_precision": extractor.precision,
        "inception_runtime": extractor.runtime,
        "fid": "Frechet distance of Gaussians with unbiased covariances, float64",
        "device": str(extractor.device),
    }


def kid_protocol(set_sizes: tuple[int, ...], seed: int) -> str:
    """KID as computed on sets of ``set_sizes`` (:func:`translate.evaluation.scores.kid`), in
    words: recorded with each KID score, beside it in `evaluation.json` and cards."""
    subset = min(KID_SUBSET_SIZE, *set_sizes)
    if all(size == subset for size in set_sizes):
        return (f"unbiased MMD^2, kernel (x.y/2048 + 1)^3, of both sets whole ({subset} each: every subset of that "
                "size would be the same, so one value and std 0)")
    return (f"unbiased MMD^2, kernel (x.y/2048 + 1)^3, {KID_SUBSETS} subsets of {subset}, mean and std over "
            f"subsets, seed {seed}")


# -- generated digits against MNIST ---------------------------------------------------------
def real_digits(data_root: Path, size: int, limit: int | None = None) -> tuple[torch.Tensor, str]:
    """The first ``limit`` (default all) MNIST test images in [-1, 1] at the generator's size,
    and how they were resized."""
    images = to_unit(load_mnist(data_root, "test")[0][:limit, :, :, None])
    if size == images.shape[-1]:
        return images, "none (28 px, the model's size)"
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return images, f"28 px to the model's {size} px: F.interpolate(bilinear, align_corners=False, antialias=True)"


def _inception_score(probabilities: np.ndarray) -> dict[str, float | int] | None:
    """Mean, std, splits and count; None below one image per split."""
    if len(probabilities) < IS_SPLITS:
        return None
    mean, std = inception_score(probabilities, IS_SPLITS)
    return {"mean": mean, "std": std, "splits": IS_SPLITS, "images": len(probabilities)}


def score_generated_digits(
    generated: torch.Tensor, labels: torch.Tensor | None, n_classes: int, request: EvaluationRequest,
    latent: str,
) -> dict[str, Any]:
    """FID and KID of ``generated`` (in [-1, 1]) against the MNIST test split; the Inception
    Score of both sets by the MNIST judge; and for a conditional model (``labels`` given) the
    share the judge reads as the requested label."""
    classifier = load_classifier(request.classifier).to(request.device)
    if labels is not None and classifier.config.n_classes != n_classes:
        raise ConfigError(
            f"the model has {n_classes} classes but the classifier {classifier.config.n_classes}: "
            "conditional accuracy needs a classifier for the same labels (--classifier DIR)"
        )
    extractor = request.extractor()
    size = generated.shape[-1]
    real, real_resize = real_digits(request.data_root, size, request.real_n)
    real_feats = cached_features(extractor, real, f"mnist-test-{size}px", request.cache_dir, request.batch_size,
                                 request.progress)
    with request.progress.track(f"Inception features of {len(generated)} generated images", len(generated)) as bar:
        fake_feats = extractor(generated, request.batch_size, bar)
    kid_mean, kid_std = kid(real_feats, fake_feats, KID_SUBSETS, KID_SUBSET_SIZE, request.seed)
    probabilities = class_probabilities(classifier, generated)
    result: dict[str, Any] = {
        "fid": fid(real_feats, fake_feats), "kid_mean": kid_mean, "kid_std": kid_std,
        "inception_score": _inception_score(probabilities),
        "real_inception_score": _inception_score(class_probabilities(classifier, real)),
    }
    protocol: dict[str, Any] = {
        "real_set": f"MNIST test split, first {len(real)} images" if request.real_n else "MNIST test split",
        "real_images": len(real),
        "real_resize": real_resize,
        "generated_images": len(generated),
        "latent": latent,
        "kid": kid_protocol((len(real), len(generated)), request.seed),
        **network_protocol(extractor),
        "inception_score": (
            f"exp(E_x KL(p(y|x) || p(y))) with p(y|x) the softmax of the classifier below (the MNIST judge, "
            f"{classifier.config.n_classes} classes, so at most {classifier.config.n_classes}), over {IS_SPLITS} "
            "equal splits, mean and std over splits (Salimans et al. 2016); real_inception_score: the same for the "
            f"real set; null below {IS_SPLITS} images. The FID Inception network has no class head to compute "
            "the ImageNet Inception Score with"
        ),
        "classifier": request.classifier or f"translate/evaluation/{DEFAULT_CLASSIFIER.name} (in the package)",
    }
    if size != classifier.config.image_size:
        protocol["classifier_input"] = (
            f"{size} px images resized to {classifier.config.image_size} px: "
            "F.interpolate(bilinear, align_corners=False, antialias=True)"
        )
    if labels is not None:
        result["conditional_accuracy"] = read_as_requested(probabilities, labels)
        protocol["labels"] = _label_protocol(len(labels), n_classes)
    result["protocol"] = protocol
    return result


def _label_protocol(n: int, n_classes: int) -> str:
    """How the asked-for labels were laid out: exactly balanced only when ``n`` divides evenly."""
    each, extra = divmod(n, n_classes)
    more = "label 0" if extra == 1 else f"labels 0..{extra - 1}"
    share = f"{each} per class" if extra == 0 else f"{each + 1} for {more}, {each} for the rest"
    return f"balanced: {share} (sample i asks for label i % {n_classes})"


# -- a translator on two domains' test sets ---------------------------------------------------
def real_features(
    extractor: InceptionFeatures, images: list[np.ndarray], name: str, request: EvaluationRequest
) -> np.ndarray:
    """Inception features of a real test set; a same-sized set goes through the cache."""
    if len({image.shape for image in images}) != 1:
        with request.progress.track(f"Inception features of {name}", len(images)) as bar:
            return image_features(extractor, images, request.batch_size, bar)
    return cached_features(extractor, to_unit(np.stack(images)), name, request.cache_dir, request.batch_size,
                           request.progress)


def translate_all(generator: nn.Module, images: list[np.ndarray], size_multiple: int, min_size: int,
                  request: EvaluationRequest, what: str) -> list[np.ndarray]:
    """``images`` translated one by one at full size in fp32 by ``generator`` in eval mode (left
    in the mode it was in), reported to the request's progress as translating ``what``."""
    was_training = generator.training
    generator.eval()
    try:
        with request.progress.track(f"translating the {len(images)} {what}", len(images)) as bar, strict_fp32():
            translated = []
            for image in images:
                translated.append(translate_image(generator, image, size_multiple, min_size, request.device))
                bar.update(1)
            return translated
    finally:
        generator.train(was_training)


class Scorer(Protocol):
    """Scores a translator's generators (by direction) on test data: ``"<source>_to_<target>"``
    entries, each with its ``direction``, ``fid`` and ``kid_mean`` among its scores, and the
    ``protocol``. Read once, scored as often as asked (``--eval-every``)."""

    def score(self, generators: dict[str, nn.Module]) -> dict[str, Any]:
        """The scores of ``generators`` (by direction) and the protocol they were taken with."""


TRANSLATION_DIRECTIONS = ("AtoB", "BtoA")


class TranslationScorer:
    """Scores a translator's generators on the two domains' test sets, translated at full size.

    It reads the test sets and the real sets' features once, so a training run can score its
    live generators every few epochs (``--eval-every``). Only the directions the model has are
    scored, so a one-way model (``directions=("AtoB",)``) costs no features of its source domain.
    """

    def __init__(self, domains: tuple[str, str], channels: int, request: EvaluationRequest, size_multiple: int,
                 min_size: int, directions: tuple[str, ...] = TRANSLATION_DIRECTIONS):
        domain_a, domain_b = domains
        unknown = [d for d in directions if d not in TRANSLATION_DIRECTIONS]
        if unknown or not directions:
            raise ConfigError(f"a translator's directions are some of {', '.join(TRANSLATION_DIRECTIONS)}, got "
                              f"{', '.join(directions) or 'none'}")
        self.size_multiple, self.min_size = size_multiple, min_size  # what the generators take
        folders = find_domains(request.data_root, domain_a, domain_b)
        if folders.test_a is None or folders.test_b is None:
            raise DataError(_no_test_sets(folders, request.data_root, domain_a, domain_b))
        names = {"AtoB": (domain_a, domain_b), "BtoA": (domain_b, domain_a)}
        self.names = {direction: names[direction] for direction in directions}
        # --real-n: each domain's first N readable test images, as the inputs translated and as the
        # real set. A file that does not decode (a stray ._x.jpg) is passed over, named, and listed
        # in the protocol: it must not stop the scoring, nor the training run that scores.
        self.skipped: list[str] = []
        self.real = {}
        for name, folder in ((domain_a, folders.test_a), (domain_b, folders.test_b)):
            self.real[name] = list(itertools.islice(_readable_images(folder, self.skipped, channels),
                                                    request.real_n))
            if not self.real[name]:
                domain_files(folder)  # raises, naming what is wrong: no image files, or none that decodes
        self.request = request
        self.extractor = request.extractor()
        targets = [target for _, target in self.names.values()]  # the real sets the translations meet
        self.real_features = {
            name: real_features(self.extractor, self.real[name], f"{name}-test", request) for name in targets
        }

    def score(self, generators: dict[str, nn.Module]) -> dict[str, Any]:
        """Scores keyed ``"<source>_to_<target>"`` for each direction given (``AtoB``, ``BtoA``),
        and the protocol; the generators run in eval mode and fp32, and are left as they were."""
        scores: dict[str, Any] = {}
        request = self.request
        unknown = sorted(set(generators) - set(self.names))
        if unknown:
            raise ConfigError(f"this scorer was built for {', '.join(self.names)}, not {', '.join(unknown)}: "
                              "build it with the model's directions")
        for direction, generator in generators.items():
            source, target = self.names[direction]
            translated = translate_all(generator, self.real[source], self.size_multiple, self.min_size, request,
                                       f"{source} test images")
            scores[f"{source}_to_{target}"] = {
                "direction": direction,
                **set_scores(self.extractor, translated, self.real_features[target], target, request),
                "translated": f"{len(translated)} {source} test images",
                "real": f"{len(self.real[target])} {target} test images",
            }
        scores["protocol"] = {
            "pairs": f"each domain's test set translated at full size in fp32 (reflect-padded to a multiple of "
            f"{self.size_multiple}, cropped back), against the real test set of the other domain",
            # Each direction compares one domain's test set, translated, with the other's.
            **set_protocol(self.extractor, request, tuple(len(images) for images in self.real.values())),
            **({"skipped_files": self.skipped} if self.skipped else {}),
        }
        return scores


def _no_test_sets(folders: DomainFolders, data_root: Path, domain_a: str, domain_b: str) -> str:
    """Where scoring looked for the test sets (next to the training folders it found), and how
    to get them."""
    trains = (folders.train_a, folders.train_b)
    if not all(train.name.startswith("train") for train in trains):  # <data>/A and <data>/B: no test sets
        return (f"scoring needs test images, which {trains[0]} and {trains[1]} have none of: lay the data out as "
                f"{data_root / f'{domain_a}2{domain_b}'}/trainA, trainB, testA and testB")
    tests = [train.parent / ("test" + train.name.removeprefix("train")) for train in trains]
    return (f"scoring needs test images: {tests[0]} and {tests[1]} were not found: add them (python -m "
            f"translate.data fetch {domain_a}2{domain_b} has them for the reference datasets)")


def set_scores(extractor: Any, translated: list[np.ndarray], real_feats: np.ndarray, target: str,
               request: EvaluationRequest) -> dict[str, float]:
    """FID and KID of ``translated`` as a set against the real ``target`` images' features: what
    every translation family's scorer reports, whatever else it measures."""
    with request.progress.track(f"Inception features of {len(translated)} translations to {target}",
                                len(translated)) as bar:
        fake_feats = image_features(extractor, translated, request.batch_size, bar)
    kid_mean, kid_std = kid(real_feats, fake_feats, KID_SUBSETS, KID_SUBSET_SIZE, request.seed)
    return {"fid": fid(real_feats, fake_feats), "kid_mean": kid_mean, "kid_std": kid_std}


def set_protocol(extractor: Any, request: EvaluationRequest, set_sizes: tuple[int, ...]) -> dict[str, str]:
    """How :func:`set_scores` measured: KID's subsets (of the size it used: ``KID_SUBSET_SIZE``,
    or the smallest of ``set_sizes``, the sets it compared; or both sets whole), no Inception
    Score, the network."""
    return {"kid": kid_protocol(set_sizes, request.seed),
            "inception_score": NO_INCEPTION_SCORE, **network_protocol(extractor)}


# -- two folders ---------------------------------------------------------------------------
def _readable_images(folder: Path, skipped: list[str], channels: int = 3) -> Iterator[np.ndarray]:
    """The images below ``folder`` (recursively, sorted by path), in RGB or grey by ``channels``;
    files that do not decode are named on stderr and in ``skipped``."""
    for path in list_images(folder):
        try:
            yield read_image(path, channels)
        except DataError as exc:
            print(f"skipping {exc}", file=sys.stderr)
            skipped.append(str(path))


def score_folders(folders: tuple[Path, Path], request: EvaluationRequest) -> dict[str, Any]:
    """FID and KID between the images of two folders (clean-fid's ``compute_fid(dir1, dir2)``)."""
    for folder in folders:
        if not folder.is_dir():
            raise DataError(f"--folders: {folder} is not a folder: name two folders of images")
    extractor = request.extractor()
    feats, counts, skipped = [], [], []
    for folder in folders:
        with request.progress.track(f"Inception features of the images in {folder}") as bar:
            feats.append(image_features(extractor, _readable_images(folder, skipped), request.batch_size, bar))
        counts.append(len(feats[-1]))
        if counts[-1] < 2:
            raise DataError(f"--folders: {folder} holds {counts[-1]} readable image(s); FID needs at least 2")
    kid_mean, kid_std = kid(feats[0], feats[1], KID_SUBSETS, KID_SUBSET_SIZE, request.seed)
    return {
        "folders": [str(f) for f in folders],
        "fid": fid(*feats),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "protocol": {
            "images": counts,
            "skipped_files": skipped,
            "image_input": "every PNG, JPEG, WebP, BMP or TIFF below each folder (hidden names and __MACOSX "
            "left out, linked folders followed), decoded upright to RGB, each at its own size",
            "kid": kid_protocol(tuple(counts), request.seed),
            **network_protocol(extractor),
        },
    }
