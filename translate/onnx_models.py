"""Models as the command lines use them, whatever they are read from: ``apply``'s translator
(:class:`ImageModel`) and ``sample``'s drawer (:class:`Drawer`), and both made from an ONNX file
through :mod:`translate.runtime`. Torch-free: the base install runs them
(:mod:`translate.checkpoint_models` makes them from checkpoints, with PyTorch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from translate.errors import ConfigError
from translate.io.grids import grid_columns
from translate.latent import check_label
from translate.runtime import Sampler, Translator, open_session


def is_onnx_file(model: str) -> bool:
    """Whether a command's model argument names an exported file (else a run, checkpoint or model folder)."""
    return Path(model).suffix.lower() == ".onnx" and not Path(model).is_dir()


@dataclass(frozen=True)
class ImageModel:
    """``translate`` takes a uint8 H x W x ``channels`` image and returns its translation, same size."""

    source: str  # the file or checkpoint, as the output folder's record names it
    direction: str  # AtoB or BtoA
    domains: tuple[str, str]  # (from, to)
    channels: int
    translate: Callable[[np.ndarray], np.ndarray]


class Drawer(Protocol):
    """What ``sample`` draws from: a grid of ``n`` images (uint8 N x H x W x C, with the columns
    it shows them in by default and those columns' titles, if they have any), or ``rows`` walks
    of ``steps`` images, one walk after another."""

    task: str  # "sample" (images from codes) or "translate" (test images and their translations)
    grid_count: int  # images, or rows of translations, drawn without --n

    def draw(self, n: int, label: int | None, seed: int, data: str | None,
             truncation: float | None) -> tuple[np.ndarray, int, list[str]]: ...

    def walk(self, rows: int, steps: int, seeds: tuple[int, int], label: int | None,
             labels: tuple[int, int] | None, truncation: float | None) -> np.ndarray: ...


def onnx_device(gpu: bool) -> str:
    """The runtime's device for ``--gpu``, refused at once where this onnxruntime has no CUDA."""
    if gpu and "CUDAExecutionProvider" not in ort.get_available_providers():
        raise ConfigError("--gpu was given, but this onnxruntime runs on the CPU only: install onnxruntime-gpu, "
                          "or leave out --gpu")
    return "cuda" if gpu else "cpu"


def onnx_model(path: Path, direction: str | None, gpu: bool, precision: str | None,
               max_pixels: int) -> ImageModel:
    """An exported translation file, run by ONNX Runtime: one direction, in the precision it was
    exported in, so ``--direction`` may only name its own and ``--precision`` does not apply."""
    opened = open_session(path, None, onnx_device(gpu))
    info = opened[1]
    if info.task != "translate":
        raise ConfigError(f"{path} holds a {info.family} model, which draws images rather than translating them: "
                          "draw with translate.runtime.Sampler, or python -m translate.sample on this file")
    if direction is not None and not info.direction:
        raise ConfigError(f"{path} records no direction (exported by an earlier toolkit): leave --direction out, "
                          "or export it again with python -m translate.export")
    if direction is not None and direction != info.direction:
        raise ConfigError(f"{path} translates {info.direction} only ({info.source_domain} -> {info.target_domain}): "
                          f"for {info.target_domain} -> {info.source_domain}, pass a file that translates that way (a "
                          f"two-way model's exported with --direction {direction}, or a model trained that way)")
    if precision is not None:
        raise ConfigError(f"--precision applies to a checkpoint or model folder; {path} runs in the precision it "
                          f"was exported in ({info.precision}): leave --precision out")
    translator = Translator(path, max_pixels=max_pixels, opened=opened)
    return ImageModel(str(path), info.direction, (info.source_domain, info.target_domain), info.channels,
                      translator.translate)


class OnnxDrawer:
    """A digit model's exported file, drawn from as its checkpoint is: the same codes for a seed
    (:mod:`translate.latent`), so the same images to within a grey level."""

    task = "sample"
    grid_count = 64

    def __init__(self, path: Path, gpu: bool):
        opened = open_session(path, None, onnx_device(gpu))
        if opened[1].task != "sample":
            raise ConfigError(f"{path} translates images one way: translate photos with python -m translate.apply "
                              f"{path} --input PHOTOS --output FOLDER; a grid of test images and their translations "
                              "needs the model folder it was exported from")
        self.sampler = Sampler(path, opened=opened)

    def draw(self, n: int, label: int | None, seed: int, data: str | None,
             truncation: float | None) -> tuple[np.ndarray, int, list[str]]:
        check_label(len(self.sampler.classes), label)
        images = self.sampler.sample(n, labels=label, seed=seed, truncation=truncation)
        return images, grid_columns(n, bool(self.sampler.classes), label), []

    def walk(self, rows: int, steps: int, seeds: tuple[int, int], label: int | None,
             labels: tuple[int, int] | None, truncation: float | None) -> np.ndarray:
        check_label(len(self.sampler.classes), label)
        for end in labels or ():
            check_label(len(self.sampler.classes), end, "--interpolate-labels")
        if labels:
            walks = self.sampler.interpolate_labels(*labels, steps, seed=seeds[0], n=rows, truncation=truncation,
                                                    to_seed=seeds[1])  # --interpolate's too, if given
        else:
            walks = self.sampler.interpolate(*seeds, steps, labels=label, n=rows, truncation=truncation)
        return walks.reshape(-1, *walks.shape[2:])
