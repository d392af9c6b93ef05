import re

import cv2
import numpy as np
import pytest
import torch

from translate.config import MAX_SEED
from translate.datasets.mnist import load_mnist
from translate.datasets.root import resolve_data_root
from translate.errors import DataError
from translate.modeling.checkpoint import read_checkpoint
from translate.train import main as train_main
from translate.training.data import (
    FolderSource,
    ImageFolder,
    TensorSource,
    derived_generator,
    epoch_order,
    read_image,
)

from .cli_errors import one_line_error
from .cyclegan_data import horse2zebra, horse_zebra_argv


def test_real_mnist_loads_from_the_idx_files(mnist_test, data_root):
    images, labels = mnist_test
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and set(labels.unique().tolist()) == set(range(10))
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test labels
    train_images, _ = load_mnist(data_root, "train")
    assert train_images.shape == (60000, 28, 28)


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSLATE_DATA", str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_data_root(None) == tmp_path / "env"
    monkeypatch.delenv("TRANSLATE_DATA")
    assert str(resolve_data_root(None)) == "data"


def test_missing_mnist_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mnist" / "MNIST" / "raw") in message and "--data" in message and "--download" in message
    assert "\n" not in message


@pytest.mark.parametrize("keep", [100, 2], ids=["cut short", "no header"])
def test_a_damaged_mnist_file_names_itself_and_the_fetch(tmp_path, data_root, keep):
    raw = tmp_path / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        [source] = [p for p in (data_root / "mnist" / "MNIST" / "raw").iterdir() if p.name.startswith(stem)]
        (raw / source.name).write_bytes(source.read_bytes())
    damaged = next(raw.glob("t10k-images-idx3-ubyte*"))
    damaged.write_bytes(damaged.read_bytes()[:keep])
    with pytest.raises(DataError, match=f"{re.escape(str(damaged))} is damaged or cut short .*: delete it, then "
                       f"python -m translate.data fetch mnist --data {re.escape(str(tmp_path))}"):
        load_mnist(tmp_path, "test")


def test_epoch_order_is_a_pure_function_of_seed_and_epoch():
    assert torch.equal(epoch_order(100, 3, 7), epoch_order(100, 3, 7))
    assert not torch.equal(epoch_order(100, 3, 7), epoch_order(100, 3, 8))
    assert sorted(epoch_order(100, 3, 7).tolist()) == list(range(100))
    assert sorted(epoch_order(100, MAX_SEED, 7).tolist()) == list(range(100))  # the largest --seed


def draws(stream: str, *keys: int) -> list[float]:
    return torch.rand(4, generator=derived_generator(stream, *keys)).tolist()


def test_derived_streams_are_pure_and_never_share_draws():
    assert draws("step", 5, 0, 1) == draws("step", 5, 0, 1)
    # SeedSequence pads with zeros: bare keys would let (seed, step, rank) draw what
    # (seed, step, rank, 0) does, and a step (seed, step, rank) what sample (seed, epoch, index) does.
    distinct = [("step", 5, 0), ("step", 5, 0, 0), ("sample", 5, 0), ("order", 5, 0), ("loader", 5, 0),
                ("step", 2**32, 1), ("step", 0, 2**32 + 1), ("step", -1, 0), ("step", 2**64 - 1, 1)]
    assert len({tuple(draws(*keys)) for keys in distinct}) == len(distinct)
    assert draws("step", -1) == draws("step", 2**64 - 1)  # keys are taken mod 2**64


def test_tensor_source_resumes_at_a_batch(mnist_test):
    images, labels = mnist_test
    source = TensorSource(images[:100].unsqueeze(1), labels[:100], batch_size=16, seed=1)
    assert source.steps_per_epoch == 6
    full = list(source.batches(epoch=2))
    tail = list(source.batches(epoch=2, start=4))
    assert len(full) == 6 and len(tail) == 2
    assert torch.equal(full[4][0], tail[0][0]) and torch.equal(full[5][1], tail[1][1])
    assert full[0][0].min() >= -1 and full[0][0].max() <= 1


def test_image_folder_reads_classes_and_skips_a_corrupt_file(digit_folder):
    (digit_folder / "3" / "broken.png").write_bytes(b"this is not a png")
    dataset = ImageFolder(digit_folder, 32, 1, class_folders=True)
    assert dataset.classes == [str(d) for d in range(10)] and len(dataset) == 41
    source = FolderSource(dataset, batch_size=41, seed=0, workers=0)
    with pytest.warns(UserWarning, match="broken.png"):
        [(images, labels)] = list(source.batches(0))
    assert images.shape == (40, 1, 32, 32)
    assert sorted(labels.tolist()) == sorted([d for d in range(10) for _ in range(4)])


