import cv2
import numpy as np
import pytest
import torch

from translate.cli import run_cli
from translate.evaluation.judge import conditional_accuracy, load_classifier
from translate.families.dcgan.family import generate
from translate.families.dcgan.nets import DCGANConfig, Discriminator, Generator
from translate.io.grids import titled
from translate.io.images import read_image
from translate.modeling.pixels import to_unit
from translate.sample import main as sample_main
from translate.training.checkpoint import save_checkpoint

from .conftest import REPO
from .exporting import trained_run


def _run(tmp_path, n_classes):
    config = DCGANConfig(z_dim=8, n_classes=n_classes, ngf=8, ndf=8)
    family = "cdcgan" if n_classes else "dcgan"
    modules = {"generator": Generator(config), "discriminator": Discriminator(config)}
    save_checkpoint(tmp_path / family, 1, family, config.to_dict(), {}, modules, {})
    return tmp_path / family


def test_sample_writes_a_grid_of_the_asked_label(tmp_path):
    out = tmp_path / "grid.png"
    run_cli(sample_main, [str(REPO / "models" / "cdcgan-mnist"), "--n", "16", "--label", "7", "--seed", "3",
                          "--out", str(out)])
    grid = cv2.imread(str(out))
    assert grid.shape == (2 + 4 * 30, 2 + 4 * 30, 3)  # 4 x 4 tiles of 28 px with 2 px padding
    cells = np.stack([grid[2 + r * 30 : 30 + r * 30, 2 + c * 30 : 30 + c * 30, :1] for r in range(4) for c in range(4)])
    judge = load_classifier()  # the shipped cDCGAN's sevens read as sevens
    assert conditional_accuracy(judge, to_unit(cells), torch.full((16,), 7)) >= 0.9


def test_generate_is_seeded_and_cycles_classes(tmp_path):
    run = _run(tmp_path, 10)
    from translate.families import load_generator

    generator, config = load_generator(run)
    a = generate(generator, config, 12, seed=1)
    assert torch.equal(a, generate(generator, config, 12, seed=1))
    assert not torch.equal(a, generate(generator, config, 12, seed=2))
    assert a.shape == (12, 1, 28, 28)
    # Without --label the classes come in turn (0, 1, 2, ...) over the same seeded noise.
    zeros = generate(generator, config, 12, label=0, seed=1)
    assert torch.equal(a[0], zeros[0]) and torch.equal(a[10], zeros[10])
    assert not torch.equal(a[1], zeros[1])


@pytest.mark.parametrize(("n_classes", "argv", "message"), [
    (0, ["--label", "3"], "needs a conditional"),
    (10, ["--label", "10"], "out of range"),
    (10, ["--n", "0"], "at least 1"),
    (10, ["--n", "10001"], "10000 at most"),
    # 100 x 100 digits (3,002 px square) at --scale 16 would take 6.9 GB; 5 is the largest scale that fits
    (0, ["--n", "10000", "--scale", "16"], "48,032 x 48,032 px picture, more than 256 million pixels: use --scale 5"),
    (10, ["--interpolate-labels", "0", "9", "--n", "10", "--steps", "1000", "--scale", "9"], "use --scale 5 or fewer"),
    # An animation holds all its frames: 1000 frames of 10 walks, 32 x 302 px each unscaled
    (10, ["--interpolate-labels", "0", "9", "--n", "10", "--steps", "1000", "--scale", "16", "--out", "w.gif"],
     "1,000 frames of 512 x 4,832 px, more than 256 million pixels: use --scale 5 or fewer"),
])
def test_sample_errors(tmp_path, capsys, n_classes, argv, message):
    run = _run(tmp_path, n_classes)
    with pytest.raises(SystemExit):
        run_cli(sample_main, [str(run), "--out", str(tmp_path / "g.png"), *argv])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


TITLES = 23  # the strip of column titles over a translation grid of 256-px cells


def _cell(grid, row, column, side=256):
    top, left = TITLES + 2 + row * (side + 2), 2 + column * (side + 2)
    return grid[top : top + side, left : left + side]


def test_a_cyclegan_grid_shows_test_photos_their_translations_and_round_trips(tmp_path):
    run = trained_run(tmp_path, "cyclegan", steps=1)
    data = tmp_path / "data"
    out = tmp_path / "grid.png"
    run_cli(sample_main, [str(run), "--n", "2", "--seed", "5", "--data", str(data), "--out", str(out)])
    grid = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert grid.shape == (TITLES + 2 + 2 * 258, 2 + 6 * 258, 3)  # 2 rows of A, G(A), F(G(A)), B, F(B), G(F(B))
    # Each column is titled ("test horse", "as zebra", "back to horse", ...): ink over each, in the strip.
    assert all(grid[:TITLES, 2 + c * 258 : (c + 1) * 258].max() > 200 for c in range(6))
    expected = titled(np.zeros((2 + 258, 2 + 6 * 258, 3), np.uint8), ["test horse", "as zebra", "back to horse",
                                                                       "test zebra", "as horse", "back to zebra"], 256)
    assert (grid[:TITLES] == expected[:TITLES]).all()
    for column, split in ((0, "testA"), (3, "testB")):  # the 256-px test photos, as they are on disk
        photos = [read_image(f) for f in sorted((data / "horse2zebra" / split).iterdir())]
        shown = [_cell(grid, row, column) for row in range(2)]
        assert sorted(next(i for i, p in enumerate(photos) if np.array_equal(p, s)) for s in shown) == [0, 1]
        assert all(np.abs(_cell(grid, row, column + 1).astype(int) - shown[row]).mean() > 1 for row in range(2))
    # Laid out another way (--nrow), the columns mix: no titles then.
    run_cli(sample_main, [str(run), "--n", "2", "--seed", "5", "--data", str(data), "--nrow", "4", "--out", str(out)])
    assert cv2.imread(str(out)).shape == (2 + 3 * 258, 2 + 4 * 258, 3)


@pytest.mark.parametrize(("argv", "message"), [
    (["--label", "1"], "--label applies to conditional digit models"),
    (["--n", "3"], "more rows than the 2 images of"),
    (["--seed", "-1"], "--seed must lie in 0.."),
])
def test_cyclegan_grid_errors(tmp_path, capsys, argv, message):
    run = trained_run(tmp_path, "cyclegan", steps=1)
    with pytest.raises(SystemExit):
        run_cli(sample_main, [str(run), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "g.png"), *argv])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
