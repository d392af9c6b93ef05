"""Sizes nobody bounded and values nobody checked: each is now a one-line error, raised
before anything large is allocated or any step is taken."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from translate.errors import ConfigError, ModelFileError
from translate.evaluate import main as evaluate_main
from translate.export import main as export_main
from translate.pack import main as pack_main
from translate.runtime import Sampler, Translator
from translate.sample import main as sample_main
from translate.train import main as train_main

from .cli_errors import one_line_error
from .exporting import TINY, trained_run
from .memory import peak_rss_kb, reset_peak_rss


def _edit(run, section, **changes):
    config_file = next((run / "checkpoints").glob("step-*")) / "config.json"
    config = json.loads(config_file.read_text())
    config[section].update(changes)
    config_file.write_text(json.dumps(config))
    return config_file


@pytest.mark.parametrize(("family", "changes", "message"), [
    ("cdcgan", {"ngf": 10000}, "ngf 10000 is outside 1..1024"),
    ("cdcgan", {"z_dim": 10**9}, "z_dim 1000000000 is outside 1..4096"),
    ("cyclegan", {"n_blocks": 1_000_000}, "n_blocks 1000000 is outside 1..64"),
    ("cyclegan", {"ngf": 4}, "has shape"),  # in bounds, but not the saved weights' shapes
])
def test_an_edited_architecture_is_refused_before_it_is_built(tmp_path, capsys, family, changes, message):
    run = trained_run(tmp_path, family, steps=1)
    config_file = _edit(run, "model", **changes)
    reset_peak_rss()
    before = peak_rss_kb()
    command = sample_main if family == "cdcgan" else export_main
    error = one_line_error(capsys, command, str(run), "--out", str(tmp_path / ("x.png" if family == "cdcgan"
                                                                                else "x.onnx")))
    assert message in error and str(config_file.parent) in error  # the checkpoint it comes from
    assert peak_rss_kb() - before < 500_000  # kB: nothing large was allocated (no block-by-block growth)


@pytest.mark.parametrize(("flags", "message"), [
    (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
    (["--lr", "nan"], "--lr must be a positive number, got nan"),
    (["--beta1", "2"], "--beta1 must lie in [0, 1), got 2.0"),
    (["--gp-weight", "nan"], "--gp-weight must be a number of 0 or more, got nan"),
    (["--seed", str(2**64)], "--seed must lie in 0.."),
    (["--seed", "-1"], "--seed must lie in 0.."),
    (["--n-critic", "0"], "--n-critic must be at least 1"),
    (["--z-dim", "0"], "z_dim 0 is outside 1..4096"),
])
def test_flags_no_run_can_use_are_refused_at_start(tmp_path, capsys, flags, message):
    error = one_line_error(capsys, train_main, "dcgan", *TINY, "--out", str(tmp_path / "run"), *flags)
    assert message in error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--lambda-cycle", "-1"], "--lambda-cycle must be a number of 0 or more, got -1.0"),
    (["--lambda-identity", "nan"], "--lambda-identity must be a number of 0 or more, got nan"),
    (["--pool-size", "-1"], "--pool-size must not be negative, got -1"),
])
def test_cyclegan_loss_weights_no_run_can_use_are_refused_at_start(tmp_path, capsys, flags, message):
    error = one_line_error(capsys, train_main, "cyclegan", "--domains", "horse", "zebra", "--out",
                           str(tmp_path / "run"), *flags)
    assert message in error
    assert not (tmp_path / "run").exists()


def test_a_training_state_that_does_not_fit_the_weights_is_refused_at_resume(tmp_path, capsys):
    small, other = trained_run(tmp_path, "dcgan", steps=1), trained_run(tmp_path, "dcgan", 1, ("--ngf", "4"), "other")
    state = next((small / "checkpoints").glob("step-*")) / "state.pt"
    state.write_bytes((next((other / "checkpoints").glob("step-*")) / "state.pt").read_bytes())
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(small), "--resume", "--max-steps", "2")
    assert f"{state} does not fit this run" in error and "optimiser" in error


def test_a_damaged_rng_state_is_refused_at_resume(tmp_path, capsys):
    run = trained_run(tmp_path, "dcgan", steps=1)
    state_file = next((run / "checkpoints").glob("step-*")) / "state.pt"
    state = torch.load(state_file, weights_only=True)
    state["torch_rng"] = torch.zeros(7, dtype=torch.uint8)
    torch.save(state, state_file)
    error = one_line_error(capsys, train_main, "dcgan", "--out", str(run), "--resume", "--max-steps", "2")
    assert f"{state_file} does not fit this run" in error


def _with_metadata(source, path, **changes):
    """A copy of ``source`` with metadata keys changed, or added where it has none."""
    model = onnx.load(str(source))
    values = {prop.key: prop.value for prop in model.metadata_props} | {k: str(v) for k, v in changes.items()}
    onnx.helper.set_model_props(model, values)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(("key", "value", "message"), [
    ("translate.min_size", 30000, "min_size 30000 is outside 1..4096"),
    ("translate.pad_multiple", 100000, "pad_multiple 100000 is outside 1..256"),
    ("translate.channels", 7, "channels 7 is not 1 or 3"),
    ("translate.fid", "nan", "fid nan is not a finite number of at least 0"),
    ("translate.fid", -3, "fid -3.0 is not a finite number of at least 0"),
    ("translate.kid", "inf", "kid inf is not a finite number"),
    ("translate.fid", "good", "has incomplete translate metadata"),
    ("translate.min_size", 10, "min_size 10 is not a multiple of pad_multiple 4"),
    ("translate.value_range", "[0, 1]", r"pixel conventions .*value_range '\[0, 1\]' \(expected '\[-1, 1\]'\)"),
    ("translate.layout", "NHWC", "layout 'NHWC' \\(expected 'NCHW'\\)"),
    ("translate.channel_order", "BGR", "channel_order 'BGR' \\(expected 'RGB'\\)"),
])
def test_onnx_metadata_out_of_bounds_is_a_model_file_error(tmp_path, translator_file, key, value, message):
    path = _with_metadata(translator_file[1], tmp_path / "edited.onnx", **{key: value})
    with pytest.raises(ModelFileError, match=message):
        Translator(path).translate(np.zeros((16, 16, 3), np.uint8))


@pytest.mark.slow
def test_onnx_metadata_that_disagrees_with_the_graph_is_a_model_file_error(tmp_path, onnx_files):
    path = _with_metadata(onnx_files["dcgan"], tmp_path / "edited.onnx", **{"translate.z_dim": 64})
    with pytest.raises(ModelFileError, match="says z_dim 64 but its graph takes 16"):
        Sampler(path)


def test_deeply_nested_onnx_metadata_is_a_model_file_error(tmp_path, onnx_files):
    nested = "[" * 100_000 + "]" * 100_000
    path = _with_metadata(onnx_files["cdcgan"], tmp_path / "nested.onnx", **{"translate.class_names": nested})
    with pytest.raises(ModelFileError, match=f"{path} has translate metadata nested too deeply to read: re-export it"):
        Sampler(path)


@pytest.mark.parametrize("depth", [900, 100_000])
def test_a_deeply_nested_config_is_a_one_line_error_naming_it(tmp_path, capsys, depth):
    run = trained_run(tmp_path, "dcgan", steps=1)
    config_file = next((run / "checkpoints").glob("step-*")) / "config.json"
    config_file.write_text(config_file.read_text().replace('"ngf": 8', '"ngf": ' + "[" * depth + "]" * depth))
    for main, argv in ((sample_main, ["--out", str(tmp_path / "x.png")]), (pack_main, ["--out", str(tmp_path / "m")]),
                       (export_main, ["--out", str(tmp_path / "x.onnx")]), (evaluate_main, ["--n", "2"])):
        error = one_line_error(capsys, main, str(run), *argv)
        assert str(config_file) in error and len(error) < 400, error[:400]


def test_grey_exports_from_before_channel_order_was_grey_still_open(tmp_path, onnx_files):
    legacy = _with_metadata(onnx_files["dcgan"], tmp_path / "legacy.onnx", **{"translate.channel_order": "RGB"})
    assert Sampler(legacy).sample(2).shape[-1] == 1  # the runtime always read these right
    other = _with_metadata(onnx_files["dcgan"], tmp_path / "other.onnx", **{"translate.channel_order": "BGR"})
    with pytest.raises(ModelFileError, match="channel_order 'BGR'"):
        Sampler(other)


def test_a_huge_unet_depth_is_refused_before_two_to_its_power_is_computed():
    from translate.families.pix2pix.nets import Pix2PixConfig

    with pytest.raises(ConfigError, match=r"depth 100000000000 is outside 2\.\.8"):
        Pix2PixConfig(depth=10**11, dataset="edges2zebra").validate()