def test_hidden_entries_are_not_data_and_linked_folders_are_followed_once(digit_folder, tmp_path):
    """What copying photos off a Mac, a notebook or a zip leaves beside them is not data; a class
    folder linked in from elsewhere is (once, even where a link points back up)."""
    seven = digit_folder / "7" / "7_1.png"
    (digit_folder / "7" / "._7_1.png").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # macOS resource fork
    for junk in (".ipynb_checkpoints", "__MACOSX"):
        (digit_folder / junk).mkdir()
        (digit_folder / junk / "7_1-checkpoint.png").write_bytes(seven.read_bytes())
    (digit_folder / "3" / ".hidden").mkdir()
    (digit_folder / "3" / ".hidden" / "3_9.png").write_bytes(seven.read_bytes())
    elsewhere = tmp_path / "more"
    (elsewhere / "deeper").mkdir(parents=True)
    (elsewhere / "deeper" / "3_5.png").write_bytes((digit_folder / "3" / "3_1.png").read_bytes())
    (elsewhere / "deeper" / "back").symlink_to(elsewhere)  # a loop
    (digit_folder / "3" / "linked").symlink_to(elsewhere)
    dataset = ImageFolder(digit_folder, 32, 1, class_folders=True)
    assert dataset.classes == [str(d) for d in range(10)]
    assert len(dataset) == 41
    assert [p.relative_to(digit_folder).as_posix() for p, label in dataset.items if label == 3][-1] == (
        "3/linked/deeper/3_5.png")


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ImageFolder(tmp_path / "nope", 28, 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images in"):
        ImageFolder(tmp_path / "empty", 28, 1)
    with pytest.raises(DataError, match="no class sub-folders"):
        ImageFolder(tmp_path / "empty", 28, 1, class_folders=True)


def test_read_image_converts_grey_alpha_and_16_bit(tmp_path):
    rgba = np.zeros((5, 3, 4), np.uint8)
    rgba[..., 2] = rgba[..., 3] = 255  # opaque red in OpenCV's BGRA order
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    rgb = read_image(tmp_path / "a.png", 3)
    assert rgb.shape == (5, 3, 3) and rgb[0, 0].tolist() == [255, 0, 0]
    cv2.imwrite(str(tmp_path / "g16.png"), np.full((4, 4), 65535, np.uint16))
    grey = read_image(tmp_path / "g16.png", 1)
    assert grey.shape == (4, 4, 1) and grey.dtype == np.uint8 and grey.max() == 255
    assert read_image(tmp_path / "g16.png", 3).shape == (4, 4, 3)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty.jpg: not a readable image"):
        read_image(tmp_path / "empty.jpg")


def test_a_folder_smaller_than_one_batch_is_one_line_naming_the_batch_size_to_pass(digit_folder, tmp_path, capsys):
    run = tmp_path / "run"
    error = one_line_error(capsys, train_main, "cdcgan", "--dataset", "folder", "--data", str(digit_folder),
                           "--image-size", "32", "--workers", "0", "--out", str(run))  # the default batch: 128
    assert error == ("error: the dataset has 40 images, fewer than one batch of 128: pass --batch-size 40 or less, "
                     "or add images")
    assert not (run / "checkpoints").exists()


def test_domains_smaller_than_one_step_name_the_batch_size_to_pass(tmp_path, capsys):
    data = horse2zebra(tmp_path / "data")  # 4 horses, 4 zebras: an epoch is the larger domain
    error = one_line_error(capsys, train_main, *horse_zebra_argv(data, "--out", str(tmp_path / "run"),
                                                                 "--batch-size", "9"))
    assert error == ("error: the data has 4 training examples, fewer than one step of 9 x 1 ranks: pass "
                     "--batch-size 4 or less, or add examples")


def test_resuming_a_cdcgan_on_other_class_folders_is_refused(digit_folder, tmp_path, capsys):
    run = tmp_path / "run"
    common = ["--dataset", "folder", "--data", str(digit_folder), "--image-size", "32", "--batch-size", "8",
              "--ngf", "8", "--ndf", "8", "--z-dim", "8", "--workers", "0", "--out", str(run)]
    train_main(["cdcgan", *common, "--max-steps", "1"])
    (digit_folder / "3").rename(digit_folder / "three")
    error = one_line_error(capsys, train_main, "cdcgan", *common, "--resume", "--max-steps", "2")
    classes = ["0", "1", "2", "4", "5", "6", "7", "8", "9", "three"]
    assert error == (f"error: the data's classes {classes} differ from the checkpoint's "
                     f"{[str(d) for d in range(10)]}: resume on the data the run trained on, or start a new run in "
                     "another --out")
    assert read_checkpoint(run).path.name == "step-00000001"
