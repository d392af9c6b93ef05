"""ONNX Runtime inference for exported generators: numpy in, uint8 images out, no torch.

Imports only numpy, onnxruntime and OpenCV (through ``translate.io.images``), so other
applications can embed it. Everything about pre- and post-processing is read from
the metadata that ``python -m translate.export`` writes into the file.

    from translate.runtime import Sampler, Translator
    digits = Sampler("exports/cdcgan-mnist.onnx").sample(10, labels=7, seed=0)  # 10 x 28 x 28 x 1
    walk = Sampler("exports/cdcgan-mnist.onnx").interpolate_labels(3, 8, steps=8)  # 1 x 8 x 28 x 28 x 1
    zebra = Translator("exports/horse2zebra.onnx").translate(horse_rgb)         # same size as horse
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from translate.errors import InputError, ModelFileError, first_line
from translate.io.images import TRANSLATE_MAX_PIXELS, check_padded_size, convert_channels, pad_to_multiple, read_image
from translate.io.pixels import to_pixels, to_unit
from translate.latent import check_steps, code_walk, label_walk, latent_codes
from translate.onnx_contract import ModelInfo, read_model_info

DEFAULT_MAX_PIXELS = TRANSLATE_MAX_PIXELS  # Translator's bound, kept under its public name (see translate.io.images)
# Sampler's bound per call, in bytes of images: a million 28 x 28 digits (0.8 GB, with 0.4 GB
# of codes); as many 64-px RGB images as fit the same bytes (63,802).
SAMPLE_BYTES = 784_000_000
DEFAULT_MAX_SAMPLES = SAMPLE_BYTES // (28 * 28)  # a digit file's bound, the one this module used to name


# What Sampler.generate takes as labels: one class, one per image, or class weights (rows per image).
Labels = int | Sequence[int] | Sequence[Sequence[float]] | np.ndarray | None


def providers_for(device: str) -> list[str]:
    """Execution providers for ``"cpu"`` or ``"cuda"`` (CUDA falls back to the CPU per node)."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise InputError("device 'cuda' asked for, but this onnxruntime has no CUDA provider: "
                             "install onnxruntime-gpu or use device='cpu'")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise InputError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def open_session(
    path: str | os.PathLike, task: str | None, device: str = "cpu", threads: int | None = None
) -> tuple[ort.InferenceSession, ModelInfo]:
    """An inference session and its checked metadata, for a file of ``task`` (``sample`` or
    ``translate``; None takes either); clear errors for unusable files."""
    path = Path(path)
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise ModelFileError(f"{path} {problem}: create it with python -m translate.export CHECKPOINT --out {path}")
    providers = providers_for(device)
    options = ort.SessionOptions()
    if threads is not None:  # None: ONNX Runtime's own choice (the machine's cores)
        _check_count("threads", threads)
        options.intra_op_num_threads = int(threads)
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        reason = first_line(exc)
        raise ModelFileError(f"{path} is not a loadable ONNX model ({reason}): re-export it with python -m "
                             "translate.export, or upgrade onnxruntime if the file was made for a newer one") from exc
    if providers[0] not in session.get_providers():  # ONNX Runtime falls back to the CPU with only a log line
        raise InputError(f"device {device!r} asked for, but ONNX Runtime could not start {providers[0]} (its log "
                         "above says why; usually CUDA or cuDNN libraries of another version than onnxruntime-gpu "
                         "needs): fix the install or use device='cpu'")
    info = read_model_info(dict(session.get_modelmeta().custom_metadata_map), path)
    if task is not None and info.task != task:
        raise ModelFileError(f"{path} holds a {info.family} model, which {_TASKS[info.task][1]}: "
                             f"open it with {_TASKS[info.task][0]}")
    return session, info


_TASKS = {"sample": ("Sampler", "draws images from codes"), "translate": ("Translator", "translates images")}


def run_session(session: ort.InferenceSession, feeds: dict[str, np.ndarray], path: Path) -> np.ndarray:
    """The first output of ``session`` on ``feeds``; ONNX Runtime's own failures become
    InputError when memory ran out (the input's fault), else ModelFileError naming the file (a
    graph that does not take inputs its metadata promises).

    The session's memory arena gives back what the run grew it by: it otherwise keeps the
    largest run's memory for the session's life (3.2 GiB against 0.3 GiB after one 1536-px photo
    with the full-size CycleGAN generator, bench/translator_arena.py, for as long as a demo or a
    service holds the model)."""
    try:
        return session.run(None, feeds, _shrinking_arenas(session))[0]
    except Exception as exc:  # onnxruntime raises its own exception types
        shapes = {name: value.shape for name, value in feeds.items()}
        reason = first_line(exc)
        if any(sign in reason.lower() for sign in ("failed to allocate", "bad_alloc", "out of memory")):
            raise InputError(f"ONNX Runtime ran out of memory running {path} on inputs {shapes} ({reason}): give "
                             "it less at a time (smaller images or batch_size, a lower max_pixels; fewer samples "
                             "a call)") from exc
        raise ModelFileError(f"ONNX Runtime could not run {path} on inputs {shapes} ({reason}): "
                             "re-export it with python -m translate.export") from exc


