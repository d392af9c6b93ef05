import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from safetensors.torch import load_file

from translate import __version__
from translate.cli import run_cli
from translate.errors import CheckpointError, ConfigError
from translate.export import main as export_main
from translate.families import export_model as export
from translate.families import load_generator
from translate.families.dcgan.nets import DCGANConfig, Generator
from translate.modeling.checkpoint import find_checkpoint
from translate.modeling.half_storage import round_to_fp16
from translate.onnx_export import FP16_TOLERANCE, FP32_TOLERANCE, ExportError
from translate.pack import main as pack_main
from translate.runtime import Sampler, Translator
from translate.training.checkpoint import save_checkpoint

from .exporting import trained_run

VARIANTS = {  # runs beside each family's own: NAME -> extra train flags
    "dcgan-fc": ("--fc-width", "24"),
    "dcgan-spectral": ("--g-norm", "spectral"),
    "cyclegan-spectral": ("--norm", "spectral"),
    "dcgan-resize": ("--upsample", "resize"),  # a convolution, then batch norm
}


class TrainedRuns(dict):
    """Tiny runs by family (or variant) name, each trained the first time a test asks for it."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> Path:
        root = self.root / name  # each its own data folder
        root.mkdir()
        self[name] = trained_run(root, name.split("-")[0], extra=VARIANTS.get(name, ()), name=name)
        return self[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> TrainedRuns:
    return TrainedRuns(tmp_path_factory.mktemp("runs"))


def _metadata(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


@pytest.mark.parametrize("name", ["dcgan", "cdcgan", "dcgan-fc"])
@pytest.mark.slow
def test_export_matches_pytorch_and_records_metadata(runs, tmp_path, name):
    family = name.split("-")[0]
    out = tmp_path / f"{name}.onnx"
    report = export(runs[name], out)
    assert report["max_abs_diff"] <= 1e-4 and [s[0] for s in report["checked_shapes"]] == [1, 3, 8]
    meta = _metadata(out)
    weights = find_checkpoint(runs[name]) / "model.safetensors"
    assert meta["translate.source_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert meta["translate.family"] == family and meta["translate.toolkit_version"] == __version__
    assert meta["translate.z_dim"] == "16" and meta["translate.image_size"] == "28"
    assert meta["translate.value_range"] == "[-1, 1]" and meta["translate.precision"] == "fp32"
    expected_classes = [str(d) for d in range(10)] if family == "cdcgan" else []
    assert Sampler(out).classes == expected_classes

    # The runtime on the same noise reproduces PyTorch's images to within one grey level.
    generator, config = load_generator(runs[name])
    assert config.fc_width == (24 if name == "dcgan-fc" else 0)
    z = np.random.default_rng(5).standard_normal((6, 16), dtype=np.float32)
    labels = torch.arange(6) if family == "cdcgan" else None
    with torch.no_grad():
        reference = generator(torch.from_numpy(z), labels).add(1).mul(127.5).round().clamp(0, 255)
    got = Sampler(out).sample(6, seed=5)
    assert np.abs(got[..., 0].astype(int) - reference[:, 0].numpy().astype(int)).max() <= 1


@pytest.mark.parametrize(("direction", "source", "target"), [("AtoB", "horse", "zebra"), ("BtoA", "zebra", "horse")])
def test_cyclegan_export_takes_any_size_and_names_its_direction(runs, tmp_path, direction, source, target):
    out = tmp_path / f"{direction}.onnx"
    report = export(runs["cyclegan"], out, direction=direction)
    assert report["max_abs_diff"] <= 1e-4
    assert report["checked_shapes"] == [(1, 3, 256, 256), (2, 3, 128, 192), (1, 3, 76, 104)]
    meta = _metadata(out)
    assert (meta["translate.direction"], meta["translate.source_domain"], meta["translate.target_domain"]) == (
        direction,
        source,
        target,
    )
    assert meta["translate.pad_multiple"] == "4" and meta["translate.channel_order"] == "RGB"
    graph = onnx.load(str(out)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]


def test_fp16_export_stays_within_its_tolerance(runs, tmp_path):
    report = export(runs["cdcgan"], tmp_path / "half.onnx", precision="fp16")
    assert report["max_abs_diff"] <= FP16_TOLERANCE
    assert _metadata(tmp_path / "half.onnx")["translate.precision"] == "fp16"
    export(runs["cdcgan"], tmp_path / "full.onnx")
    assert (tmp_path / "half.onnx").stat().st_size < 0.6 * (tmp_path / "full.onnx").stat().st_size


def test_fp16_weights_halve_the_file_and_compute_in_fp32(runs, tmp_path):
    """A packed --fp16 model folder and an --fp16-weights export hold the same fp16 numbers, and
    both compute in fp32: the file agrees with PyTorch on them to fp32 precision."""
    model = tmp_path / "model"
    run_cli(pack_main, [str(runs["cyclegan"]), "--out", str(model), "--fp16"])
    stored = load_file(model / "model.safetensors")
    assert {t.dtype for t in stored.values()} == {torch.float16}
    full = load_file(find_checkpoint(runs["cyclegan"]) / "model.safetensors")
    kept = {k: v for k, v in full.items() if k.split(".")[0] in {n.split(".")[0] for n in stored}}
    assert all(torch.equal(stored[k], kept[k].half()) for k in stored) and stored.keys() == kept.keys()

    report = export(model, tmp_path / "half-weights.onnx", precision="fp16-weights")
    assert report["max_abs_diff"] <= 1e-4  # fp32 arithmetic on the same fp16 numbers as PyTorch
    graph = onnx.load(str(tmp_path / "half-weights.onnx")).graph
    assert {i.data_type for i in graph.initializer} <= {onnx.TensorProto.FLOAT16, onnx.TensorProto.INT64}
    meta = _metadata(tmp_path / "half-weights.onnx")
    assert (meta["translate.precision"], meta["translate.weights"]) == ("fp32", "fp16")
    export(runs["cyclegan"], tmp_path / "full.onnx")  # straight from the fp32 run
    weights = {name: sum(len(i.raw_data) for i in onnx.load(str(tmp_path / name)).graph.initializer
                         if i.data_type != onnx.TensorProto.INT64) for name in ("half-weights.onnx", "full.onnx")}
    assert weights["half-weights.onnx"] * 2 == weights["full.onnx"]
    assert (tmp_path / "half-weights.onnx").stat().st_size < 0.6 * (tmp_path / "full.onnx").stat().st_size
    # The same file from the fp32 run: its weights are rounded the same way before the export.
    export(runs["cyclegan"], tmp_path / "from-run.onnx", precision="fp16-weights")
    a, b = onnx.load(str(tmp_path / "half-weights.onnx")).graph, onnx.load(str(tmp_path / "from-run.onnx")).graph
    assert [i.raw_data for i in a.initializer] == [i.raw_data for i in b.initializer]
    photo = np.random.default_rng(0).integers(0, 256, (64, 80, 3), np.uint8)
    half = Translator(tmp_path / "half-weights.onnx").translate(photo)
    fp32 = Translator(tmp_path / "full.onnx").translate(photo)
    assert np.abs(half.astype(int) - fp32.astype(int)).max() <= 3  # only the rounding of the weights differs


@pytest.mark.parametrize("name", ["dcgan-spectral", "cyclegan-spectral"])
def test_a_spectral_norm_generator_exports(runs, tmp_path, name):
    """Spectral norm's power iteration cannot be traced; in eval mode its weight is a constant,
    which the file holds (the export failed on aten::vdot before)."""
    for precision in ("fp32", "fp16-weights"):
        report = export(runs[name], tmp_path / f"{precision}.onnx", precision=precision)
        assert report["max_abs_diff"] <= 1e-4, precision


def test_fp16_weights_keep_a_batch_norm_after_a_convolution(runs, tmp_path):
    """Folding would merge the two into weights that are no fp16 numbers; the file keeps them
    apart, and ONNX Runtime folds them when it opens it."""
    report = export(runs["dcgan-resize"], tmp_path / "half-weights.onnx", precision="fp16-weights")
    assert report["max_abs_diff"] <= 1e-4
    graph = onnx.load(str(tmp_path / "half-weights.onnx")).graph
    assert any(node.op_type == "BatchNormalization" for node in graph.node)
    assert {i.data_type for i in graph.initializer} <= {onnx.TensorProto.FLOAT16, onnx.TensorProto.INT64}


def test_fp16_weights_need_an_opset_that_keeps_weights_out_of_the_inputs(runs, tmp_path):
    with pytest.raises(ExportError, match="--fp16-weights needs opset 9 or later .*: leave --opset out for 17"):
        export(runs["dcgan"], tmp_path / "old.onnx", opset=8, precision="fp16-weights")
    assert not (tmp_path / "old.onnx").exists()


def test_weights_beyond_fp16_range_are_refused_by_name():
    module = torch.nn.Linear(2, 2)
    with torch.no_grad():
        module.weight[0, 1] = 1e5
    with pytest.raises(ConfigError, match=r"weight holds a value of 1e\+05, beyond fp16's ±65504: keep this model"):
        round_to_fp16(module)


def test_a_failed_check_removes_the_file(runs, tmp_path, monkeypatch):
    assert (FP32_TOLERANCE, FP16_TOLERANCE) == (1e-4, 2e-2)  # the bounds docs/onnx.md states
    monkeypatch.setattr("translate.onnx_export.FP32_TOLERANCE", 0.0)
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export(runs["dcgan"], tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []


def test_export_errors(tmp_path, runs, capsys):
    config = DCGANConfig(ngf=8, ndf=8)
    save_checkpoint(tmp_path / "cls", 1, "classifier", config.to_dict(), {}, {"net": Generator(config)}, {})
    with pytest.raises(CheckpointError, match="unknown model family 'classifier'"):
        export(tmp_path / "cls", tmp_path / "x.onnx")
    with pytest.raises(CheckpointError, match="does not exist"):
        export(tmp_path / "missing", tmp_path / "x.onnx")
    with pytest.raises(ConfigError, match="--direction applies to translation models"):
        export(runs["dcgan"], tmp_path / "x.onnx", direction="AtoB")
    with pytest.raises(ConfigError, match="unknown direction 'atob': choose one of AtoB, BtoA"):
        export(runs["cyclegan"], tmp_path / "x.onnx", direction="atob")
    capsys.readouterr()  # the tiny runs' training output
    with pytest.raises(SystemExit) as info:
        run_cli(export_main, [str(tmp_path / "missing"), "--out", str(tmp_path / "x.onnx")])
    assert info.value.code == 2 and capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "x.onnx").exists()


def test_an_opset_is_one_the_exporter_writes_and_its_failures_are_one_line(tmp_path, runs, monkeypatch, capsys):
    from .cli_errors import one_line_error

    for opset in (5, 21):
        error = one_line_error(capsys, export_main, str(runs["dcgan"]), "--out", str(tmp_path / "x.onnx"),
                               "--opset", str(opset))
        assert error == (f"error: opset {opset} is outside the 7 to 20 that the exporter writes: leave --opset out "
                         "for 17")
    run_cli(export_main, [str(runs["dcgan"]), "--out", str(tmp_path / "old.onnx"), "--opset", "11"])
    assert onnx.load(str(tmp_path / "old.onnx")).opset_import[0].version == 11

    def refuses(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::thing' to ONNX opset version 11 is not supported.\nmore")

    monkeypatch.setattr("torch.onnx.export", refuses)
    error = one_line_error(capsys, export_main, str(runs["dcgan"]), "--out", str(tmp_path / "x.onnx"), "--opset", "11")
    assert error == ("error: the export in opset 11 failed (Exporting the operator 'aten::thing' to ONNX opset "
                     "version 11 is not supported.): try the default, --opset 17")
    assert not (tmp_path / "x.onnx").exists()
