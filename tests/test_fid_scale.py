"""The FID network gets the input scale it was trained on, (x - 128) / 128, checked against
figures computed without ``translate`` (``tests/independent_fid.py``: PIL resize, a direct
call of the network on hand-normalised pixels, scipy's sqrtm).

Fed raw 0..255 pixels, the same sets score 248.6 and 411.4: these tests would fail.
"""

import json

import numpy as np
import pytest
import torch

from translate.cli import run_cli
from translate.evaluate import main
from translate.evaluation.inception import InceptionFeatures, cached_features, image_features
from translate.evaluation.scores import fid
from translate.io.images import list_images, read_image

# From `python tests/independent_fid.py` on the shared data (clean-fid's float32 resize, as
# ours: an 8-bit PIL resize gave 30.07 and 235.66, PyTorch's default bicubic 30.0 and 235.5).
ZEBRAS_TEST_VS_TRAIN_200 = 30.121
HORSES_VS_ZEBRAS = 235.824
GREY_128_FEATURE_SUM = 201.3874
GREY_128_FIRST_FEATURES = [0.49267, 0.02835, 0.10597, 0.00815, 0.01984]


@pytest.fixture(scope="module")
def inception():
    return InceptionFeatures()


@pytest.fixture(scope="module")
def zebra_features(inception, data_root):
    return image_features(inception, (read_image(f) for f in list_images(data_root / "horse2zebra" / "testB")))


@pytest.mark.slow
def test_a_grey_image_gives_the_features_of_a_hand_normalised_call(inception, data_root):
    grey = torch.full((1, 3, 64, 64), 128 / 127.5 - 1)  # grey level 128 in [-1, 1]
    ours = inception(grey)[0]
    net = torch.jit.load(str(data_root / "fid" / "inception-2015-12-05-fid.pt"), map_location="cpu").eval()
    with torch.no_grad():
        by_hand = net(torch.zeros(1, 3, 299, 299)).reshape(-1).double().numpy()  # (128 - 128) / 128 = 0
    np.testing.assert_allclose(ours, by_hand, rtol=1e-4, atol=5e-5)  # channels_last convs round differently
    assert ours.sum() == pytest.approx(GREY_128_FEATURE_SUM, rel=1e-4)
    np.testing.assert_allclose(ours[:5], GREY_128_FIRST_FEATURES, atol=2e-5)


@pytest.mark.slow
def test_real_zebras_against_real_zebras_score_the_independent_figure(inception, zebra_features, data_root):
    train = list_images(data_root / "horse2zebra" / "trainB")[:200]
    train_features = image_features(inception, (read_image(f) for f in train), batch_size=25)
    assert fid(zebra_features, train_features) == pytest.approx(ZEBRAS_TEST_VS_TRAIN_200, abs=0.02)


@pytest.mark.slow
def test_horses_against_zebras_score_the_independent_figure(inception, zebra_features, data_root):
    horses = image_features(inception, (read_image(f) for f in list_images(data_root / "horse2zebra" / "testA")))
    assert fid(horses, zebra_features) == pytest.approx(HORSES_VS_ZEBRAS, abs=0.02)


def test_features_cached_before_the_fix_are_never_reused(tmp_path, monkeypatch):
    images = torch.rand(3, 1, 28, 28)

    class Counting:
        weights_id, calls = "fake", 0

        def __call__(self, images, batch_size, progress):
            Counting.calls += 1
            return np.zeros((len(images), 2048))

    cached_features(Counting(), images, "set", tmp_path)
    monkeypatch.setattr("translate.evaluation.inception.FEATURES_VERSION", 1)  # the key before the fix
    cached_features(Counting(), images, "set", tmp_path)
    assert Counting.calls == 2 and len(list(tmp_path.glob("set-*.npy"))) == 2


@pytest.mark.slow
def test_folders_scores_two_folders_and_names_skipped_files(tmp_path, capsys, data_root):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, source in ((a, "testA"), (b, "testB")):
        folder.mkdir()
        for path in list_images(data_root / "horse2zebra" / source)[:3]:
            (folder / path.name).write_bytes(path.read_bytes())
    (b / "notes.jpg").write_text("not an image")
    run_cli(main, ["--folders", str(a), str(b), "--batch-size", "2"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["protocol"]["images"] == [3, 3]
    assert result["protocol"]["skipped_files"] == [str(b / "notes.jpg")]
    assert "notes.jpg" in captured.err
    assert result["fid"] > 0 and "(x - 128) / 128" in result["protocol"]["inception_input"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "name a run"),
        (["{tmp}/model", "--folders", "{tmp}", "{tmp}"], "name a run"),
        (["--folders", "{tmp}/nope", "{tmp}"], "nope is not a folder"),
        (["--folders", "{tmp}", "{tmp}"], "holds 0 readable image"),
    ],
)
def test_folders_errors_are_one_line(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [a.format(tmp=tmp_path) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
