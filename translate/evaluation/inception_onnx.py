"""The FID network run by ONNX Runtime: how the toolkit scores in fp32 on a CPU.

PyTorch's eager convolutions are not the fastest CPU path for this network. Exported to
ONNX and run by ONNX Runtime (its blocked-layout convolutions, with the ReLUs fused), the
folded port of :mod:`translate.evaluation.inception_port` needs about half the CPU time per
image that eager PyTorch needs (3.32 against 6.48 CPU seconds per batch of 50 on the 2-core
AMD EPYC), and returns the same features to within float rounding
(``tests/test_inception_port.py``; bench/results/evaluate-speed-*.md has the figures). The
export happens in memory each time a scorer is built (a few seconds), so nothing is cached
on disk and a new torch or ONNX Runtime never meets a stale file.
"""

from __future__ import annotations

import io

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from translate.onnx_export import trace_to_onnx

INPUT, OUTPUT = "images", "pool3"


class OnnxInception:
    """Callable like the port: (x - 128) / 128 scaled float32 N x 3 x 299 x 299 in, N x 2048 out."""

    def __init__(self, ported: nn.Module, threads: int | None = None):
        buffer = io.BytesIO()
        example = torch.zeros(1, 3, 299, 299)
        with torch.inference_mode(False), torch.no_grad():
            trace_to_onnx(ported.float().eval(), (example,), buffer, [INPUT], [OUTPUT],
                          {INPUT: {0: "n"}, OUTPUT: {0: "n"}})
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()  # as many as torch was allowed
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initialisers say nothing to a user
        self._session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pixels = np.ascontiguousarray(x.detach().float().cpu().numpy())
        return torch.from_numpy(self._session.run([OUTPUT], {INPUT: pixels})[0])
