"""Paired data: both layouts, partners matched by name, bad pairs named and skipped, one
augmentation for both halves, and pix2pix's datasets downloaded from a local server."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from translate.cli import run_cli
from translate.data import main as data_main
from translate.datasets.paired import Pair, find_paired, read_pair, read_pairs, resized_pairs, split_pairs
from translate.errors import DataError
from translate.io.download import PIX2PIX, download_pix2pix_dataset
from translate.io.fileio import write_image
from translate.modeling.pixels import to_unit
from translate.training.paired import PairedImages

from .cli_errors import one_line_error
from .local_server import serving


def _image(seed: int, height: int = 24, width: int = 24) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def side_by_side(folder: Path, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` side-by-side pairs whose B is A turned upside down; returns the A halves."""
    folder.mkdir(parents=True)
    halves = [_image(seed + i) for i in range(count)]
    for i, a in enumerate(halves):
        write_image(folder / f"{i:03d}.png", np.concatenate([a, a[::-1]], 1))
    return halves


def test_the_side_by_side_layout_splits_into_a_and_b(tmp_path):
    halves = side_by_side(tmp_path / "set" / "train", 3)
    side_by_side(tmp_path / "set" / "val", 2, seed=10)
    data = find_paired(tmp_path, "set")
    assert [p.name for p in data.train] == ["000", "001", "002"] and data.test_split == "val" and len(data.test) == 2
    a, b = read_pair(data.train[1])
    assert np.array_equal(a, halves[1]) and np.array_equal(b, halves[1][::-1])


def test_pairs_at_the_top_of_a_dataset_train_without_its_test_split(tmp_path):
    """No train/ folder: the side-by-side images at the top are the training pairs, and those of
    test/ (scored and shown) are not among them."""
    side_by_side(tmp_path / "set", 3)
    side_by_side(tmp_path / "set" / "test", 2, seed=10)
    data = find_paired(tmp_path, "set")
    assert [p.name for p in data.train] == ["000", "001", "002"]
    assert data.test_split == "test" and [p.name for p in data.test] == ["000", "001"]


def test_a_and_b_folders_pair_by_name_and_name_what_has_no_partner(tmp_path):
    root = tmp_path / "set"
    for side in "AB":
        (root / side).mkdir(parents=True)
    write_image(root / "A" / "one.png", _image(1))
    write_image(root / "B" / "one.jpg", _image(1))  # another extension: the same name
    write_image(root / "A" / "lonely.png", _image(2))
    write_image(root / "B" / "stray.png", _image(3))
    with pytest.warns(UserWarning) as caught:
        data = find_paired(tmp_path, "set")
    messages = " ".join(str(w.message) for w in caught)
    assert "lonely.png" in messages and "stray.png" in messages and "no file named" in messages
    assert [p.name for p in data.train] == ["one"] and data.test == [] and data.test_split is None


def test_an_odd_width_splits_as_the_reference_does_and_b_loses_its_last_column(tmp_path):
    a, b = _image(0, 24, 24), _image(1, 24, 24)
    write_image(tmp_path / "odd.png", np.concatenate([a, b, np.full((24, 1, 3), 7, np.uint8)], 1))
    read_a, read_b = read_pair(Pair("odd", (tmp_path / "odd.png",)))
    assert np.array_equal(read_a, a) and np.array_equal(read_b, b)


def test_files_of_two_sizes_are_refused_and_skipped_in_training(tmp_path):
    write_image(tmp_path / "a.png", _image(0, 24, 24))
    write_image(tmp_path / "b.png", _image(0, 24, 32))
    mixed = Pair("mixed", (tmp_path / "a.png", tmp_path / "b.png"))
    with pytest.raises(DataError, match="A is 24x24 but B 32x24"):
        read_pair(mixed)
    side_by_side(tmp_path / "good", 1)
    with pytest.warns(UserWarning, match="b.png"):
        a, b = PairedImages([mixed, *split_pairs(tmp_path / "good")], 24, 16, seed=0)[(0, 0)]
    assert a.shape == b.shape == (3, 16, 16)


def test_both_halves_get_the_same_crop_and_flip(tmp_path):
    root = tmp_path / "same"
    root.mkdir()
    image = _image(5, 32, 32)
    write_image(root / "x.png", np.concatenate([image, image], 1))
    dataset = PairedImages(split_pairs(root), 40, 24, seed=3)
    samples = [dataset[(epoch, 0)] for epoch in range(6)]
    assert all(torch.equal(a, b) for a, b in samples)
    assert len({a.sum().item() for a, _ in samples}) > 1  # the crops and flips differ between epochs
    assert all(torch.equal(x, y) for x, y in zip(samples[2], dataset[(2, 0)], strict=True))  # a pure function


def test_missing_or_empty_datasets_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"no paired dataset .*facades.*translate.pairs; or add --download"):
        find_paired(tmp_path, "facades")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no image pairs in"):
        find_paired(tmp_path, "empty")
    (tmp_path / "horse2zebra" / "trainA").mkdir(parents=True)
    with pytest.raises(DataError, match="holds unpaired domains"):
        find_paired(tmp_path, "horse2zebra")


