"""A model as ``translate.apply`` uses it, whether an ONNX file or a checkpoint: what it
translates, into what, and the function that does it. Torch-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from translate.errors import ConfigError
from translate.runtime import Translator, open_session


@dataclass(frozen=True)
class ImageModel:
    """``translate`` takes a uint8 H x W x ``channels`` image and returns its translation, same size."""

    source: str  # the file or checkpoint, as the output folder's record names it
    direction: str  # AtoB or BtoA
    domains: tuple[str, str]  # (from, to)
    channels: int
    translate: Callable[[np.ndarray], np.ndarray]


def onnx_model(path: Path, direction: str | None, gpu: bool, precision: str | None,
               max_pixels: int) -> ImageModel:
    """An exported translation file, run by ONNX Runtime: one direction, in the precision it was
    exported in, so ``--direction`` may only name its own and ``--precision`` does not apply."""
    if gpu and "CUDAExecutionProvider" not in ort.get_available_providers():
        raise ConfigError("--gpu was given, but this onnxruntime runs on the CPU only: install onnxruntime-gpu, "
                          "or leave out --gpu")
    opened = open_session(path, None, "cuda" if gpu else "cpu")
    info = opened[1]
    if info.task != "translate":
        raise ConfigError(f"{path} holds a {info.family} model, which draws images rather than translating them: "
                          "draw with translate.runtime.Sampler, or python -m translate.sample on the model folder it "
                          "was exported from")
    if direction is not None and direction != info.direction:
        raise ConfigError(f"{path} translates {info.direction} only ({info.source_domain} -> {info.target_domain}): "
                          f"for {direction}, pass the file exported with --direction {direction}")
    if precision is not None:
        raise ConfigError(f"--precision applies to a checkpoint or model folder; {path} runs in the precision it "
                          f"was exported in ({info.precision}): leave --precision out")
    translator = Translator(path, max_pixels=max_pixels, opened=opened)
    return ImageModel(str(path), info.direction, (info.source_domain, info.target_domain), info.channels,
                      translator.translate)
