"""The FID network rebuilt with folded batch norms returns the file's features: in fp32 to
within float rounding, in bf16 close enough that FID moves by hundredths (the 10,000-digit
and horse ↔ zebra figures are in bench/results/evaluate-speed-*.md)."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from translate.cli import run_cli
from translate.errors import ConfigError
from translate.evaluate import main
from translate.evaluation.inception import InceptionFeatures, _normalise, _to_inception_input, load_fid_file
from translate.evaluation.inception_port import port
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


def test_the_port_in_bf16_stays_within_a_few_percent(fid_file, network_input, file_features):
    ported = port(fid_file).eval().to(torch.bfloat16)
    with torch.inference_mode():
        ours = ported(network_input.bfloat16()).double()
    relative = (ours - file_features).norm(dim=1) / file_features.norm(dim=1)
    assert (relative < 0.05).all(), relative
    assert not torch.equal(ours, file_features)  # bf16 did run


def test_the_extractor_runs_and_keys_its_cache_by_precision(data_root, mnist_test):
    digits = to_unit(mnist_test[0][:3, :, :, None])
    fp32, bf16 = (InceptionFeatures(data_root=data_root, precision=p) for p in ("fp32", "bf16"))
    assert fp32.weights_id != bf16.weights_id and fp32.weights_id.endswith(":fp32")
    a, b = fp32(digits), bf16(digits)
    assert a.dtype == b.dtype == np.float64 and a.shape == b.shape == (3, 2048)
    assert 0 < np.linalg.norm(a - b) < 0.05 * np.linalg.norm(a)
    with pytest.raises(ConfigError, match="fp32 or bf16"):
        InceptionFeatures(data_root=data_root, precision="auto")


def test_a_file_that_is_not_the_fid_network_is_refused_with_the_fix(tmp_path):
    other = tmp_path / "other.pt"
    torch.jit.script(nn.Sequential(nn.Conv2d(3, 8, 3))).save(str(other))
    with pytest.raises(ConfigError, match="not the FID Inception network.*inception-2015-12-05-fid.pt"):
        InceptionFeatures(other)


def test_evaluate_says_which_precision_it_scored_in(tmp_path, digit_folder, capsys):
    for precision in ("fp32", "bf16"):
        run_cli(main, ["--folders", str(digit_folder), str(digit_folder), "--precision", precision])
        assert json.loads(capsys.readouterr().out)["protocol"]["inception_precision"] == precision
