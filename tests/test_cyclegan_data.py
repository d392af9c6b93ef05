"""Unpaired A/B data: the folder layouts, the seeded augmentation, sharding and bad input."""

import shutil

import cv2
import numpy as np
import pytest
import torch

from tests.cyclegan_data import GREY_ZEBRA, horse2zebra
from translate.datasets.domains import domain_files, find_domains, fixed_images
from translate.errors import ConfigError, DataError
from translate.io.images import list_images, read_image, resize_square
from translate.modeling.pixels import to_unit
from translate.training.data import ImageFolder
from translate.training.domains import UnpairedImages, UnpairedSource, augmented


@pytest.fixture
def data(tmp_path):
    return horse2zebra(tmp_path)


def _dataset(data, load=40, crop=32, seed=0):
    folders = find_domains(data, "horse", "zebra")
    return UnpairedImages(domain_files(folders.train_a), domain_files(folders.train_b), load, crop, seed)


def test_both_layouts_are_found(data, tmp_path):
    folders = find_domains(data, "horse", "zebra")
    assert folders.train_a == data / "horse2zebra" / "trainA" and folders.test_b == data / "horse2zebra" / "testB"
    flat = tmp_path / "flat"
    shutil.copytree(folders.train_a, flat / "horse")
    shutil.copytree(folders.train_b, flat / "zebra")
    folders = find_domains(flat, "horse", "zebra")
    assert (folders.train_a, folders.train_b, folders.test_a) == (flat / "horse", flat / "zebra", None)


def test_missing_domain_folders_name_both_layouts_and_the_fix(tmp_path):
    with pytest.raises(DataError) as info:
        find_domains(tmp_path, "apple", "orange")
    message = str(info.value)
    assert str(tmp_path / "apple2orange") in message and str(tmp_path / "apple") in message
    assert "--data" in message and "\n" not in message


def test_a_domain_without_readable_images_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images in"):
        domain_files(tmp_path / "empty")
    (tmp_path / "broken").mkdir()
    for name in ("a.jpg", "b.png"):
        (tmp_path / "broken" / name).write_bytes(b"not an image")
    with pytest.raises(DataError, match="none of the 2 image files in .*broken could be decoded"):
        domain_files(tmp_path / "broken")


def test_a_crop_larger_than_the_image_is_refused(data):
    with pytest.raises(ConfigError, match="--crop-size 64 is larger than .*--load-size 48"):
        _dataset(data, load=48, crop=64)


def test_samples_are_a_pure_function_of_seed_epoch_and_index(data):
    dataset = _dataset(data)
    assert len(dataset) == 4  # max(4 horses, 4 zebras)
    a, b = dataset[(3, 2)]
    assert a.shape == b.shape == (3, 32, 32) and a.min() >= -1 and a.max() <= 1
    again = _dataset(data)[(3, 2)]
    assert torch.equal(a, again[0]) and torch.equal(b, again[1])
    others = [dataset[(e, 2)][0] for e in range(4, 12)]  # other epochs: other crops / flips of horse 2
    assert any(not torch.equal(a, o) for o in others)
    assert not torch.equal(b, _dataset(data, seed=1)[(3, 2)][1])


def test_greyscale_files_become_three_channels(data):
    folders = find_domains(data, "horse", "zebra")
    grey = UnpairedImages([folders.train_b / GREY_ZEBRA], [folders.train_b / GREY_ZEBRA], 32, 32, 0)[(0, 0)][0]
    assert grey.shape == (3, 32, 32) and torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])


def test_a_corrupt_file_is_named_and_replaced_so_batches_keep_their_size(data):
    (data / "horse2zebra" / "trainA" / "0-corrupt.jpg").write_bytes(b"\xff\xd8 truncated")
    dataset = _dataset(data)
    source = UnpairedSource(dataset, batch_size=5, seed=0, workers=0)
    with pytest.warns(UserWarning, match="0-corrupt.jpg: not a readable image"):
        [(a, b)] = list(source.batches(0))
    assert a.shape == b.shape == (5, 3, 32, 32)