def _tar(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def pix2pix_server(tmp_path, monkeypatch):
    """Serves tmp_path/site as the authors' server would serve NAME.tar.gz."""
    site = tmp_path / "site"
    site.mkdir()
    with serving(site) as port:
        monkeypatch.setenv(PIX2PIX.url_env, f"http://127.0.0.1:{port}/{{name}}.tar.gz")
        yield site


def test_download_fetches_a_pix2pix_dataset_and_finds_its_pairs(tmp_path, pix2pix_server):
    side_by_side(tmp_path / "made", 2)
    files = {f"facades/{split}/{i}.png": (tmp_path / "made" / f"00{i}.png").read_bytes()
             for split in ("train", "val", "test") for i in range(2)}
    (pix2pix_server / "facades.tar.gz").write_bytes(_tar(files))
    data = find_paired(tmp_path / "data", "facades", download=True)
    assert len(data.train) == 2 and data.test_split == "test"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["facades"]  # nothing temporary left
    assert read_pair(data.test[0])[0].shape == (24, 24, 3)


def test_translate_data_fetches_pix2pix_sets_and_the_paired_facades_when_asked(tmp_path, pix2pix_server, capsys):
    side_by_side(tmp_path / "made", 2)
    for name in ("edges2shoes", "facades"):
        files = {f"{name}/train/{i}.png": (tmp_path / "made" / f"00{i}.png").read_bytes() for i in range(2)}
        (pix2pix_server / f"{name}.tar.gz").write_bytes(_tar(files))
    data = tmp_path / "data"
    run_cli(data_main, ["fetch", "edges2shoes", "facades", "--paired", "--data", str(data)])
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{name}: {data / name}: ok (its folders; no published sums to check against)"
                   for name in ("edges2shoes", "facades")]
    assert len(find_paired(data, "facades").train) == len(find_paired(data, "edges2shoes").train) == 2
    # The same name without --paired is the CycleGAN paper's facades, which the folder is not.
    error = one_line_error(capsys, data_main, "fetch", "facades", "--data", str(data))
    assert error == (f"error: {data / 'facades'} holds pix2pix's paired facades (train/), not the CycleGAN paper's "
                     "unpaired one, which goes in the same place: move it away first, or fetch into another --data "
                     "(or add --paired if the paired one is what you want)")
    (data / "facades" / "train").rename(data / "facades" / "trainA")  # as if the unpaired one were there
    (data / "facades" / "trainB").mkdir()
    error = one_line_error(capsys, data_main, "fetch", "facades", "--paired", "--data", str(data))
    assert "holds the CycleGAN paper's unpaired facades (trainA, trainB), not the paired one" in error


def test_archives_with_links_or_without_train_are_refused(tmp_path, pix2pix_server):
    (pix2pix_server / "maps.tar.gz").write_bytes(_tar({"maps/train/1.png": b"x"}, links=("maps/train/evil",)))
    with pytest.raises(DataError, match="a link or special file: not unpacked"):
        download_pix2pix_dataset("maps", tmp_path / "data")
    (pix2pix_server / "maps.tar.gz").write_bytes(_tar({"maps/val/1.png": b"x"}))
    with pytest.raises(DataError, match="has no maps/train: not a pix2pix dataset"):
        download_pix2pix_dataset("maps", tmp_path / "data")
    (pix2pix_server / "maps.tar.gz").write_bytes(b"<html>maintenance</html>")
    with pytest.raises(DataError, match="did not give a tar.gz archive"):
        download_pix2pix_dataset("maps", tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_cityscapes_is_refused_with_where_to_get_it(tmp_path):
    with pytest.raises(DataError, match=r"cityscapes cannot be downloaded: .*cityscapes-dataset.com"):
        download_pix2pix_dataset("cityscapes", tmp_path)


def test_reverse_puts_b_first_and_the_grid_rows_are_resized_pairs(tmp_path):
    halves = side_by_side(tmp_path / "set", 3)
    (tmp_path / "set" / "001.png").write_bytes(b"broken")
    pairs = split_pairs(tmp_path / "set")
    a, b = PairedImages(pairs, 24, 24, seed=0)[(0, 0)]
    b_first, a_second = PairedImages(pairs, 24, 24, seed=0, reverse=True)[(0, 0)]
    assert torch.equal(a, a_second) and torch.equal(b, b_first)
    with pytest.warns(UserWarning, match="001.png"):
        inputs, targets = read_pairs(pairs, reverse=True)
    assert len(inputs) == 2 and np.array_equal(targets[1], halves[2])
    with pytest.warns(UserWarning, match="001.png"):
        grid_a, grid_b = resized_pairs(pairs, 2, 12, channels=1)
    assert grid_a.shape == grid_b.shape == (2, 1, 12, 12) and grid_a.abs().max() <= 1
    # At the training crops' scale: the central 12 px of the 24-px halves, pixel for pixel.
    with pytest.warns(UserWarning, match="001.png"):
        crop_a, _ = resized_pairs(pairs, 2, 12, load_size=24)
    assert torch.equal(crop_a[0], to_unit(halves[0][6:18, 6:18])[0])
