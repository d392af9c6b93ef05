"""The FID network rebuilt with folded batch norms returns the file's features: in fp32 to
within float rounding, by PyTorch and by ONNX Runtime; in bf16 within a few percent, which
moves FID by tenths (the 10,000-digit and horse ↔ zebra figures are in
bench/results/evaluate-speed-*.md)."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.evaluate import main
from translate.evaluation.inception import InceptionFeatures, _normalise, _to_inception_input, load_fid_file
from translate.evaluation.inception_onnx import OnnxInception
from translate.evaluation.inception_port import port
from translate.evaluation.protocols import EvaluationRequest, translate_all
from translate.io.images import list_images, read_image
from translate.modeling.pixels import to_unit


@pytest.fixture(scope="module")
def fid_file(data_root):
    return load_fid_file(data_root / "fid" / "inception-2015-12-05-fid.pt")


@pytest.fixture(scope="module")
def network_input(mnist_test, data_root):
    """Two digits and two horse photos at the network's input, (x - 128) / 128."""
    digits = _to_inception_input(to_unit(mnist_test[0][:2, :, :, None]))
    photos = [read_image(f) for f in list_images(data_root / "horse2zebra" / "testA")[:2]]
    horses = _to_inception_input(to_unit(np.stack(photos)))
    return _normalise(torch.cat([digits, horses]))


@pytest.fixture(scope="module")
def file_features(fid_file, network_input):
    with torch.inference_mode():
        return fid_file(network_input).double()


def test_the_port_in_fp32_returns_the_files_features(fid_file, network_input, file_features):
    ported = port(fid_file).eval()
    with torch.inference_mode():
        ours = ported(network_input).double()
    assert ours.shape == (4, 2048)
    torch.testing.assert_close(ours, file_features, rtol=1e-4, atol=2e-5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in ported.modules())
    assert sum(1 for m in ported.modules() if isinstance(m, nn.Conv2d)) == 94  # every conv of the file, once


def test_the_port_run_by_onnx_runtime_returns_the_files_features(fid_file, network_input, file_features):
    ours = OnnxInception(port(fid_file), threads=1)(network_input.contiguous(memory_format=torch.channels_last))
    assert ours.dtype == torch.float32 and ours.shape == (4, 2048)
    torch.testing.assert_close(ours.double(), file_features, rtol=1e-4, atol=2e-5)


def test_every_pool_of_the_file_is_a_plain_module_with_the_files_arguments(fid_file):
    pools = {name: m for name, m in port(fid_file).named_modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))}
    assert len(pools) == 14 and not any(isinstance(m, torch.jit.ScriptModule) for m in port(fid_file).modules())
    branch_pool = pools["layers.mixed.branches.tower_2.pool"]  # TensorFlow's SAME average pool counts no padding
    assert isinstance(branch_pool, nn.AvgPool2d) and branch_pool.padding == 1 and not branch_pool.count_include_pad
    assert isinstance(pools["layers.mixed_10.parts.tower_2_pool"], nn.MaxPool2d)  # the FID network's max pool here
    assert isinstance(pools["layers.pool2"], nn.AvgPool2d) and pools["layers.pool2"].kernel_size == 8


def test_the_port_in_bf16_stays_within_a_few_percent(fid_file, network_input, file_features):
    ported = port(fid_file).eval().to(torch.bfloat16)
    with torch.inference_mode():
        ours = ported(network_input.bfloat16()).double()
    relative = (ours - file_features).norm(dim=1) / file_features.norm(dim=1)
    assert (relative < 0.05).all(), relative
    assert not torch.equal(ours, file_features)  # bf16 did run


def test_the_extractor_runs_and_keys_its_cache_by_precision_and_runtime(data_root, mnist_test):
    digits = to_unit(mnist_test[0][:3, :, :, None])
    fp32, torch32, bf16 = (InceptionFeatures(data_root=data_root, precision=p, runtime=r)
                           for p, r in (("fp32", "auto"), ("fp32", "torch"), ("bf16", "auto")))
    assert (fp32.runtime, torch32.runtime, bf16.runtime) == ("onnxruntime", "torch", "torch")
    assert len({fp32.weights_id, torch32.weights_id, bf16.weights_id}) == 3
    assert fp32.weights_id.endswith(":fp32:onnxruntime:cpu")
    a, t, b = fp32(digits), torch32(digits), bf16(digits)
    assert a.dtype == b.dtype == np.float64 and a.shape == b.shape == (3, 2048)
    np.testing.assert_allclose(a, t, rtol=1e-4, atol=2e-5)
    assert 0 < np.linalg.norm(a - b) < 0.05 * np.linalg.norm(a)
    with pytest.raises(ConfigError, match="fp32 or bf16"):
        InceptionFeatures(data_root=data_root, precision="auto")
    with pytest.raises(ConfigError, match="fp32 on a CPU only"):
        InceptionFeatures(data_root=data_root, precision="bf16", runtime="onnxruntime")


def test_the_network_runs_without_tf32_and_the_switches_are_put_back(data_root, monkeypatch):
    """On CUDA, cuDNN's default TF32 convolutions would make a scoring recorded as fp32 another
    arithmetic; the switches are global, so they are restored for the training that goes on."""
    extractor = InceptionFeatures(data_root=data_root, precision="fp32", runtime="torch")
    seen = []

    def network(x):
        seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
        return torch.zeros(len(x), 2048)

    monkeypatch.setattr(extractor, "_net", network)
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True  # what a run may have set
    try:
        extractor.pool3(torch.zeros(2, 3, 299, 299))
        assert seen == [(False, False)]
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_the_scored_translations_are_made_without_tf32_too(tmp_path):
    """The protocol says the test images are translated in fp32: on CUDA that needs the switches off."""
    seen = []

    class Recording(nn.Module):
        def forward(self, x):
            seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
            return x

    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        images = [np.zeros((8, 8, 3), np.uint8)] * 2
        translated = translate_all(Recording(), images, 4, 4, EvaluationRequest(data_root=tmp_path), "horses")
        assert len(translated) == 2 and seen == [(False, False)] * 2
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_a_file_that_is_not_the_fid_network_is_refused_with_the_fix(tmp_path):
    other = tmp_path / "other.pt"
    torch.jit.script(nn.Sequential(nn.Conv2d(3, 8, 3))).save(str(other))
    with pytest.raises(ConfigError, match="not the FID Inception network.*inception-2015-12-05-fid.pt"):
        InceptionFeatures(other)


def test_evaluate_says_which_precision_it_scored_in(tmp_path, digit_folder, capsys):
    for precision in ("fp32", "bf16"):
        run_cli(main, ["--folders", str(digit_folder), str(digit_folder), "--precision", precision])
        protocol = json.loads(capsys.readouterr().out)["protocol"]
        assert protocol["inception_precision"] == precision
        assert protocol["inception_runtime"] == {"fp32": "onnxruntime", "bf16": "torch"}[precision]
