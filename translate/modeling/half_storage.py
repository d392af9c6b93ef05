"""Weights stored in fp16 and computed with in fp32: half of what every clone of the
repository downloads for a shipped model, and no change to the arithmetic.

A model folder packed with ``--fp16`` and an ONNX file exported with ``--fp16-weights``
hold the same numbers: each fp32 weight rounded to the nearest fp16 value. Loading widens
them back to fp32 (``load_state_dict`` copies into the fp32 modules; ONNX Runtime folds the
file's Cast nodes when it opens it), so only the rounding separates such a model from its
fp32 original, and the FID says whether that matters (see the model cards).
"""

from __future__ import annotations

import torch
from torch import nn

from translate.errors import ConfigError

FP16_STORAGE = "fp16, computed with in fp32"  # a packed folder's header says so of its weights
FP16_MAX = torch.finfo(torch.float16).max  # 65504


def to_fp16(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """An fp32 ``tensor`` as fp16 (other dtypes, such as step counters, as they are); an error
    naming it if a value lies beyond fp16's range, where rounding would make it infinite."""
    if tensor.dtype != torch.float32:
        return tensor
    largest = float(tensor.abs().max()) if tensor.numel() else 0.0
    if largest > FP16_MAX:
        raise ConfigError(f"{name} holds a value of {largest:.4g}, beyond fp16's ±{FP16_MAX:.0f}: keep this model's "
                          "weights in fp32 (leave out --fp16 / --fp16-weights)")
    return tensor.half()


def round_to_fp16(module: nn.Module) -> None:
    """Round ``module``'s fp32 parameters and buffers to the nearest fp16 values, in place and
    still fp32: the numbers a file with fp16 weights computes with."""
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if tensor.dtype == torch.float32:
                tensor.copy_(to_fp16(name, tensor).float())


def holds_fp16_values(module: nn.Module) -> bool:
    """Whether every fp32 parameter and buffer of ``module`` is an fp16 number already, so that
    storing it in fp16 changes nothing it computes (a model folder packed with ``--fp16``)."""
    with torch.no_grad():
        return all(torch.equal(tensor, tensor.half().float())
                   for tensor in [*module.parameters(), *module.buffers()] if tensor.dtype == torch.float32)