def test_a_domain_whose_every_file_was_damaged_during_the_run_is_one_error(data):
    dataset = _dataset(data)
    for path in (data / "horse2zebra" / "trainA").iterdir():  # damaged after the run found them
        path.write_bytes(b"\xff\xd8 truncated")
    with pytest.warns(UserWarning, match="skipping"), pytest.raises(
            DataError, match=r"none of the \d+ images of a domain could be read any more: check the data"):
        dataset[0, 0]


def test_loader_workers_and_resume_position_do_not_change_the_batches(data):
    dataset = _dataset(data)
    serial = list(UnpairedSource(dataset, 1, seed=3, workers=0).batches(2))
    parallel = list(UnpairedSource(dataset, 1, seed=3, workers=2).batches(2, start=1))
    assert len(serial) == 4 and len(parallel) == 3
    assert all(torch.equal(s[0], p[0]) and torch.equal(s[1], p[1]) for s, p in zip(serial[1:], parallel, strict=True))


def test_starting_a_loader_leaves_the_global_rng_alone(data):
    """A resumed run starts its loader mid-epoch; a draw from torch's global RNG there would
    shift every later random draw of its steps (dropout) away from a straight run's."""
    torch.manual_seed(0)
    before = torch.get_rng_state()
    for start in (0, 2):
        next(UnpairedSource(_dataset(data), 1, seed=3, workers=0).batches(1, start=start))
    assert torch.equal(torch.get_rng_state(), before)


def test_ranks_get_disjoint_shares_of_each_step(data):
    dataset = _dataset(data)
    whole = list(UnpairedSource(dataset, 2, seed=0, workers=0).batches(0))
    ranks = [list(UnpairedSource(dataset, 1, seed=0, workers=0, rank=r, world_size=2).batches(0)) for r in (0, 1)]
    assert len(whole) == len(ranks[0]) == len(ranks[1]) == 2
    for step, (a, _) in enumerate(whole):
        assert torch.equal(a, torch.cat([ranks[0][step][0], ranks[1][step][0]]))


def test_fixed_images_are_the_first_readable_test_images(data):
    images = fixed_images(data / "horse2zebra" / "testA", 4, 24)
    assert images.shape == (2, 3, 24, 24)  # only two test horses in the copy


def test_the_grid_shows_test_photos_at_the_scale_training_crops_them(data):
    """A model trained on 24-px crops of photos loaded at 48 px sees a horse at half the photo's
    width: its grid cells are the photos' central 24 px at 48, not the whole photo shrunk to 24."""
    folder = data / "horse2zebra" / "testA"
    cells = fixed_images(folder, 2, 24, load_size=48)
    first = read_image(list_images(folder)[0])
    assert torch.equal(cells[0], to_unit(resize_square(first, 48)[12:36, 12:36])[0])
    assert not torch.equal(cells[0], fixed_images(folder, 2, 24)[0])


def test_a_photo_larger_than_the_load_size_is_shrunk_without_aliasing(tmp_path):
    """One-pixel black and white stripes (a fence, a zebra far away) average to mid grey when a
    photo is shrunk; resampled point by point they come out as coarse false stripes (moiré)."""
    stripes = np.zeros((1000, 1000, 3), np.uint8)
    stripes[:, ::2] = 255
    [training] = augmented((stripes,), 286, 256, [0.5, 0.5, 0.9])
    # In [-1, 1], grey is 0. Area averaging by a factor of 3.5 leaves a faint beat (std 0.12,
    # 15 grey levels); bicubic alone left std 0.75 (96 grey levels).
    assert abs(training.mean().item()) < 0.05 and training.std().item() < 0.2
    # A panorama, wider and lower than the load size: its rows grow (bicubic: no row repeated,
    # as area averaging would repeat them) while its columns shrink (averaged: the stripes go).
    panorama = np.random.default_rng(0).integers(0, 256, (100, 1000, 3), dtype=np.uint8)
    panorama[:, ::2] = 255
    [wide] = augmented((panorama,), 286, 286, [0.0, 0.0, 0.9])
    assert not (wide[:, 1:] == wide[:, :-1]).all(dim=(0, 2)).any()  # C x H x W: no two neighbouring rows alike
    (tmp_path / "fence").mkdir()
    cv2.imwrite(str(tmp_path / "fence" / "fence.png"), stripes)
    digit, _ = ImageFolder(tmp_path / "fence", 28, 1)[0]  # uint8 pixels
    assert digit.float().std().item() < 0.2 * 127.5
