"""The corpus of awkward image files (tests/bad_images.py) through every place images
enter: the GAN image folder, CycleGAN's domain folders, a training run, translate.apply
and the ONNX Runtime Translator. Good files come out upright and RGB; bad ones are named
and skipped (datasets, apply) or refused with our own error (library calls)."""

import warnings

import numpy as np
import pytest
import torch

from translate.apply import OUTPUT_MARKER
from translate.apply import main as apply_main
from translate.cli import run_cli
from translate.datasets.domains import domain_files
from translate.errors import TranslateError
from translate.io.images import read_image
from translate.runtime import Translator
from translate.train import main as train_main
from translate.training.data import FolderSource, ImageFolder
from translate.training.domains import UnpairedImages

from .bad_images import write_corpus
from .training_runs import recorded


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("corpus") / "uploads"
    photo = sorted((data_root / "horse2zebra" / "testA").iterdir())[0]
    cases = write_corpus(folder, photo)
    return folder, {c.name for c in cases if c.refusal}, {c.name: c for c in cases}


def _warned_names(caught, names):
    text = "\n".join(str(w.message) for w in caught)
    return {name for name in names if name in text}


def test_image_folder_yields_the_good_files_and_names_the_bad(corpus):
    folder, bad, cases = corpus
    dataset = ImageFolder(folder, 28, 3)
    assert len(dataset) == len(cases)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = {path.name: dataset[i] for i, (path, _) in enumerate(dataset.items)}
    assert {name for name, item in items.items() if item is None} == bad
    assert _warned_names(caught, cases) == bad
    assert all(item[0].shape == (28, 28, 3) and item[0].dtype == torch.uint8 for item in items.values() if item)
    # The batches hold exactly the good images.
    source = FolderSource(dataset, batch_size=len(cases), seed=0, workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        [(images, _)] = list(source.batches(0))
    assert len(images) == len(cases) - len(bad)


def test_cyclegan_domains_replace_bad_files_by_good_ones(corpus):
    folder, bad, cases = corpus
    files = domain_files(folder)
    dataset = UnpairedImages(files, files, load_size=36, crop_size=32, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = [dataset[(0, i)] for i in range(len(dataset))]
    assert all(a.shape == b.shape == (3, 32, 32) and torch.isfinite(a).all() for a, b in pairs)
    assert _warned_names(caught, cases) == bad


def test_a_dcgan_trains_on_the_good_files_of_a_messy_folder(corpus, tmp_path):
    folder, bad, cases = corpus
    run = tmp_path / "run"
    argv = ["dcgan", "--dataset", "folder", "--data", str(folder), "--out", str(run), "--workers", "0",
            "--ngf", "8", "--ndf", "8", "--z-dim", "16", "--batch-size", "4", "--epochs", "2"]
    with pytest.warns(UserWarning) as caught:
        run_cli(train_main, argv)
    assert _warned_names(caught, cases) == bad
    records = recorded(run)
    assert [r["epoch"] for r in records] == [1, 2]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records)


def test_apply_translates_the_good_files_upright_and_names_the_bad(corpus, translator_file, tmp_path, capsys):
    folder, bad, cases = corpus
    out = tmp_path / "out"
    run_cli(apply_main, [str(translator_file[0]), "--input", str(folder), "--output", str(out)])
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir() if p.name != OUTPUT_MARKER) == sorted(set(cases) - bad)
    for name in set(cases) - bad:
        assert read_image(out / name).shape == cases[name].expected.shape, name
    assert all(f"{folder / name}: " in captured.err for name in bad)
    assert f"translated {len(cases) - len(bad)} image(s) horse -> zebra" in captured.out
    assert f"skipped {len(bad)} file(s), named above" in captured.out


def test_translator_files_come_out_upright_or_raise_our_error_naming_the_file(corpus, translator_file):
    folder, bad, cases = corpus
    translator = Translator(translator_file[1])
    for name, case in cases.items():
        if name in bad:
            with pytest.raises(TranslateError, match=case.refusal) as info:
                translator.translate_file(folder / name)
            assert str(folder / name) in str(info.value)
        else:
            translated = translator.translate_file(folder / name)
            assert translated.shape == case.expected.shape and translated.dtype == np.uint8, name
