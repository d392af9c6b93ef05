"""Every ONNX file we ship in ``exports/`` was made from the weights we ship in ``models/``
(its metadata names the folder and the weights' sha256) and still computes what they compute:
ONNX Runtime against PyTorch on the family's own check inputs, at the export's tolerance."""

from __future__ import annotations

import onnx
import pytest

from translate.families import get_family
from translate.io.fileio import file_sha256
from translate.modeling.checkpoint import WEIGHTS, read_checkpoint
from translate.onnx_export import FP16_TOLERANCE, FP32_TOLERANCE, check_onnx_file

from .conftest import REPO

EXPORTS = sorted((REPO / "exports").glob("*.onnx"))


@pytest.mark.parametrize("export", EXPORTS, ids=[export.name for export in EXPORTS])
def test_a_shipped_export_computes_what_its_shipped_weights_compute(export):
    meta = {prop.key: prop.value for prop in onnx.load(str(export), load_external_data=False).metadata_props}
    source = REPO / meta["translate.source"]
    assert source.parent == REPO / "models", f"{export.name} was exported from {source}, not a shipped model"
    assert meta["translate.source_sha256"] == file_sha256(source / WEIGHTS), (
        f"{source} changed since {export.name} was exported from it: export it again")
    checkpoint = read_checkpoint(source)
    plan = get_family(checkpoint.family).export_plan(checkpoint, meta.get("translate.direction") or None)
    tolerance = FP16_TOLERANCE if meta["translate.precision"] == "fp16" else FP32_TOLERANCE
    assert check_onnx_file(plan, export, tolerance) <= tolerance
