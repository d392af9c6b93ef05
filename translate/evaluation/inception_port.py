"""The FID Inception network rebuilt as plain PyTorch modules, for running it fast.

The TorchScript file (``inception-2015-12-05-fid.pt``, the TensorFlow graph ported by
NVIDIA for StyleGAN2-ADA) computes every layer as conv, then batch norm, then ReLU, and
makes each branch's output contiguous before concatenating. Run as it is in bf16 on a CPU,
a third of the time goes to casts and layout copies and another fifth to the batch norms.
Here each batch norm is folded into its convolution (in float64: ``w / sqrt(var + eps)``
and ``beta - mean / sqrt(var + eps)``), the branches stay channels-last, and the whole
network can be cast to bf16. The pooling layers become ``nn.MaxPool2d`` / ``nn.AvgPool2d``
with the arguments of the file's own calls, so the port is plain modules throughout and can
be exported to ONNX (:mod:`translate.evaluation.inception_onnx`). In fp32 the port returns
the file's features to within float rounding (``tests/test_inception_port.py``).
"""

from __future__ import annotations

import re
from collections import OrderedDict

import torch
from torch import nn

from translate.errors import ConfigError

BN_EPS = 0.001  # the file's batch_norm(..., eps=0.001)
POOLS = ("MaxPool2d", "AvgPool2d")
# The file's pools are one functional call each with constant arguments, e.g.
# ``_0 = __torch__.torch.nn.functional._max_pool2d`` then ``_0(input, [3, 3], [2, 2], [0, 0], [1, 1], False, False, )``,
# or ``torch.avg_pool2d(input, [3, 3], [1, 1], [1, 1], False, False)``.
POOL_CALL = re.compile(r"\(input, \[(\d+), \d+\], \[(\d+), \d+\], \[(\d+), \d+\]"
                       r"(?:, \[(\d+), \d+\])?(?:, (True|False))?(?:, (True|False))?")
BRANCHES = ("InceptionA", "InceptionB", "InceptionC", "InceptionD")


class FoldedConv(nn.Module):
    """Conv2d + batch norm (no scale) + ReLU of the file, as one biased convolution and a ReLU."""

    def __init__(self, layer: torch.jit.ScriptModule):
        super().__init__()
        weight = layer.weight.detach().double()
        inv_std = (layer.var.detach().double() + BN_EPS).rsqrt()
        padding = layer.padding if isinstance(layer.padding, int) else tuple(layer.padding)
        self.conv = nn.Conv2d(weight.shape[1], weight.shape[0], tuple(weight.shape[2:]), stride=layer.stride,
                              padding=padding, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(weight * inv_std[:, None, None, None])
            self.conv.bias.copy_(layer.beta.detach().double() - layer.mean.detach().double() * inv_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


class Branches(nn.Module):
    """Inception blocks A to D: every branch reads the input; the outputs are concatenated in
    the file's order, which is the order its branches were registered in."""

    def __init__(self, branches: OrderedDict[str, nn.Module]):
        super().__init__()
        self.branches = nn.ModuleDict(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches.values()], 1)


class BlockE(nn.Module):
    """Inception block E: two of its branches split in two (1 x 3 and 3 x 1) before the concatenation."""

    def __init__(self, parts: OrderedDict[str, nn.Module]):
        super().__init__()
        self.parts = nn.ModuleDict(parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.parts
        a = p["tower_conv"](x)
        b = p["tower_1_conv_1"](p["tower_1_conv"](x))
        return torch.cat([p["conv"](x), p["tower_mixed_conv"](a), p["tower_mixed_conv_1"](a),
                          p["tower_1_mixed_conv"](b), p["tower_1_mixed_conv_1"](b),
                          p["tower_2_conv"](p["tower_2_pool"](x))], 1)


class PortedInception(nn.Module):
    """N x 3 x 299 x 299 input, (x - 128) / 128 scaled, to N x 2048 pool3 features."""

    def __init__(self, layers: nn.Module):
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).flatten(1)


def port(scripted: torch.jit.ScriptModule) -> PortedInception:
    """The plain-module copy of the FID TorchScript file (WrapNet > InceptionV3 > layers)."""
    try:
        layers = scripted.net.layers
    except AttributeError:
        raise ConfigError("this TorchScript file is not the FID Inception network (no net.layers): "
                          "use inception-2015-12-05-fid.pt") from None
    return PortedInception(_port(layers, "net.layers"))


def _port(module: torch.jit.ScriptModule, name: str) -> nn.Module:
    kind = module.original_name
    children = OrderedDict((child, _port(sub, f"{name}.{child}")) for child, sub in module.named_children())
    if kind == "Conv2dLayer":
        return FoldedConv(module)
    if kind in POOLS:
        return _pool(module, name)
    if kind == "Sequential":
        return nn.Sequential(children)
    if kind in BRANCHES:
        return Branches(children)
    if kind == "InceptionE":
        return BlockE(children)
    raise ConfigError(f"unexpected layer {name} ({kind}) in the FID Inception file: use "
                      "inception-2015-12-05-fid.pt")


def _pool(module: torch.jit.ScriptModule, name: str) -> nn.Module:
    """The plain module that makes the same call as the file's pooling module."""
    call = POOL_CALL.search(module.code)
    if call is None:
        raise ConfigError(f"unexpected pooling {name} in the FID Inception file: use "
                          "inception-2015-12-05-fid.pt")
    kernel, stride, padding, dilation, ceil_mode, flag = call.groups()
    if "max_pool2d" in module.code:  # max_pool2d(input, kernel, stride, padding, dilation, ceil_mode, return_indices)
        return nn.MaxPool2d(int(kernel), int(stride), int(padding), int(dilation), ceil_mode=ceil_mode == "True")
    # avg_pool2d(input, kernel, stride, padding, ceil_mode=False, count_include_pad=True)
    return nn.AvgPool2d(int(kernel), int(stride), int(padding), ceil_mode=ceil_mode == "True",
                        count_include_pad=flag != "False")
