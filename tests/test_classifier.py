"""The MNIST classifier: its config, augmentation, training loop, shipped weights and conditional accuracy."""

import json
import re

import pytest
import torch
from torch import nn

from translate.classifier import _model_card, random_shift, save_classifier, train
from translate.errors import CheckpointError, ConfigError, DataError
from translate.evaluation.judge import (
    DEFAULT_CLASSIFIER,
    Classifier,
    ClassifierConfig,
    accuracy,
    conditional_accuracy,
    load_classifier,
)
from translate.modeling.pixels import to_unit


def test_config_round_trips_through_json_and_rejects_unknown_keys():
    config = ClassifierConfig(width=8, norm="layer")
    assert ClassifierConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match="depth"):
        ClassifierConfig.from_dict({"depth": 3})
    with pytest.raises(ConfigError, match=r"width 0 is outside 1\.\.512"):
        ClassifierConfig.from_dict({"width": 0})


def test_classifier_is_built_from_block_units():
    model = Classifier(ClassifierConfig(width=4))
    # Each unit is conv_unit's conv -> batch norm -> ReLU, at the widths and strides of the three stages.
    assert [[type(layer) for layer in unit] for unit in model.features] == [[nn.Conv2d, nn.BatchNorm2d, nn.ReLU]] * 5
    convs = [unit[0] for unit in model.features]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (1, 4, 1), (4, 8, 2), (8, 8, 1), (8, 16, 2), (16, 16, 1)]
    assert not any(c.bias is not None for c in convs)  # batch norm's shift replaces the bias, as in conv_unit
    assert (model.head.in_features, model.head.out_features) == (16, 10)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_random_shift_moves_each_image_by_at_most_the_limit():
    images = torch.full((64, 1, 28, 28), -1.0)
    images[:, 0, 14, 14] = 1.0
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(random_shift(images, 0, generator), images)
    shifted = random_shift(images, 2, generator)
    assert shifted.shape == images.shape
    bright = (shifted == 1.0).nonzero()
    assert len(bright) == 64  # one bright pixel per image, nothing else changed
    assert ((bright[:, 2:] - 14).abs() <= 2).all()
    assert len({tuple(p) for p in bright[:, 2:].tolist()}) > 10  # offsets vary per image


def test_short_training_run_saves_and_reloads(tmp_path, mnist_test):
    images, labels = to_unit(mnist_test[0][:256][..., None]), mnist_test[1][:256]
    model = train(images, labels, ClassifierConfig(width=4), epochs=1, seed=0, batch_size=64)
    save_classifier(model, tmp_path / "clf", "# card\n", {"note": "test"})
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == ["README.md", "config.json", "model.safetensors"]
    reloaded = load_classifier(tmp_path / "clf")
    assert not reloaded.training
    assert torch.equal(reloaded(images[:8]), model(images[:8]))
    card = _model_card("python -m translate.classifier", ClassifierConfig(width=4), 100, 60.0, 120.0, 0.5, (256, 128))
    assert "MNIST train split (256 images)" in card and "on the MNIST test split (128 images)" in card


def test_missing_or_broken_classifier_folder_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="python -m translate.classifier"):
        load_classifier(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="cannot load"):
        load_classifier(tmp_path)


@pytest.fixture(scope="module")
def shipped():
    return load_classifier()


def test_shipped_classifier_is_small_and_documented():
    assert (DEFAULT_CLASSIFIER / "model.safetensors").stat().st_size < 5_000_000
    assert "Test accuracy" in (DEFAULT_CLASSIFIER / "README.md").read_text()


def test_shipped_classifier_reads_real_test_digits(shipped, mnist_test):
    images, labels = to_unit(mnist_test[0][:2000][..., None]), mnist_test[1][:2000]
    assert accuracy(shipped, images, labels) >= 0.99


@pytest.mark.slow
def test_conditional_accuracy_with_true_wrong_resized_and_rgb_images(shipped, mnist_test):
    images, labels = to_unit(mnist_test[0][:500][..., None]), mnist_test[1][:500]
    assert conditional_accuracy(shipped, images, labels) >= 0.98
    assert conditional_accuracy(shipped, images, (labels + 1) % 10) <= 0.02
    rgb = images.expand(-1, 3, -1, -1)
    assert conditional_accuracy(shipped, rgb, labels) == conditional_accuracy(shipped, images, labels)
    larger = nn.functional.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    assert conditional_accuracy(shipped, larger, labels) >= 0.95
    with pytest.raises(ConfigError):
        conditional_accuracy(shipped, images, labels[:10])


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--threads", "0", "--threads: must be a positive integer, got 0"),
    ("--epochs", "-1", "--epochs: must be a positive integer, got -1"), ("--seed", "-3", "--seed must lie")])
def test_the_command_refuses_bad_numbers_before_reading_data(tmp_path, capsys, flag, value, message):
    from translate.classifier import main

    with pytest.raises((SystemExit, ConfigError)) as error:
        main(["--out", str(tmp_path / "clf"), "--data", str(tmp_path / "no-data"), flag, value])
    assert message in (str(error.value) if isinstance(error.value, ConfigError) else capsys.readouterr().err)
    assert not (tmp_path / "clf").exists()


def test_the_command_refuses_to_replace_a_classifier_before_training(tmp_path, capsys):
    from translate.classifier import main

    (tmp_path / "judge").mkdir()
    (tmp_path / "judge" / "model.safetensors").write_bytes(b"weights")
    judge = tmp_path / "judge"
    for out, match in ((judge, "already holds files.*--overwrite"), (judge / "model.safetensors", "is a file")):
        with pytest.raises(ConfigError, match=match):
            main(["--out", str(out), "--data", str(tmp_path / "no-data")])
    assert (tmp_path / "judge" / "model.safetensors").read_bytes() == b"weights"
    # With --overwrite the check passes and the command goes on to read the data (missing here).
    with pytest.raises(DataError, match=f"MNIST not found: .* in {re.escape(str(tmp_path / 'no-data'))}"):
        main(["--out", str(tmp_path / "judge"), "--overwrite", "--data", str(tmp_path / "no-data")])