def _shrinking_arenas(session: ort.InferenceSession) -> ort.RunOptions:
    """Run options that shrink the memory arenas of ``session``'s devices after the run: only
    arenas it has (ONNX Runtime fails a run that names one it lacks, as in a session an
    application opened with ``enable_cpu_mem_arena`` off), on the GPU it runs on."""
    options = ort.RunOptions()
    arenas = ["cpu:0"] if session.get_session_options().enable_cpu_mem_arena else []
    if session.get_providers()[0] == "CUDAExecutionProvider":
        cuda = session.get_provider_options().get("CUDAExecutionProvider", {})
        arenas.append(f"gpu:{cuda.get('device_id', '0')}")
    if arenas:
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", ";".join(arenas))
    return options


class Sampler:
    """Draws images from an exported DCGAN or cDCGAN generator: from a seed's codes
    (optionally truncated), along a walk between two seeds' codes, or, for a cDCGAN, along a
    walk between two labels with the code fixed.

    A call asking for more than ``max_samples`` images is refused before anything is
    allocated: the codes and images are held in memory, and a count typed one digit too
    long would otherwise end with the process killed for memory rather than an error. By
    default the bound is what :data:`SAMPLE_BYTES` of the file's images hold.

    A cDCGAN file's ``label`` input takes float class weights (N x classes: one-hot rows, or
    weights between two labels); files exported before walks between labels existed take
    int64 class indices, and draw everything but those walks.
    """

    def __init__(self, path: str | os.PathLike, device: str = "cpu", threads: int | None = None,
                 max_samples: int | None = None, *, opened: tuple | None = None):
        self.path = Path(path)
        if max_samples is not None:
            _check_count("max_samples", max_samples)
        self.session, self.info = opened or open_session(path, "sample", device, threads)
        image_bytes = self.info.image_size**2 * self.info.channels  # 0 in files that do not record the size
        self.max_samples = max_samples or (max(1, SAMPLE_BYTES // image_bytes) if image_bytes else DEFAULT_MAX_SAMPLES)
        _expect_inputs(self.session, ["z", "label"] if self.info.class_names else ["z"], self.path)
        self.z_dim = self.info.z_dim
        _expect_last_dim(self.session, "z", self.z_dim, "z_dim", self.path)
        self._takes_indices = False
        if self.info.class_names:
            _expect_last_dim(self.session, "label", len(self.classes), "class_names", self.path)
            label_input = next(i for i in self.session.get_inputs() if i.name == "label")
            self._takes_indices = label_input.type == "tensor(int64)"

    @property
    def classes(self) -> list[str]:
        return self.info.class_names

    def sample(self, n: int, labels: int | Sequence[int] | None = None, seed: int = 0,
               batch_size: int = 256, truncation: float | None = None) -> np.ndarray:
        """``n`` images, uint8 N x H x W x C. ``labels`` (conditional models): one class
        index for all, one per image, or None for the classes in turn. ``truncation``: see
        :meth:`codes`."""
        codes = self.codes(n, seed, truncation)
        return self.generate(codes, self._labels(n, labels), batch_size)

    def codes(self, n: int, seed: int = 0, truncation: float | None = None) -> np.ndarray:
        """The ``n`` x z_dim latent codes that :meth:`sample` draws for ``seed`` (float32); with
        ``truncation`` T, every component beyond +-T redrawn until it fits (BigGAN's truncation
        trick, :func:`translate.latent.latent_codes`)."""
        _check_count("n", n)
        if n > self.max_samples:
            raise InputError(f"n={n} exceeds max_samples={self.max_samples} per call: draw them in several "
                             "calls with different seeds, or raise max_samples if the machine has the memory")
        if not _is_integer(seed) or seed < 0:
            raise InputError(f"seed must be an integer of 0 or more, got {seed!r}")
        return latent_codes(n, self.z_dim, seed, truncation)

    def interpolate(self, seed_a: int, seed_b: int, steps: int, labels: int | Sequence[int] | None = None,
                    n: int = 1, truncation: float | None = None) -> np.ndarray:
        """``n`` walks of ``steps`` images, uint8 n x steps x H x W x C: walk i goes from code i
        of ``seed_a`` to code i of ``seed_b`` along the great circle, both ends included (they
        are those seeds' own images). ``labels`` as in :meth:`sample`, one per walk."""
        self._check_walks(n, steps)
        start, end = self.codes(n, seed_a, truncation), self.codes(n, seed_b, truncation)
        row_labels = self._labels(n, labels)
        return self._walk(start, end, row_labels, row_labels, steps)

    def interpolate_labels(self, label_a: int, label_b: int, steps: int, seed: int = 0, n: int = 1,
                           truncation: float | None = None, to_seed: int | None = None) -> np.ndarray:
        """cDCGAN: ``n`` walks of ``steps`` images, uint8 n x steps x H x W x C: walk i keeps
        code i of ``seed`` and moves its class weights from one-hot ``label_a`` to one-hot
        ``label_b`` in equal steps, both ends included. With ``to_seed`` the code walks too, to
        code i of ``to_seed`` (as :meth:`interpolate`), both walks in step."""
        if not self.classes:
            raise InputError(f"interpolate_labels needs a conditional model; {self.path} is unconditional "
                             f"({self.info.family}): use interpolate")
        self._check_walks(n, steps)
        start = self.codes(n, seed, truncation)
        end = start if to_seed is None else self.codes(n, to_seed, truncation)
        return self._walk(start, end, self._labels(n, label_a), self._labels(n, label_b), steps)

    def _check_walks(self, rows: int, steps: int) -> None:
        """Before any code is drawn: ``rows`` walks of ``steps`` images fit ``max_samples``."""
        _check_count("n", rows)
        check_steps(steps)
        if rows * steps > self.max_samples:
            raise InputError(f"{rows} walks of {steps} steps exceed max_samples={self.max_samples} per call: "
                             "walk fewer rows or steps")

    def _walk(self, start: np.ndarray, end: np.ndarray, first: np.ndarray | None, last: np.ndarray | None,
              steps: int) -> np.ndarray:
        rows = len(start)
        weights = None if first is None else label_walk(first, last, len(self.classes), steps)
        images = self.generate(code_walk(start, end, steps), weights)
        return images.reshape(rows, steps, *images.shape[1:])

    def generate(self, z: np.ndarray, labels: Labels = None,
                 batch_size: int = 256) -> np.ndarray:
        """Images for given latent codes (N x z_dim), e.g. points between two seeds' codes.
        ``labels`` as in :meth:`sample`, or float class weights N x classes (e.g.
        :func:`translate.latent.label_walk`)."""
        _check_count("batch_size", batch_size)
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] != self.z_dim or not np.issubdtype(z.dtype, np.floating):
            raise InputError(f"z must be a float array of shape N x {self.z_dim}, got {z.dtype} {z.shape}")
        if not np.isfinite(z).all():
            raise InputError("z holds NaN or infinite values")
        n = len(z)
        z = z.astype(np.float32, copy=False)
        label_feed = self._label_feed(n, labels)
        out = None  # filled batch by batch: no list of batches and a concatenated copy side by side
        for start in range(0, n, batch_size):
            feeds = {"z": z[start : start + batch_size]}
            if label_feed is not None:
                feeds["label"] = label_feed[start : start + batch_size]
            batch = to_pixels(_finite(run_session(self.session, feeds, self.path), self.path, self.info.precision))
            if out is None:
                out = np.empty((n, *batch.shape[1:]), batch.dtype)
            out[start : start + len(batch)] = batch
        return out

    def _label_feed(self, n: int, labels: Labels) -> np.ndarray | None:
        """What the file's ``label`` input takes for ``n`` images: class weights (class indices
        become one-hot rows), or class indices for files that take those."""
        if isinstance(labels, (list, tuple)) and labels and isinstance(labels[0], (list, tuple, np.ndarray)):
            try:  # class weights given as rows of numbers, as the docs allow
                labels = np.asarray(labels, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError("class weights must be rows of numbers, one row of len(classes) per image") from None
        if isinstance(labels, np.ndarray) and labels.ndim == 2 and np.issubdtype(labels.dtype, np.floating):
            return self._weights_feed(n, labels)
        indices = self._labels(n, labels)
        if indices is None or self._takes_indices:
            return indices
        return np.eye(len(self.classes), dtype=np.float32)[indices]

    def _weights_feed(self, n: int, weights: np.ndarray) -> np.ndarray:
        n_classes = len(self.classes)
        if not n_classes:
            raise InputError(f"class weights were given, but this model is unconditional ({self.info.family})")
        if weights.shape != (n, n_classes) or not np.isfinite(weights).all():
            raise InputError(f"class weights must be finite, of shape {n} x {n_classes}, got shape {weights.shape}")
        if not self._takes_indices:
            return weights.astype(np.float32)
        if not (np.isin(weights, (0.0, 1.0)).all() and (weights.sum(axis=1) == 1).all()):
            raise InputError(f"{self.path} takes class indices only (exported before walks between labels): "
                             "re-export it with python -m translate.export to give it class weights")
        return weights.argmax(axis=1).astype(np.int64)

    def _labels(self, n: int, labels: int | Sequence[int] | None) -> np.ndarray | None:
        n_classes = len(self.classes)
        if not n_classes:
            if labels is not None:
                raise InputError(f"labels were given, but this model is unconditional ({self.info.family})")
            return None
        if labels is None:
            return np.arange(n, dtype=np.int64) % n_classes
        try:
            array = np.asarray(labels)
        except (TypeError, ValueError, OverflowError):  # ragged lists, integers beyond 64 bits
            array = np.asarray(None)
        array = np.broadcast_to(array, (n,)) if array.ndim == 0 else array
        if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
            raise InputError(f"labels must be one integer or {n} integers, got {labels!r}")
        if array.min() < 0 or array.max() >= n_classes:
            raise InputError(f"labels must lie in 0..{n_classes - 1} ({', '.join(self.classes)})")
        return array.astype(np.int64)


class Translator:
    """Translates images of any size with an exported translation generator (CycleGAN, CUT, pix2pix).

    Inputs above ``max_pixels`` are refused rather than tiled: instance normalisation
    makes each tile's colours depend on its own statistics, so tiles would show seams.
    """

    def __init__(self, path: str | os.PathLike, device: str = "cpu", threads: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, *, opened: tuple | None = None):
        self.path = Path(path)
        self.session, self.info = opened or open_session(path, "translate", device, threads)
        _expect_inputs(self.session, ["image"], self.path)
        _expect_channels(self.session, self.info.channels, self.path)
        self.input_name = "image"
        _check_count("max_pixels", max_pixels)
        self.max_pixels = max_pixels

    def translate(self, image: np.ndarray) -> np.ndarray:
        """uint8 H x W (x 1, 3 or 4) RGB(A) or grey -> uint8 H x W x C, same size, C the model's
        channels (3: RGB; 1: grey)."""
        return self.translate_batch([image])[0]

    def translate_file(self, path: str | os.PathLike) -> np.ndarray:
        """Decode (upright, in the model's channels) and translate an image file; one above
        ``max_pixels`` is refused from its header, before it is decoded."""
        return self.translate(read_image(path, self.info.channels, max_pixels=self.max_pixels))

    def translate_batch(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """Translate many images. Every image is checked before any runs; those of the same
        padded size then run together, at most ``batch_size`` images and ``max_pixels`` padded
        pixels at a time, each prepared just before its run (memory follows one run, not the list)."""
        if isinstance(images, np.ndarray):  # iterating it would take each row for an image
            raise InputError("translate_batch takes a list of images: use translate for a single array")
        _check_count("batch_size", batch_size)
        images = list(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            try:
                size = self._padded_size(image)
            except InputError as exc:
                raise (InputError(f"image {index} of {len(images)}: {exc}") if len(images) > 1 else exc) from None
            by_size.setdefault(size, []).append(index)
        results: list[np.ndarray | None] = [None] * len(images)
        for (height, width), indices in by_size.items():
            per_run = max(1, min(batch_size, self.max_pixels // (height * width)))
            for start in range(0, len(indices), per_run):
                chunk = indices[start : start + per_run]
                prepared = [self._prepare(images[i]) for i in chunk]
                batch = np.stack([padded for padded, _ in prepared])
                out = to_pixels(self._checked_output(run_session(self.session, {self.input_name: batch}, self.path),
                                                     batch.shape))
                for i, translated, (_, (top, left, h, w)) in zip(chunk, out, prepared, strict=True):
                    results[i] = translated[top : top + h, left : left + w].copy()  # its own, not a view of the batch
        return results  # type: ignore[return-value]

    def _checked_output(self, out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """The graph's output, if it keeps the metadata's promise: a batch of the input's size
        and the model's channels (a graph that breaks it would give wrong arrays, not an error)."""
        expected = (shape[0], self.info.channels, *shape[2:])
        if out.shape != expected or not np.issubdtype(out.dtype, np.floating):
            raise ModelFileError(f"{self.path} returned {out.dtype} {tuple(out.shape)} for an input of shape "
                                 f"{tuple(shape)}, where its metadata promises float {expected}: re-export it")
        return _finite(out, self.path, self.info.precision)

    def _padded_size(self, image: np.ndarray) -> tuple[int, int]:
        """Check an image and return the (height, width) the model sees after padding, refusing
        one whose padded size exceeds ``max_pixels`` (padding a 1 x N strip to the model's
        minimum side can multiply its pixels many times)."""
        _check_image(image)
        return check_padded_size(*image.shape[:2], self.info.pad_multiple, self.info.min_size, self.max_pixels)

    def _prepare(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """Convert an image :meth:`_padded_size` has checked to the model's channels, pad to its
        multiple, scale to [-1, 1], CHW; with the (top, left, height, width) window to crop the
        output back to."""
        height, width = image.shape[:2]
        converted = convert_channels(image, self.info.channels)
        padded, (top, left) = pad_to_multiple(converted, self.info.pad_multiple, self.info.min_size)
        return to_unit(padded)[0], (top, left, height, width)


def _finite(out: np.ndarray, path: Path, precision: str) -> np.ndarray:
    """The graph's output if every value is finite: NaN would otherwise become black pixels."""
    if not np.isfinite(out).all():
        fix = ("its fp16 arithmetic overflowed: re-export it with --fp16-weights (fp32 arithmetic) or in fp32"
               if precision == "fp16" else "re-export it with python -m translate.export")
        raise ModelFileError(f"{path} returned NaN or infinite values: {fix}")
    return out


def _check_image(image: object) -> None:
    """Refuse what is not a uint8 H x W (x 1, 3 or 4) array with pixels, saying how to make one
    of what was passed: the usual slips are a file path, a float image in 0..1, 16-bit pixels,
    a channels-first array and a batch."""
    if isinstance(image, (str, os.PathLike)):
        raise InputError(f"an image must be a numpy array, got the path {str(image)!r}: use translate_file for a file")
    if not isinstance(image, np.ndarray):
        raise InputError(f"an image must be a numpy array, got {type(image).__name__}: "
                         "np.asarray(image.convert('RGB')) makes one of a PIL image, np.asarray(rows, np.uint8) "
                         "of nested lists")
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating):
            fix = "for values in 0..1, (image * 255).round().astype(np.uint8)"
        elif image.dtype == np.uint16:
            fix = "for 16-bit pixels, (image // 257).astype(np.uint8)"
        else:
            fix = "np.clip(image, 0, 255).astype(np.uint8) for values in 0..255"
        raise InputError(f"an image must be uint8 (0..255), got {image.dtype}: convert it first, e.g. {fix}")
    if image.ndim == 4 and image.shape[3] in (1, 3, 4):
        raise InputError(f"an image must be H x W or H x W x 1/3/4, got shape {image.shape}, a batch: "
                         "translate_batch(list(images)) translates each")
    if image.ndim == 3 and image.shape[0] in (1, 3, 4) and image.shape[2] not in (1, 3, 4):
        raise InputError(f"an image must be H x W or H x W x 1/3/4, got shape {image.shape}, channels first: "
                         "image.transpose(1, 2, 0) puts them last")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise InputError(f"an image must be H x W or H x W x 1/3/4, got shape {image.shape}")
    if not image.shape[0] or not image.shape[1]:
        raise InputError(f"an image must have pixels, got shape {image.shape}")


def _expect_inputs(session: ort.InferenceSession, expected: list[str], path: Path) -> None:
    names = [i.name for i in session.get_inputs()]
    if names != expected:
        raise ModelFileError(f"{path} has inputs {names}, expected {expected}: re-export it")


def _expect_last_dim(session: ort.InferenceSession, name: str, size: int, key: str, path: Path) -> None:
    """The graph's static size of input ``name``'s last axis must be what the metadata says."""
    shape = next(i.shape for i in session.get_inputs() if i.name == name)
    if shape and isinstance(shape[-1], int) and shape[-1] != size:
        raise ModelFileError(f"{path} says {key} {size} but its graph takes {shape[-1]}: re-export it")


def _expect_channels(session: ort.InferenceSession, channels: int, path: Path) -> None:
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != channels):
        raise ModelFileError(f"{path} says {channels} channels but its graph takes input {shape}: re-export it")


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_count(name: str, value: object) -> None:
    if not _is_integer(value) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
